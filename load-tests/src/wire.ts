/**
 * What a load receiver speaks to each server under test, one `Wire` per protocol:
 *
 *  - `replicant` (Replicant, bare uWS, the ws peer): `replicant.v1.json` on `/v1/stream`:
 *    `{"type":"subscribe","doc":"d"}`, ready at the snapshot, then `{"type":"delta",…,"patch":{…}}`.
 *  - `centrifugo`: Centrifugo's JSON protocol (v2) on `/connection/websocket`: `{"id":1,"connect":{}}`,
 *    on its reply `{"id":2,"subscribe":{"channel":"d"}}`, ready at the subscribe reply, then pushes
 *    `{"push":{"channel":"d","pub":{"data":{…},"offset":N}}}`. One WebSocket message may carry
 *    several protocol messages separated by `\n`. Server pings are `{}`, answered with `{}`.
 *  - `socketio`: Engine.IO v4 over WebSocket (`/socket.io/?EIO=4&transport=websocket`) carrying
 *    Socket.IO v5 packets: open `0{…}` → `40`; connected `40{…}` → `42["subscribe","d"]`; ready at
 *    `42["snapshot",…]`; deltas `42["delta",{…,"patch":{…}}]`; ping `2` → pong `3`.
 *
 * A wire speaks one of two modes (`WireMode`): `doc` (above: the socket subscribes to one doc and
 * measures its deltas) or `user` (the socket is one user's connection, subscribed to nothing, and
 * measures the server-API messages sent to its user): Replicant, ready at `welcome` (sent after
 * `auth`), then `{"type":"message","id":…,"data":{…}}`; Centrifugo, `connect` with the user's token,
 * ready at the connect reply (the server subscribed the user to its personal channel
 * `personal:#<sub>`), then pushes of that channel. A message counts as a `delta` of one op.
 *
 * The fast path (every message of every socket) reads the frame kind at fixed offsets and scans the
 * bench writer's `{"t":<ms>,"n":<i>` out of the payload without JSON.parse (one socket per message
 * at 100 000 deliveries/s leaves no room for it); the full decode (`seqs`) is for sampled sockets.
 * The upgrade path and subprotocol are the target's (targets.ts), not the wire's.
 */

export type WireKind = 'replicant' | 'centrifugo' | 'socketio';
/**
 * `doc`: subscribe to one doc and measure its deltas; `user`: measure the messages sent to the
 * socket's user; `presence`: watch the presence of `doc` and follow its member count (`count`)
 */
export type WireMode = 'doc' | 'user' | 'presence';

/** Result of the fast path. `reply`: a frame the receiver must send back (pong, handshake step). */
export interface FastParse {
  kind: 'delta' | 'snapshot' | 'welcome' | 'error' | 'goaway' | 'other';
  t: number;
  n: number;
  /**
   * replicant wire, a delta: the ops it covers, seq - prevSeq (the bench writes one doc per server,
   * so its seqs are contiguous; > 1 when the server coalesced). Unset or NaN: count 1.
   */
  ops?: number;
  reply?: string | null;
}

/** What the sampled full check sees: seq of a snapshot, seq and prevSeq of a delta. */
export type SeqFrame = { kind: 'snapshot'; seq: bigint | null } | { kind: 'delta'; seq: bigint; prevSeq: bigint } | null;

export interface Wire {
  readonly kind: WireKind;
  /**
   * the frames a socket sends once the WebSocket is open, in order (none when the server speaks
   * first): `token` is its credential (none = open server), `window` a hello window (a stalled
   * Replicant subscriber's; none = no hello)
   */
  open(token?: string, window?: number): string[];
  /** calls `fn` for each protocol message in one WebSocket message (views, valid during the call) */
  each(data: Buffer, fn: (msg: Buffer) => void): void;
  /** the fast path */
  parse(msg: Buffer, out: FastParse): FastParse;
  /** full JSON decode for the sampled check; throws on unparseable input */
  seqs(msg: Buffer): SeqFrame;
  /**
   * mode `presence`: the doc's member count after protocol message `msg`, given the count before
   * it (`prev`); `prev` when the message does not change it. Decodes JSON: for sampled sockets.
   */
  count(msg: Buffer, prev: number): number;
}

const unchanged = (_msg: Buffer, prev: number): number => prev;

// ---------------------------------------------------------------------------------------------
// number scanning shared by the wires
// ---------------------------------------------------------------------------------------------

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

const N_KEY = Buffer.from('"n":');

/** reads `t` right after `marker` (which ends in `"t":`) and the `"n":` after it into out */
function scanTN(b: Buffer, marker: Buffer, from: number, out: FastParse): void {
  const p = b.indexOf(marker, from);
  if (p < 0) return;
  out.t = scanNumber(b, p + marker.length);
  const q = b.indexOf(N_KEY, scanEnd);
  if (q >= 0) out.n = scanNumber(b, q + N_KEY.length);
}

function reset(out: FastParse, kind: FastParse['kind']): FastParse {
  out.kind = kind;
  out.t = NaN;
  out.n = NaN;
  return out;
}

const one = (data: Buffer, fn: (msg: Buffer) => void): void => fn(data);

// ---------------------------------------------------------------------------------------------
// replicant.v1.json
// ---------------------------------------------------------------------------------------------

const PREFIX = Buffer.from('{"type":"');
const PATCH_T = Buffer.from('"patch":{"t":');
const SEQ_KEY = Buffer.from('"seq":"');
const PREV_KEY = Buffer.from('"prevSeq":"');
const CH_D = 0x64;
const CH_S = 0x73;
const CH_E = 0x65;
const CH_G = 0x67;
const CH_M = 0x6d;
const CH_W = 0x77;
const DATA_T = Buffer.from('"data":{"t":');

/** The replicant.v1.json fast path: kind of frame and, for a bench delta, its t, n and ops covered. */
export function fastParse(b: Buffer, out: FastParse): FastParse {
  if (b.length < 12 || b.compare(PREFIX, 0, 9, 0, 9) !== 0) return reset(out, 'other');
  const k = b[9];
  if (k === CH_D) {
    reset(out, 'delta');
    out.ops = NaN;
    const sq = b.indexOf(SEQ_KEY, 10);
    if (sq >= 0) {
      const seq = scanNumber(b, sq + SEQ_KEY.length);
      const pq = b.indexOf(PREV_KEY, scanEnd);
      if (pq >= 0) out.ops = seq - scanNumber(b, pq + PREV_KEY.length);
    }
    scanTN(b, PATCH_T, 10, out);
  } else if (k === CH_S) reset(out, 'snapshot');
  else if (k === CH_E) reset(out, 'error');
  else if (k === CH_G) reset(out, 'goaway');
  else if (k === CH_M) {
    // a server-API message `{"type":"message","id":…,"data":{"t":…,"n":…}}`: one op
    reset(out, 'delta');
    out.ops = 1;
    scanTN(b, DATA_T, 10, out);
  } else if (k === CH_W) reset(out, 'welcome');
  else reset(out, 'other');
  return out;
}

/** JSON fallback for replicant frames the fast path cannot read (other field order, other patch shape). */
function slowParse(b: Buffer, out: FastParse): FastParse {
  reset(out, 'other');
  try {
    const f = JSON.parse(b.toString('utf8'));
    if (f.type === 'delta' || f.type === 'snapshot' || f.type === 'welcome' || f.type === 'error' || f.type === 'goaway') out.kind = f.type;
    if (f.type === 'delta') {
      out.ops = Number(f.seq) - Number(f.prevSeq);
      readTN(f.patch, out);
    } else if (f.type === 'message') {
      out.kind = 'delta';
      out.ops = 1;
      readTN(f.data, out);
    }
  } catch {
    // counted as other
  }
  return out;
}

function readTN(payload: any, out: FastParse): void {
  if (payload !== null && typeof payload === 'object') {
    out.t = typeof payload.t === 'number' ? payload.t : NaN;
    out.n = typeof payload.n === 'number' ? payload.n : NaN;
  }
}

function replicantWire(doc: string, mode: WireMode): Wire {
  const subscribe = `{"type":"subscribe","doc":"${mode === 'presence' ? `${doc}~presence` : doc}"}`;
  return {
    kind: 'replicant',
    open(token, window) {
      // frames are handled in order: the auth frame is verified before the subscribe is served
      const out: string[] = [];
      if (token !== undefined) out.push(`{"type":"auth","token":"${token}"}`);
      if (window !== undefined) out.push(`{"type":"hello","window":${window}}`);
      if (mode !== 'user') out.push(subscribe);
      return out;
    },
    each: one,
    parse(b, out) {
      const r = fastParse(b, out);
      if (r.kind === 'other' || (r.kind === 'delta' && Number.isNaN(r.n))) slowParse(b, out);
      // a user connection is ready once welcomed (after auth: it is in the gateway's index)
      if (out.kind === 'welcome' && mode === 'user') out.kind = 'snapshot';
      return out;
    },
    seqs(b) {
      const f = JSON.parse(b.toString('utf8'));
      if (f.type === 'snapshot') return { kind: 'snapshot', seq: BigInt(f.seq) };
      if (f.type === 'delta') return { kind: 'delta', seq: BigInt(f.seq), prevSeq: BigInt(f.prevSeq) };
      return null;
    },
    count(b, prev) {
      // `{"connections":n,"users":{…}}`: a snapshot's state, or a delta's merge patch when it changed
      const f = JSON.parse(b.toString('utf8'));
      const c = f.type === 'snapshot' ? f.state?.connections : f.type === 'delta' ? f.patch?.connections : undefined;
      return typeof c === 'number' ? c : f.type === 'snapshot' ? 0 : prev;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Centrifugo JSON protocol
// ---------------------------------------------------------------------------------------------

const C_PUSH = Buffer.from('{"push":');
const C_ID = Buffer.from('{"id":');
const C_DATA_T = Buffer.from('"data":{"t":');
const C_PUB = Buffer.from('"pub":');
const C_CONNECT = Buffer.from('"connect":');
const C_SUBSCRIBE = Buffer.from('"subscribe":');
const C_ERROR = Buffer.from('"error":');
const C_DISCONNECT = Buffer.from('"disconnect":');
const NL = 0x0a;

/** the kind of a Centrifugo reply: which field follows `{"id":N,` */
function replyField(b: Buffer): 'connect' | 'subscribe' | 'error' | 'other' {
  const i = b.indexOf(0x2c, C_ID.length); // the comma after the id
  if (i < 0) return 'other';
  if (b.compare(C_CONNECT, 0, C_CONNECT.length, i + 1, i + 1 + C_CONNECT.length) === 0) return 'connect';
  if (b.compare(C_SUBSCRIBE, 0, C_SUBSCRIBE.length, i + 1, i + 1 + C_SUBSCRIBE.length) === 0) return 'subscribe';
  if (b.compare(C_ERROR, 0, C_ERROR.length, i + 1, i + 1 + C_ERROR.length) === 0) return 'error';
  return 'other';
}

/** a user's personal channel (the bench's Centrifugo config: namespace `personal`, user boundary `#`) */
export const centrifugoPersonalChannel = (sub: string): string => `personal:#${sub}`;

const C_JOIN = Buffer.from('"join":');
const C_LEAVE = Buffer.from('"leave":');

function centrifugoWire(channel: string, mode: WireMode): Wire {
  // a presence watcher asks for join/leave pushes (granted where the namespace has join_leave)
  const subscribe = `{"id":2,"subscribe":{"channel":"${channel}"${mode === 'presence' ? ',"join_leave":true' : ''}}}`;
  return {
    kind: 'centrifugo',
    open: (token) => [token === undefined ? '{"id":1,"connect":{}}' : `{"id":1,"connect":{"token":"${token}"}}`],
    each(data, fn) {
      let start = 0;
      for (;;) {
        const nl = data.indexOf(NL, start);
        if (nl < 0) {
          if (start < data.length) fn(start === 0 ? data : data.subarray(start));
          return;
        }
        if (nl > start) fn(data.subarray(start, nl));
        start = nl + 1;
      }
    },
    parse(b, out) {
      out.reply = null;
      if (b.length === 2 && b[0] === 0x7b && b[1] === 0x7d) {
        reset(out, 'other');
        out.reply = '{}'; // ping → pong
        return out;
      }
      // (Buffer#compare throws when the range is past the end of a short message)
      if (b.length >= C_PUSH.length && b.compare(C_PUSH, 0, C_PUSH.length, 0, C_PUSH.length) === 0) {
        if (b.indexOf(C_PUB, C_PUSH.length) >= 0) {
          reset(out, 'delta');
          scanTN(b, C_DATA_T, C_PUSH.length, out);
          if (Number.isNaN(out.n)) {
            try {
              readTN(JSON.parse(b.toString('utf8')).push?.pub?.data, out);
            } catch {
              // a delta without the bench's t/n: counted, not measured
            }
          }
          return out;
        }
        return reset(out, b.indexOf(C_DISCONNECT, C_PUSH.length) >= 0 ? 'goaway' : 'other');
      }
      if (b.length >= C_ID.length && b.compare(C_ID, 0, C_ID.length, 0, C_ID.length) === 0) {
        const f = replyField(b);
        if (f === 'connect') {
          // user mode: the connect reply holds the server-side subscription to the personal channel
          if (mode === 'user') return reset(out, 'snapshot');
          reset(out, 'other');
          out.reply = subscribe;
          return out;
        }
        return reset(out, f === 'subscribe' ? 'snapshot' : f === 'error' ? 'error' : 'other');
      }
      return reset(out, 'other');
    },
    seqs(b) {
      const f = JSON.parse(b.toString('utf8'));
      if (f.subscribe !== undefined) return { kind: 'snapshot', seq: f.subscribe.offset !== undefined ? BigInt(f.subscribe.offset) : null };
      const pub = f.push?.pub;
      // a publication carries its offset only: the one before it in the stream is offset - 1
      if (pub !== undefined) return { kind: 'delta', seq: BigInt(pub.offset ?? 0), prevSeq: BigInt(pub.offset ?? 0) - 1n };
      return null;
    },
    count(b, prev) {
      if (b.length < C_PUSH.length || b.compare(C_PUSH, 0, C_PUSH.length, 0, C_PUSH.length) !== 0) return prev;
      if (b.indexOf(C_JOIN, C_PUSH.length) >= 0) return prev + 1;
      if (b.indexOf(C_LEAVE, C_PUSH.length) >= 0) return prev - 1;
      return prev;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Socket.IO v5 over Engine.IO v4
// ---------------------------------------------------------------------------------------------

const S_DELTA = Buffer.from('42["delta",');
const S_SNAPSHOT = Buffer.from('42["snapshot",');
const S_ERROR = Buffer.from('42["error_frame",');

function socketioWire(doc: string): Wire {
  const subscribe = `42["subscribe","${doc}"]`;
  return {
    kind: 'socketio',
    open: () => [],
    each: one,
    parse(b, out) {
      out.reply = null;
      const len = b.length;
      const c0 = len > 0 ? b[0] : 0;
      if (c0 === 0x34 && len > 1 && b[1] === 0x32) {
        // 42: an event
        if (b.compare(S_DELTA, 0, S_DELTA.length, 0, S_DELTA.length) === 0) {
          reset(out, 'delta');
          scanTN(b, PATCH_T, S_DELTA.length, out);
          if (Number.isNaN(out.n)) {
            try {
              readTN(JSON.parse(b.toString('utf8', 2))[1]?.patch, out);
            } catch {
              // a delta without the bench's t/n: counted, not measured
            }
          }
          return out;
        }
        if (b.compare(S_SNAPSHOT, 0, S_SNAPSHOT.length, 0, S_SNAPSHOT.length) === 0) return reset(out, 'snapshot');
        if (b.compare(S_ERROR, 0, S_ERROR.length, 0, S_ERROR.length) === 0) return reset(out, 'error');
        return reset(out, 'other');
      }
      reset(out, 'other');
      if (c0 === 0x32 && len === 1) out.reply = '3'; // engine.io ping → pong
      else if (c0 === 0x30) out.reply = '40'; // engine.io open → connect to namespace /
      else if (c0 === 0x34 && len > 1 && b[1] === 0x30) out.reply = subscribe; // connected to /
      else if (c0 === 0x34 && len > 1 && b[1] === 0x34) out.kind = 'error'; // connect_error
      else if ((c0 === 0x34 && len > 1 && b[1] === 0x31) || c0 === 0x31) out.kind = 'goaway'; // disconnect / close
      return out;
    },
    seqs(b) {
      if (b.length < 2 || b[0] !== 0x34 || b[1] !== 0x32) return null;
      const [ev, p] = JSON.parse(b.toString('utf8', 2));
      if (ev === 'snapshot') return { kind: 'snapshot', seq: BigInt(p.seq) };
      if (ev === 'delta') return { kind: 'delta', seq: BigInt(p.seq), prevSeq: BigInt(p.prevSeq) };
      return null;
    },
    count: unchanged,
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * the wire of `kind` for a subscriber of `doc`, or (mode `user`) for a user's connection receiving
 * server-API messages (upgrade path and subprotocol come from the target)
 */
export function makeWire(kind: WireKind, doc: string, mode: WireMode = 'doc'): Wire {
  if (mode !== 'doc' && kind === 'socketio') throw new Error(`the socketio wire has no ${mode} mode`);
  switch (kind) {
    case 'replicant':
      return replicantWire(doc, mode);
    case 'centrifugo':
      return centrifugoWire(doc, mode);
    case 'socketio':
      return socketioWire(doc);
  }
}
