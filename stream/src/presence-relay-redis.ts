/**
 * One presence aggregator for a cluster of several origins (docs/presence-and-server-api.md,
 * "Presence"). Gateways report to whichever origin ORIGIN_URL reaches; the aggregate must be
 * summed in one place, so the origins elect a **leader** with a Redis lease and every report
 * reaches it:
 * - Lease: `SET <ns>:presence:leader <origin>:<epoch> NX PX leaseMs`, renewed every leaseMs / 3
 *   by a compare-and-extend script. The holder runs the aggregator (`lead(epoch)`); it stops
 *   writing as soon as its lease may have passed (`leaseValid`), and drops it when a renewal fails.
 *   A new leader starts empty with a new epoch, which gateways see in the answer to their next
 *   report (`boot`) and answer with a full report: the aggregate is rebuilt within PRESENCE_TTL_MS / 3.
 * - Relay: an origin that is not the leader publishes the report on `<ns>:presence:reports` and
 *   answers the gateway only once the leader acknowledged it on `<ns>:presence:acks:<origin>`
 *   (else 503 after relayTimeoutMs). A gateway sends its next report only after the answer, so
 *   the leader applies one gateway's reports in order whichever origins they passed through.
 * Bounds: at most MAX_RELAYING relayed reports awaiting their ack per origin (more are refused at
 * once); a report body is bounded by the HTTP route (8 MiB).
 */
import { randomUUID } from 'node:crypto';
import type { PresenceAck, PresenceReport } from '@replicant/protocol';
import { createRedisClient, type RedisClient, type RedisTarget } from './redis.js';

export interface PresenceLeaderHandle {
  report(r: PresenceReport): PresenceAck;
  close(): void;
}

export interface RedisPresenceRelayOptions {
  url: string;
  /** TLS CA, Sentinel or Cluster (redis.ts): the one way Replicant reaches Redis */
  target?: Omit<RedisTarget, 'url'>;
  /** key namespace (the topic), so clusters sharing a Redis stay apart */
  namespace: string;
  /** this origin (NODE_ID; unique per origin) */
  originId: string;
  /** the leader lease (default 3000 ms) */
  leaseMs?: number;
  /** a relayed report not acknowledged in this time fails (default 5000 ms) */
  relayTimeoutMs?: number;
  /** this origin became the leader: start aggregating (write only while `leaseValid()`) */
  lead(epoch: string, leaseValid: () => boolean): PresenceLeaderHandle;
}

export const MAX_RELAYING = 1024;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

export class RedisPresenceRelay {
  private readonly cmd: RedisClient;
  private readonly sub: RedisClient;
  private readonly key: string;
  private readonly reportsChannel: string;
  private readonly acksChannel: string;
  private readonly leaseMs: number;
  private readonly relayTimeoutMs: number;
  private leader: { value: string; epoch: string; handle: PresenceLeaderHandle; until: number } | undefined;
  private readonly pending = new Map<string, { resolve: (a: PresenceAck) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly opts: RedisPresenceRelayOptions) {
    const target = { ...opts.target, url: opts.url };
    this.cmd = createRedisClient(target, { maxRetriesPerRequest: 1, commandTimeout: 5_000, maxReconnectDelayMs: 2_000 });
    this.sub = createRedisClient(target, { maxRetriesPerRequest: 1, maxReconnectDelayMs: 2_000 });
    this.cmd.on('error', () => {}); // reported by the failing command
    this.sub.on('error', () => {});
    const ns = `{replicant:presence:${opts.namespace}}`;
    this.key = `${ns}:leader`;
    this.reportsChannel = `${ns}:reports`;
    this.acksChannel = `${ns}:acks:${opts.originId}`;
    this.leaseMs = opts.leaseMs ?? 3000;
    this.relayTimeoutMs = opts.relayTimeoutMs ?? 5000;
  }

  static async open(opts: RedisPresenceRelayOptions): Promise<RedisPresenceRelay> {
    const r = new RedisPresenceRelay(opts);
    r.sub.on('message', (channel: string, message: string) => r.onMessage(channel, message));
    // never throws: the channels are subscribed at every (re)connect, and a failed campaign is retried
    const subscribe = () => r.sub.subscribe(r.reportsChannel, r.acksChannel).catch(() => {});
    r.sub.on('ready', () => void subscribe());
    await subscribe();
    await r.campaign();
    r.timer = setInterval(() => void r.campaign(), Math.max(50, Math.floor(r.leaseMs / 3)));
    r.timer.unref?.();
    return r;
  }

  /** is this origin the leader now (tests, stats) */
  get leading(): boolean {
    return this.leader !== undefined && Date.now() < this.leader.until;
  }

  private async campaign(): Promise<void> {
    if (this.closed) return;
    const t0 = Date.now();
    try {
      if (this.leader) {
        const ok = await this.cmd.eval(RENEW, 1, this.key, this.leader.value, String(this.leaseMs));
        if (ok === 1) this.leader.until = t0 + this.leaseMs;
        else this.resign();
        return;
      }
      const epoch = randomUUID();
      const value = `${this.opts.originId}:${epoch}`;
      if ((await this.cmd.set(this.key, value, 'PX', this.leaseMs, 'NX')) !== 'OK' || this.closed) return;
      const l = { value, epoch, handle: undefined as unknown as PresenceLeaderHandle, until: t0 + this.leaseMs };
      l.handle = this.opts.lead(epoch, () => this.leader === l && Date.now() < l.until);
      this.leader = l;
    } catch {
      // Redis unreachable: a leader keeps writing only until its lease runs out (leaseValid)
      if (this.leader && Date.now() >= this.leader.until) this.resign();
    }
  }

  private resign(): void {
    this.leader?.handle.close();
    this.leader = undefined;
  }

  /** a gateway's report: applied here when leading, else relayed to the leader */
  async report(r: PresenceReport): Promise<PresenceAck> {
    const l = this.leader;
    if (l && Date.now() < l.until) return l.handle.report(r);
    if (this.pending.size >= MAX_RELAYING) throw new Error('too many presence reports awaiting the leader');
    const id = `${this.opts.originId}:${++this.next}`;
    return new Promise<PresenceAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('no presence leader acknowledged the report'));
      }, this.relayTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.cmd.publish(this.reportsChannel, JSON.stringify({ id, reply: this.opts.originId, report: r })).catch((err: Error) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  private onMessage(channel: string, message: string): void {
    let m: any;
    try {
      m = JSON.parse(message);
    } catch {
      return;
    }
    if (channel === this.acksChannel) {
      const p = this.pending.get(m?.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (typeof m.boot === 'string') p.resolve({ boot: m.boot });
      else p.reject(new Error('the presence leader refused the report'));
      return;
    }
    const l = this.leader;
    if (channel !== this.reportsChannel || !l || Date.now() >= l.until || typeof m?.reply !== 'string') return;
    let ack: PresenceAck | undefined;
    try {
      ack = l.handle.report(m.report as PresenceReport); // validated by the origin that received it
    } catch {
      ack = undefined;
    }
    const ns = this.reportsChannel.slice(0, -':reports'.length);
    void this.cmd.publish(`${ns}:acks:${m.reply}`, JSON.stringify(ack ? { id: m.id, boot: ack.boot } : { id: m.id })).catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const l = this.leader;
    this.resign();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('closing'));
    }
    this.pending.clear();
    // hand the lease over at once rather than after it runs out
    if (l) await this.cmd.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`, 1, this.key, l.value).catch(() => {});
    this.sub.disconnect();
    this.cmd.disconnect();
  }
}
