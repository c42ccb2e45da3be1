/**
 * `replicant dev`: the embedded default. Origin, one fanout replica and the gateway in one
 * process on one port, over the file stream log and file snapshots: no Kafka, no Redis.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileLog, FileSnapshotStore } from '@replicant/stream';
import { Origin, PresenceAggregator, registerOriginHttp, registerServerApi, RevocationView } from '@replicant/origin';
import { HistoryBudget, Replica } from '@replicant/fanout';
import { Gateway } from '@replicant/gateway';
import type { Config } from './config.js';
import { startIngest } from './cluster.js';
import { registerAdmin } from './admin.js';
import { registerConsole } from './console.js';
import { DEMO_PAGE } from './demo-page.js';
import { listen, listenAdmin, onShutdown } from './server.js';
import { httpAuthenticator, isTls, makeApp, warnIfOpen } from './security.js';
import { gatewayOptions } from './gateway-options.js';

/** the browser bundle of @replicant/sdk built by scripts/bundle-sdk.mjs */
function loadBrowserSdk(): Buffer | undefined {
  try {
    return readFileSync(new URL('../../../sdk/dist/browser/replicant-sdk.js', import.meta.url));
  } catch {
    return undefined;
  }
}

export interface DevServer {
  port: number;
  gateway: Gateway;
  origin: Origin;
  replica: Replica;
  stop(): Promise<void>;
}

export async function startDev(cfg: Config): Promise<DevServer> {
  const store = await FileSnapshotStore.open({ dir: cfg.dataDir });
  const retained = cfg.logRetentionBytes > 0 || cfg.logRetentionMs > 0;
  const log = await FileLog.open({
    dir: join(cfg.dataDir, 'log'),
    partitions: cfg.partitions,
    segmentBytes: cfg.logSegmentBytes,
    // never past the offset every snapshot covers: what a restart replays from
    retention: retained ? { bytes: cfg.logRetentionBytes, ms: cfg.logRetentionMs, safeBefore: (p) => store.covered(p) } : undefined,
  });
  const origin = await Origin.start({
    log,
    store,
    checkpointIntervalMs: cfg.checkpointIntervalMs,
    maxInflightWrites: cfg.maxInflightWrites,
    readBarrierTimeoutMs: cfg.readBarrierTimeoutMs,
    maxDocBytes: cfg.maxDocBytes,
  });
  // one history budget for the process: the replica's rings and the gateway's draw on it together
  const historyBudget = new HistoryBudget(cfg.historyBudgetBytes);
  const replica = await Replica.start({ log, store, historySize: cfg.historySize, historyBytes: cfg.historyBytes, historyBudget });
  // presence: the in-process gateway reports straight to origin's aggregator; both restart together, so no warm-up
  const presence = new PresenceAggregator(origin, { maxUsers: cfg.presenceMaxUsers, intervalMs: cfg.presenceIntervalMs, ttlMs: cfg.presenceTtlMs, warmupMs: 0 });
  const gateway = new Gateway({
    upstream: replica,
    writer: origin,
    ...gatewayOptions(cfg, historyBudget, presence),
  });

  let draining = false;
  const hooks = { ready: () => !draining && gateway.control.ready, beforeScrape: () => gateway.collectMetrics() };
  const app = makeApp(cfg);
  const revocations = new RevocationView(origin);
  registerOriginHttp(app, origin, { maxBodyBytes: cfg.maxBodyBytes, auth: httpAuthenticator(cfg), revoked: (p) => revocations.isRevoked(p), views: cfg.viewsFile });
  // the server API; its connection index is the in-process gateway's
  registerServerApi(app, origin, { auth: httpAuthenticator(cfg), revocations, directory: { list: async (q) => gateway.connections.list(q) } });
  gateway.attach(app);
  registerAdmin(app, hooks);
  // the console on the single port (and on ADMIN_PORT): this process is the whole cluster; the
  // console reaches origin's routes over HTTP at its own address, known once listening
  let selfUrl = '';
  const devStats = (doc?: string) => ({
    node: cfg.nodeId,
    role: 'dev',
    connections: gateway.connectionCount,
    docs: gateway.fanout.docCount,
    deliveries: gateway.fanout.deliveries,
    ...(doc === undefined ? {} : { subscribers: gateway.fanout.subscriberCount(doc) }),
  });
  const consoleOpts = {
    auth: httpAuthenticator(cfg),
    source: {
      nodes: async () => [{ id: cfg.nodeId, role: 'dev' as const, admin: selfUrl, public: selfUrl }],
      self: { id: cfg.nodeId, stats: devStats, ready: hooks.ready },
    },
  };
  registerConsole(app, consoleOpts);
  app.get('/', (res) => {
    res.writeHeader('Content-Type', 'text/html; charset=utf-8').end(DEMO_PAGE);
  });
  const sdk = loadBrowserSdk();
  app.get('/sdk.js', (res) => {
    // public bundle: pages served from elsewhere (examples/browser) may import it as a module
    if (sdk) res.writeHeader('Content-Type', 'text/javascript; charset=utf-8').writeHeader('Cache-Control', 'no-cache').writeHeader('Access-Control-Allow-Origin', '*').end(sdk);
    else res.writeStatus('404 Not Found').end('browser SDK bundle missing: run `npm run build`');
  });
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json').end('{"error":{"code":"not_found","message":"no such route"}}');
  });
  const main = await listen(app, cfg.host, cfg.port);
  selfUrl = `${isTls(cfg) ? 'https' : 'http'}://${cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host}:${main.port}`;
  const admin = await listenAdmin(cfg.host, cfg.adminPort, hooks, (a) => registerConsole(a, consoleOpts));
  // INGEST_TOPICS with INGEST_BROKERS: a live view of an existing Kafka topic, in the embedded log
  const ingest = startIngest(cfg, origin);

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      draining = true;
      await gateway.drain();
      presence.close();
      main.close();
      admin?.close();
      await ingest?.close();
      // Origin drains in-flight writes (each already fsynced before its ack) and checkpoints.
      await origin.close();
      await replica.close();
      await log.close();
      await store.close();
    })());
  return { port: main.port, gateway, origin, replica, stop };
}

export async function runDev(cfg: Config): Promise<void> {
  const dev = await startDev(cfg);
  const tls = isTls(cfg);
  const url = `${tls ? 'https' : 'http'}://${cfg.host}:${dev.port}`;
  warnIfOpen(cfg);
  console.log(`replicant dev ready on ${url} (WebSocket ${tls ? 'wss' : 'ws'}://${cfg.host}:${dev.port}/v1/stream, demo ${url}/, data ${cfg.dataDir})`);
  onShutdown(async (signal) => {
    console.log(`replicant dev: ${signal}, draining`);
    await dev.stop();
    console.log('replicant dev: stopped');
  });
}
