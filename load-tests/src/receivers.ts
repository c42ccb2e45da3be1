/**
 * The parent side of the load receivers (receiver.ts child processes): fork one, drive it over IPC
 * (connect / window / stats / exit), and connect a set of them to one endpoint. The one way the
 * benches (bench.ts, bench-cluster) and the peer tests hold subscribers.
 *
 * Bounds: every IPC request has a timeout; a receiver that does not exit within 5 s of `exit` is
 * SIGKILLed; one receiver holds at most MAX_SOCKETS_PER_RECEIVER sockets (its fd limit). A receiver
 * also exits on its own when this process goes away (its IPC channel closes).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userSub, type StreamEndpoint } from './targets.js';
import type { WireMode } from './wire.js';
import type { ConnectCmd, ConnectedMsg, ReceiverCmd, StatsMsg, TrackingMsg } from './receiver.js';

const RECEIVER_MAIN = join(dirname(fileURLToPath(import.meta.url)), 'receiver.js');

/** sockets one receiver process may hold (fd limit) */
export const MAX_SOCKETS_PER_RECEIVER = 19000;

export class Receiver {
  readonly child: ChildProcess;
  private waiters = new Map<string, ((m: unknown) => void)[]>();
  private exited = false;
  private readonly exitP: Promise<void>;

  constructor() {
    this.child = fork(RECEIVER_MAIN, [], {
      env: { ...process.env, REPLICANT_RECEIVER: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: { ev: string }) => this.waiters.get(m.ev)?.shift()?.(m));
    this.exitP = new Promise((resolve) =>
      this.child.once('exit', () => {
        this.exited = true;
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(cmd: ReceiverCmd): void {
    if (!this.exited && this.child.connected) this.child.send(cmd);
  }

  /** the receiver's next message of kind `ev` */
  next<T>(ev: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`receiver ${this.child.pid}: no ${ev} after ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(ev) ?? [];
      list.push((m) => {
        clearTimeout(t);
        resolve(m as T);
      });
      this.waiters.set(ev, list);
    });
  }

  connect(cmd: ConnectCmd): Promise<ConnectedMsg> {
    const p = this.next<ConnectedMsg>('connected', cmd.deadlineMs + 10000);
    this.send(cmd);
    return p;
  }

  /** presence mode: sets every tracked socket's base; resolves once the receiver has */
  track(): Promise<void> {
    const p = this.next<TrackingMsg>('tracking', 30000).then(() => undefined);
    this.send({ cmd: 'track' });
    return p;
  }

  stats(): Promise<StatsMsg> {
    const p = this.next<StatsMsg>('stats', 30000);
    this.send({ cmd: 'stats' });
    return p;
  }

  async exit(): Promise<void> {
    if (this.exited) return;
    this.send({ cmd: 'exit' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exitP;
    clearTimeout(t);
  }
}

export function allStats(rs: Receiver[]): Promise<StatsMsg[]> {
  return Promise.all(rs.map((r) => r.stats()));
}

/**
 * Measure deltas with write index in [minN, maxN] from now on. Resolves once every receiver has
 * reset its counters (IPC is ordered: the stats answer comes after the window command).
 */
export async function setWindow(rs: Receiver[], minN: number, maxN: number): Promise<void> {
  for (const r of rs) r.send({ cmd: 'window', minN, maxN });
  await allStats(rs);
}

/**
 * The receivers have no delivery event to await: ask for their counters every `pollMs` until
 * `done` holds or `timeoutMs` passed (bounded: a lost delivery shows in the counters returned).
 */
export async function statsUntil(rs: Receiver[], done: (stats: StatsMsg[]) => boolean, timeoutMs: number, pollMs = 100): Promise<StatsMsg[]> {
  const until = Date.now() + timeoutMs;
  let stats = await allStats(rs);
  while (!done(stats) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, pollMs));
    stats = await allStats(rs);
  }
  return stats;
}

/** the sum of one counter over the receivers' stats */
export const sumOf = (stats: StatsMsg[], f: (s: StatsMsg) => number): number => stats.reduce((a, s) => a + f(s), 0);

/** What the receivers saw besides the measured deliveries: all 0 (and no violation) in a clean run. */
export interface ReceiverCounts {
  resyncSnapshots: number;
  closedAfterReady: number;
  errorFrames: number;
  goaways: number;
  sampledDeltas: number;
  seqViolations: number;
  firstViolation: string | null;
}

/** the counts summed over receivers' stats (or over runs' results), the first violation kept */
export function receiverCounts(xs: ReceiverCounts[]): ReceiverCounts {
  const sum = (f: (x: ReceiverCounts) => number): number => xs.reduce((a, x) => a + f(x), 0);
  return {
    resyncSnapshots: sum((x) => x.resyncSnapshots),
    closedAfterReady: sum((x) => x.closedAfterReady),
    errorFrames: sum((x) => x.errorFrames),
    goaways: sum((x) => x.goaways),
    sampledDeltas: sum((x) => x.sampledDeltas),
    seqViolations: sum((x) => x.seqViolations),
    firstViolation: xs.find((x) => x.firstViolation !== null)?.firstViolation ?? null,
  };
}

/** `total` split into `parts` counts as even as possible */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** 127.<block>.<k>.1: distinct source addresses spread the ephemeral ports */
export function addrs(block: number, count: number): string[] {
  return Array.from({ length: count }, (_, k) => `127.${block}.${k + 1}.1`);
}

/** where receivers connect: a port, what it speaks, and (auth on) the subscribers' credentials */
export interface Endpoint {
  port: number;
  stream: StreamEndpoint;
  tokens?: (count: number, doc: string) => Promise<string[]>;
  /** user connections' credentials: one token per sub (targets.ts) */
  userTokens?: (subs: string[]) => Promise<string[]>;
}

export interface ConnectOptions {
  doc: string;
  /** `user`: each socket is a user's connection, measuring its messages; `presence`: watchers of doc's presence */
  mode?: WireMode;
  /**
   * the sockets' subs in order over the receivers: each presents the target's userTokens for its
   * sub (default in mode `user`: userSub(i); otherwise none: the target's doc tokens, if any)
   */
  subs?: string[];
  /** receiver i uses the source addresses of block `addrBlock + i` (addrs) */
  addrBlock: number;
  /** source addresses per receiver (default 4; a list of ['127.0.0.1'] with 0) */
  addrsPerReceiver?: number;
  /** handshakes in flight per receiver (default 128) */
  concurrency?: number;
  /** fully check every k-th socket (0 = none) */
  sampleEvery: number;
  stallEvery?: number;
  /** give up connecting after this long (default 90 s) */
  deadlineMs?: number;
}

export interface Connected {
  receivers: Receiver[];
  ready: number;
  stalled: number;
  ms: number;
  failedAttempts: number;
  firstError: string | null;
}

/** Forks one receiver per entry of `counts` and connects that many subscribers each to `ep`. */
export async function connectReceivers(ep: Endpoint, counts: number[], o: ConnectOptions): Promise<Connected> {
  for (const c of counts) if (c > MAX_SOCKETS_PER_RECEIVER) throw new Error(`more than ${MAX_SOCKETS_PER_RECEIVER} sockets per receiver process (fd limit): add receivers`);
  // a target with auth on: one credential per subscriber, each receiver gets its slice
  const total = counts.reduce((a, b) => a + b, 0);
  const subs = o.subs ?? (o.mode === 'user' ? Array.from({ length: total }, (_, i) => userSub(i)) : undefined);
  if (subs !== undefined && ep.userTokens === undefined) throw new Error('user connections need the target\'s userTokens');
  if (subs !== undefined && subs.length !== total) throw new Error(`${subs.length} subs for ${total} sockets`);
  const tokens = subs !== undefined ? await ep.userTokens!(subs) : ep.tokens ? await ep.tokens(total, o.doc) : undefined;
  const firsts = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
  const receivers = counts.map(() => new Receiver());
  const t0 = Date.now();
  const n = o.addrsPerReceiver ?? 4;
  const results = await Promise.all(
    receivers.map(async (r, i) =>
      r.connect({
        cmd: 'connect',
        host: '127.0.0.1',
        port: ep.port,
        path: ep.stream.path,
        protocol: ep.stream.protocol,
        wire: ep.stream.wire,
        transport: ep.stream.transport,
        mode: o.mode,
        doc: o.doc,
        count: counts[i],
        localAddresses: n === 0 ? ['127.0.0.1'] : addrs(o.addrBlock + i, n),
        concurrency: o.concurrency ?? 128,
        sampleEvery: o.sampleEvery,
        stallEvery: o.stallEvery ?? 0,
        tokens: tokens?.slice(firsts[i], firsts[i] + counts[i]),
        deadlineMs: o.deadlineMs ?? 90000,
      }),
    ),
  ).catch(async (err: unknown) => {
    await Promise.all(receivers.map((r) => r.exit()));
    throw err;
  });
  return {
    receivers,
    ready: results.reduce((a, m) => a + m.ready, 0),
    stalled: results.reduce((a, m) => a + m.stalled, 0),
    ms: Date.now() - t0,
    failedAttempts: results.reduce((a, m) => a + m.failedAttempts, 0),
    firstError: results.find((m) => m.firstError !== null)?.firstError ?? null,
  };
}
