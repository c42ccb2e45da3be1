/**
 * Load receiver: a child process (forked by bench.ts) holding `count` WebSocket subscribers of one
 * doc over `replicant.v1.json`, measuring every delta it gets:
 *  - fast path for every socket: no JSON.parse; the frame kind is read at a fixed offset
 *    (`{"type":"d…` / `{"type":"s…`) and the writer's timestamp and write index are scanned out of
 *    `"patch":{"t":<ms>,"n":<i>` (the bench's patch shape); latency = wallMs() - t;
 *  - full check on a sample (every `sampleEvery`-th socket): JSON.parse, seq strictly increasing
 *    and prevSeq === the previous frame's seq (snapshot or delta).
 *
 * IPC protocol (process.send): parent → child `connect` / `window` / `stats` / `exit`;
 * child → parent `connected` / `stats`.
 */
import { WsClient } from './ws-client.js';
import { Histogram, wallMs, type SerializedHistogram } from './histogram.js';

export interface ConnectCmd {
  cmd: 'connect';
  host: string;
  port: number;
  path: string;
  protocol: string;
  doc: string;
  count: number;
  localAddresses: string[];
  /** concurrent handshakes in flight */
  concurrency: number;
  /** fully validate every k-th socket (0 = none) */
  sampleEvery: number;
  /** give up connecting after this long (ms) */
  deadlineMs: number;
  /**
   * every k-th socket (k > 0) is a stalled subscriber: it says hello with window 4 and never grants
   * credit (an SDK client whose application stopped); its frames are not measured
   */
  stallEvery?: number;
}
export interface WindowCmd {
  cmd: 'window';
  /** deltas whose write index n is in [minN, maxN] are measured */
  minN: number;
  maxN: number;
}
export type ReceiverCmd = ConnectCmd | WindowCmd | { cmd: 'stats' } | { cmd: 'exit' };

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
  /** ops those deltas covered (seq - prevSeq: the bench doc's seqs are contiguous; > 1 per delta when coalesced) */
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

const PREFIX = Buffer.from('{"type":"');
const PATCH_T = Buffer.from('"patch":{"t":');
const N_KEY = Buffer.from('"n":');
const SEQ_KEY = Buffer.from('"seq":"');
const PREV_KEY = Buffer.from('"prevSeq":"');
const CH_D = 0x64;
const CH_S = 0x73;
const CH_E = 0x65;
const CH_G = 0x67;

/** Scans a JSON number starting at `i`; returns NaN if none. Sets `scanEnd`. */
let scanEnd = 0;
function scanNumber(b: Buffer, i: number): number {
  const start = i;
  const len = b.length;
  while (i < len) {
    const c = b[i];
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x65 || c === 0x45 || c === 0x2b) i++;
    else break;
  }
  scanEnd = i;
  return i > start ? Number(b.toString('latin1', start, i)) : NaN;
}

/** The fast path, exported for tests: kind of frame and, for a bench delta, its t and n. */
export interface FastParse {
  kind: 'delta' | 'snapshot' | 'error' | 'goaway' | 'other';
  t: number;
  n: number;
  /** for a delta: seq - prevSeq (ops covered on a doc with contiguous seqs), else NaN */
  ops?: number;
}
export function fastParse(b: Buffer, out: FastParse): FastParse {
  out.t = NaN;
  out.n = NaN;
  if (b.length < 12 || b.compare(PREFIX, 0, 9, 0, 9) !== 0) {
    out.kind = 'other';
    return out;
  }
  const k = b[9];
  if (k === CH_D) {
    out.kind = 'delta';
    out.ops = NaN;
    const sq = b.indexOf(SEQ_KEY, 10);
    if (sq >= 0) {
      const seq = scanNumber(b, sq + SEQ_KEY.length);
      const pq = b.indexOf(PREV_KEY, scanEnd);
      if (pq >= 0) out.ops = seq - scanNumber(b, pq + PREV_KEY.length);
    }
    const p = b.indexOf(PATCH_T, 10);
    if (p >= 0) {
      out.t = scanNumber(b, p + PATCH_T.length);
      const q = b.indexOf(N_KEY, scanEnd);
      if (q >= 0) out.n = scanNumber(b, q + N_KEY.length);
    }
  } else if (k === CH_S) out.kind = 'snapshot';
  else if (k === CH_E) out.kind = 'error';
  else if (k === CH_G) out.kind = 'goaway';
  else out.kind = 'other';
  return out;
}

/** JSON fallback for frames the fast path cannot read (other field order, other patch shape). */
function slowParse(b: Buffer, out: FastParse): FastParse {
  out.kind = 'other';
  out.t = NaN;
  out.n = NaN;
  try {
    const f = JSON.parse(b.toString('utf8'));
    if (f.type === 'delta' || f.type === 'snapshot' || f.type === 'error' || f.type === 'goaway') out.kind = f.type;
    if (f.type === 'delta') out.ops = Number(f.seq) - Number(f.prevSeq);
    if (f.type === 'delta' && f.patch !== null && typeof f.patch === 'object') {
      out.t = typeof f.patch.t === 'number' ? f.patch.t : NaN;
      out.n = typeof f.patch.n === 'number' ? f.patch.n : NaN;
    }
  } catch {
    // counted as other
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the child process
// ---------------------------------------------------------------------------------------------

interface Conn {
  ws: WsClient;
  ready: boolean;
  sampled: boolean;
  lastSeq: bigint | null;
  stalled: boolean;
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

  const checkSample = (c: Conn, data: Buffer): void => {
    let f: any;
    try {
      f = JSON.parse(data.toString('utf8'));
    } catch {
      violation('unparseable frame');
      return;
    }
    if (f.type === 'snapshot') {
      const s = BigInt(f.seq);
      if (c.lastSeq !== null && s < c.lastSeq) violation(`snapshot seq ${s} behind ${c.lastSeq}`);
      c.lastSeq = s;
    } else if (f.type === 'delta') {
      sampledDeltas++;
      const s = BigInt(f.seq);
      const prev = BigInt(f.prevSeq);
      if (c.lastSeq !== null) {
        if (s <= c.lastSeq) violation(`delta seq ${s} not above ${c.lastSeq}`);
        else if (prev !== c.lastSeq) violation(`delta prevSeq ${prev} != last seq ${c.lastSeq} (gap)`);
      }
      c.lastSeq = s;
    }
  };

  const onMessage = (c: Conn, data: Buffer): void => {
    if (c.stalled) {
      // counted as ready on its snapshot, otherwise not measured
      if (!c.ready && data.compare(PREFIX, 0, 9, 0, 9) === 0 && data[9] === CH_S) {
        c.ready = true;
        stalledReady++;
        onReady();
      }
      return;
    }
    bytes += data.length;
    let r = fastParse(data, fp);
    if (r.kind === 'other' || (r.kind === 'delta' && Number.isNaN(r.n))) r = slowParse(data, fp);
    if (c.sampled) checkSample(c, data);
    switch (r.kind) {
      case 'delta': {
        deltas++;
        const n = r.n;
        if (n >= minN && n <= maxN) {
          const now = wallMs();
          windowDeltas++;
          windowOps += Number.isFinite(r.ops) ? r.ops! : 1;
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
      const ws = new WsClient({
        host: cmd.host,
        port: cmd.port,
        path: cmd.path,
        protocols: [cmd.protocol],
        localAddress: cmd.localAddresses[i % cmd.localAddresses.length],
        handshakeTimeoutMs: 15000,
      });
      const stalled = (cmd.stallEvery ?? 0) > 0 && i % cmd.stallEvery! === 0;
      const c: Conn = { ws, ready: false, sampled: !stalled && cmd.sampleEvery > 0 && i % cmd.sampleEvery === 0, lastSeq: null, stalled };
      conns[i] = c;
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        inflight--;
        pump();
      };
      ws.onopen = () => {
        if (c.stalled) ws.send('{"type":"hello","window":4}');
        ws.send(`{"type":"subscribe","doc":"${cmd.doc}"}`);
      };
      ws.onmessage = (data) => {
        const wasReady = c.ready;
        onMessage(c, data);
        if (!wasReady && c.ready) settle();
      };
      ws.onerror = (err) => {
        if (firstError === null) firstError = err.message;
      };
      ws.onclose = (code) => {
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
