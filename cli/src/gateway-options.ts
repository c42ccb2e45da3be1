/** The gateway's settings from the config table: one mapping for `dev` and `gateway`. */
import type { GatewayOptions, PresenceSink } from '@replicant/gateway';
import { HistoryBudget } from '@replicant/fanout';
import type { Config } from './config.js';
import { authConfig } from './security.js';

export function gatewayOptions(cfg: Config, historyBudget?: HistoryBudget, presenceSink?: PresenceSink): Omit<GatewayOptions, 'upstream' | 'writer'> {
  return {
    presence: presenceSink ? { sink: presenceSink, intervalMs: cfg.presenceIntervalMs, ttlMs: cfg.presenceTtlMs } : undefined,
    auth: authConfig(cfg),
    refreshGraceMs: cfg.authRefreshGraceMs,
    publishRate: cfg.clientPublishRate,
    maxFrameBytes: cfg.maxFrameBytes,
    maxSendBuffer: cfg.maxSendBuffer,
    slowConsumerTimeoutMs: cfg.slowConsumerTimeoutMs,
    coalesce: cfg.fanoutCoalesce,
    hotFlushMs: cfg.hotDocFlushMs,
    hotFlushRate: cfg.hotDocFlushRate,
    admissionRate: cfg.admissionRate,
    admissionBurst: cfg.admissionBurst,
    drainSpreadMs: cfg.drainSpreadMs,
    drainGraceMs: cfg.drainGraceMs,
    maxSubscriptions: cfg.maxSubscriptions,
    historySize: cfg.historySize,
    historyBytes: cfg.historyBytes,
    // one budget per process: `dev` shares the replica's
    historyBudget: historyBudget ?? new HistoryBudget(cfg.historyBudgetBytes),
    nodeId: cfg.nodeId,
    views: cfg.viewsFile,
  };
}
