/**
 * Load receiver: a child process (forked by bench.ts) holding `count` WebSocket subscribers of one
 * doc, speaking the target's wire (wire.ts: replicant.v1.json, Centrifugo's JSON protocol or
 * Socket.IO), measuring every delta it gets the same way for every target:
 *  - fast path for every socket: no JSON.parse; the frame kind is read at a fixed offset and the
 *    writer's timestamp and write index are scanned out of the payload `{"t":<ms>,"n":<i>` (the
 *    bench's patch shape); latency = wallMs() - t;
 *  - full check on a sample (every `sampleEvery`-th socket): JSON.parse, seq strictly increasing
 *    and prevSeq === the previous frame's seq (snapshot or delta; Centrifugo: offsets contiguous);
 *  - ops per delta: seq - prevSeq on the replicant wire (a coalesced delta covers several ops),
 *    1 elsewhere; `windowOps` is what completeness and CPU per op are computed from;
 *  - auth (`tokens`): socket i presents tokens[i] first (wire.ts `open`: Replicant's `auth` frame,
 *    Centrifugo's `connect` token);
 *  - mode `user` (wire.ts): every socket is one user's connection (its token's sub), subscribed to
 *    nothing, and measures the server-API messages sent to that user instead of a doc's deltas;
 *  - mode `presence` (wire.ts): every socket watches a doc's presence; a sampled one records when
 *    it saw each member count (timeline of [wall ms, count − count at the last `track`]), and
 *    `trackLatency` turns the joins/leaves the parent made into a latency histogram: for each
 *    event, the first time the count reached its target;
 *  - `send`: the parent sends a frame on socket i (a presence member's join or leave);
 *  - stalled subscribers (`stallEvery`): every k-th socket says hello with window 4 and never grants
 *    credit; it counts as ready at its snapshot and is otherwise not measured.
 *
 * IPC protocol (process.send): parent → child `connect` / `window` / `stats` / `send` / `track` /
 * `trackLatency` / `exit`; child → parent `connected` / `stats` / `tracking` / `tracked`.
 */
import { WsClient } from './ws-client.js';
import { SseClient } from './sse-client.js';
import { Histogram, wallMs, type SerializedHistogram } from './histogram.js';
import { makeWire, type FastParse, type SeqFrame, type Wire, type WireKind, type WireMode } from './wire.js';

export { fastParse, type FastParse } from './wire.js';

export interface ConnectCmd {
  cmd: 'connect';
  host: string;
  port: number;
  path: string;
  /** offered subprotocol ('' = none) */
  protocol: string;
  /** what to speak after the upgrade (wire.ts); default `replicant` (replicant.v1.json) */
  wire?: WireKind;
  /** `sse`: SSE streams (`path?doc=<doc>`; the same frames as events) instead of WebSockets */
  transport?: 'websocket' | 'sse';
  /** `doc` (default): subscribe to `doc`; `user`: a user's connection measuring the messages sent to it */
  mode?: WireMode;
  doc: string;
  count: number;
  localAddresses: string[];
  /** concurrent handshakes in flight */
  concurrency: number;
  /** fully validate every k-th socket (0 = none) */
  sampleEvery: number;
  /** give up connecting after this long (ms) */
  deadlineMs: number;
  /** socket i sends `auth` with tokens[i] first (the bench's auth-on run); none = open server */
  tokens?: string[];
  /**
   * every k-th socket (k > 0) is a stalled subscriber: it says hello with window 4 and never grants
   * credit (an SDK client whose application stopped); its frames are not measured. Replicant wire.
   */
  stallEvery?: number;
}
export interface WindowCmd {
  cmd: 'window';
  /** deltas whose write index n is in [minN, maxN] are measured */
  minN: number;
  maxN: number;
}
/** a presence event the parent caused: at wall ms `t`, the count should reach `target` (up: ≥, down: ≤) */
export interface TrackEvent {
  t: number;
  target: number;
  up: boolean;
}
export type ReceiverCmd =
  | ConnectCmd
  | WindowCmd
  | { cmd: 'stats' }
  | { cmd: 'exit' }
  /** send `frame` on socket `i` (ignored when it is not open) */
  | { cmd: 'send'; i: number; frame: string }
  /** presence mode: every tracked socket's base := its count now, timeline cleared */
  | { cmd: 'track' }
  /** presence mode: latencies of `events` (relative to the base) over the tracked sockets */
  | { cmd: 'trackLatency'; events: TrackEvent[] };

/** answer to `track`: the bases are set */
export interface TrackingMsg {
  ev: 'tracking';
}

/** answer to `trackLatency`: `counts` the tracked sockets' last counts (relative to the base) */
export interface TrackedMsg {
  ev: 'tracked';
  latency: SerializedHistogram;
  /** events some tracked socket never saw reached */
  missed: number;
  sockets: number;
  counts: number[];
}

export interface ConnectedMsg {
  ev: 'connected';
  ready: number;
  /** of the ready ones, stalled (not measured) */
  stalled: number;
  failedAttempts: number;
  firstError: string | null;
  ms: number;
}
export interface StatsMsg {
  ev: 'stats';
  /** deltas with n in the window */
  windowDeltas: number;
  /** ops those deltas covered (FastParse.ops; = windowDeltas unless the server coalesced) */
  windowOps: number;
  /** wall ms of the last in-window delta */
  lastWindowRecvAt: number;
  /** all deltas since the last window command */
  deltas: number;
  bytes: number;
  /** snapshots after the initial one (resyncs, e.g. slow-consumer recovery) */
  resyncSnapshots: number;
  errorFrames: number;
  goaways: number;
  /** sockets closed after they were ready */
  closedAfterReady: number;
  sampledDeltas: number;
  seqViolations: number;
  firstViolation: string | null;
  latency: SerializedHistogram;
  /** receiver process CPU seconds since the last window command */
  cpuSeconds: number;
  rssBytes: number;
  open: number;
}

// ---------------------------------------------------------------------------------------------
// the child process
// ---------------------------------------------------------------------------------------------

interface Conn {
  ws: WsClient | SseClient;
  wire: Wire;
  ready: boolean;
  sampled: boolean;
  lastSeq: bigint | null;
  stalled: boolean;
  /** presence mode, sampled sockets: the member count, its base at `track`, [wall ms, count − base] pairs */
  count: number;
  base: number;
  timeline: number[] | null;
}

/** the latency of each event as seen in one timeline (flat [t, count, …]); events sorted up/down, in order */
function eventLatencies(timeline: number[], events: TrackEvent[], h: Histogram): number {
  let missed = 0;
  for (const e of events) {
    let seen = NaN;
    for (let k = 0; k < timeline.length; k += 2) {
      const c = timeline[k + 1];
      if (timeline[k] >= e.t - 1 && (e.up ? c >= e.target : c <= e.target)) {
        seen = timeline[k];
        break;
      }
    }
    if (Number.isNaN(seen)) missed++;
    else h.record(Math.max(0, seen - e.t));
  }
  return missed;
}

function runChild(): void {
  const conns: Conn[] = [];
  const lat = new Histogram();
  const fp: FastParse = { kind: 'other', t: NaN, n: NaN };
  let minN = Infinity;
  let maxN = -Infinity;
  let windowDeltas = 0;
  let windowOps = 0;
  let lastWindowRecvAt = 0;
  let deltas = 0;
  let bytes = 0;
  let resyncSnapshots = 0;
  let errorFrames = 0;
  let goaways = 0;
  let closedAfterReady = 0;
  let sampledDeltas = 0;
  let seqViolations = 0;
  let firstViolation: string | null = null;
  let cpuBase = process.cpuUsage();
  let exiting = false;

  const violation = (msg: string): void => {
    seqViolations++;
    if (firstViolation === null) firstViolation = msg;
  };

  const checkSample = (c: Conn, msg: Buffer): void => {
    let f: SeqFrame;
    try {
      f = c.wire.seqs(msg);
    } catch {
      violation('unparseable frame');
      return;
    }
    if (f === null) return;
    if (f.kind === 'snapshot') {
      const s = f.seq;
      if (s !== null && c.lastSeq !== null && s < c.lastSeq) violation(`snapshot seq ${s} behind ${c.lastSeq}`);
      c.lastSeq = s;
    } else {
      sampledDeltas++;
      const s = f.seq;
      if (c.lastSeq !== null) {
        if (s <= c.lastSeq) violation(`delta seq ${s} not above ${c.lastSeq}`);
        else if (f.prevSeq !== c.lastSeq) violation(`delta prevSeq ${f.prevSeq} != last seq ${c.lastSeq} (gap)`);
      }
      c.lastSeq = s;
    }
  };

  /** one protocol message (a WebSocket message may hold several: Centrifugo batches) */
  const onMessage = (c: Conn, msg: Buffer): void => {
    const r = c.wire.parse(msg, fp);
    if (r.reply) c.ws.send(r.reply);
    if (c.timeline !== null) {
      const n = c.wire.count(msg, c.count);
      if (n !== c.count) {
        c.count = n;
        c.timeline.push(wallMs(), n - c.base);
      }
    } else if (c.sampled) checkSample(c, msg);
    switch (r.kind) {
      case 'delta': {
        deltas++;
        const n = r.n;
        if (n >= minN && n <= maxN) {
          const now = wallMs();
          windowDeltas++;
          const ops = r.ops;
          windowOps += ops !== undefined && ops > 0 ? ops : 1;
          lastWindowRecvAt = now;
          lat.record(now - r.t);
        }
        break;
      }
      case 'snapshot':
        if (c.ready) resyncSnapshots++;
        else {
          c.ready = true;
          onReady();
        }
        break;
      case 'error':
        errorFrames++;
        break;
      case 'goaway':
        goaways++;
        break;
    }
  };

  /** a stalled socket's messages: ready at its snapshot, replies (pongs) sent, nothing measured */
  const onStalledMessage = (c: Conn, msg: Buffer): void => {
    const r = c.wire.parse(msg, fp);
    if (r.reply) c.ws.send(r.reply);
    if (r.kind === 'snapshot' && !c.ready) {
      c.ready = true;
      stalledReady++;
      onReady();
    }
  };

  let readyCount = 0;
  let stalledReady = 0;
  const onReady = (): void => {
    readyCount++;
  };

  const connect = (cmd: ConnectCmd): void => {
    const started = Date.now();
    let next = 0; // index of the next socket to open
    let inflight = 0;
    let failedAttempts = 0;
    let firstError: string | null = null;
    let reported = false;
    const retry: number[] = [];
    const wire = makeWire(cmd.wire ?? 'replicant', cmd.doc, cmd.mode ?? 'doc');

    const report = (): void => {
      if (reported) return;
      reported = true;
      clearTimeout(deadline);
      const msg: ConnectedMsg = { ev: 'connected', ready: readyCount, stalled: stalledReady, failedAttempts, firstError, ms: Date.now() - started };
      process.send!(msg);
    };
    const deadline = setTimeout(report, cmd.deadlineMs);

    const open = (i: number): void => {
      inflight++;
      const localAddress = cmd.localAddresses[i % cmd.localAddresses.length];
      const ws =
        cmd.transport === 'sse'
          ? new SseClient({ host: cmd.host, port: cmd.port, path: `${cmd.path}?doc=${encodeURIComponent(cmd.doc)}`, localAddress, handshakeTimeoutMs: 15000 })
          : new WsClient({
              host: cmd.host,
              port: cmd.port,
              path: cmd.path,
              protocols: cmd.protocol === '' ? [] : [cmd.protocol],
              localAddress,
              handshakeTimeoutMs: 15000,
            });
      const stallEvery = cmd.stallEvery ?? 0;
      const stalled = stallEvery > 0 && i % stallEvery === 0;
      const sampled = !stalled && cmd.sampleEvery > 0 && i % cmd.sampleEvery === 0;
      const c: Conn = { ws, wire, ready: false, sampled, lastSeq: null, stalled, count: 0, base: 0, timeline: sampled && cmd.mode === 'presence' ? [] : null };
      conns[i] = c;
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        inflight--;
        pump();
      };
      const part = stalled ? (msg: Buffer): void => onStalledMessage(c, msg) : (msg: Buffer): void => onMessage(c, msg);
      const token = cmd.tokens !== undefined && cmd.tokens.length > 0 ? cmd.tokens[i % cmd.tokens.length] : undefined;
      ws.onopen = () => {
        for (const f of wire.open(token, stalled ? 4 : undefined)) ws.send(f);
      };
      ws.onmessage = (data: Buffer) => {
        if (!stalled) bytes += data.length;
        const wasReady = c.ready;
        wire.each(data, part);
        if (!wasReady && c.ready) settle();
      };
      ws.onerror = (err) => {
        if (firstError === null) firstError = err.message;
      };
      ws.onclose = (code: number) => {
        if (c.ready) {
          if (!exiting) closedAfterReady++;
          return;
        }
        failedAttempts++;
        if (firstError === null) firstError = `closed with code ${code} before the snapshot`;
        settle();
        if (!exiting && !reported) {
          // back off with jitter, then try again (admission control may be shedding a burst)
          setTimeout(() => {
            retry.push(i);
            pump();
          }, 50 + Math.random() * 450);
        }
      };
    };

    const pump = (): void => {
      if (exiting) return;
      while (inflight < cmd.concurrency && (retry.length > 0 || next < cmd.count)) {
        open(retry.length > 0 ? retry.shift()! : next++);
      }
      if (readyCount >= cmd.count) report();
    };
    pump();
  };

  process.on('message', (m: ReceiverCmd) => {
    switch (m.cmd) {
      case 'connect':
        connect(m);
        break;
      case 'window':
        minN = m.minN;
        maxN = m.maxN;
        windowDeltas = windowOps = deltas = bytes = resyncSnapshots = errorFrames = goaways = closedAfterReady = 0;
        sampledDeltas = seqViolations = 0;
        firstViolation = null;
        lastWindowRecvAt = 0;
        lat.reset();
        cpuBase = process.cpuUsage();
        break;
      case 'stats': {
        const cpu = process.cpuUsage(cpuBase);
        let open = 0;
        for (const c of conns) if (c !== undefined && c.ready && c.ws.readyState === 1) open++;
        const msg: StatsMsg = {
          ev: 'stats',
          windowDeltas,
          windowOps,
          lastWindowRecvAt,
          deltas,
          bytes,
          resyncSnapshots,
          errorFrames,
          goaways,
          closedAfterReady,
          sampledDeltas,
          seqViolations,
          firstViolation,
          latency: lat.toJSON(),
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          rssBytes: process.memoryUsage.rss(),
          open,
        };
        process.send!(msg);
        break;
      }
      case 'send': {
        const c = conns[m.i];
        if (c !== undefined && c.ws.readyState === 1) c.ws.send(m.frame);
        break;
      }
      case 'track': {
        for (const c of conns) {
          if (c?.timeline == null) continue;
          c.base = c.count;
          c.timeline.length = 0;
        }
        // the parent starts the events only once every watcher has its base: a push read before
        // this command would otherwise be counted in the base and its event never seen reached
        const msg: TrackingMsg = { ev: 'tracking' };
        process.send!(msg);
        break;
      }
      case 'trackLatency': {
        const h = new Histogram();
        let missed = 0;
        let sockets = 0;
        const counts: number[] = [];
        for (const c of conns) {
          if (c?.timeline == null || !c.ready) continue;
          sockets++;
          missed += eventLatencies(c.timeline, m.events, h);
          counts.push(c.count - c.base);
        }
        const msg: TrackedMsg = { ev: 'tracked', latency: h.toJSON(), missed, sockets, counts };
        process.send!(msg);
        break;
      }
      case 'exit':
        exiting = true;
        // RST: no close handshake, no TIME_WAIT left on the client addresses
        for (const c of conns) c?.ws.terminate();
        setTimeout(() => process.exit(0), 50);
        break;
    }
  });
  process.on('disconnect', () => {
    exiting = true;
    for (const c of conns) c?.ws.terminate();
    process.exit(0);
  });
}

if (process.send !== undefined && process.env.REPLICANT_RECEIVER === '1') runChild();
