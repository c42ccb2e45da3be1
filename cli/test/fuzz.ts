/**
 * A seeded mutation fuzzer for the gateway's two subprotocols: it takes valid client frames,
 * mutates them structurally (wrong types, missing and extra fields, deep nesting, huge values)
 * and byte-wise (bit flips, inserts, deletions, truncation, invalid UTF-8, the other
 * subprotocol's framing), and sends them in batches, each closed by a `ping` whose `pong` (or
 * the connection's close) paces the next batch. A closed connection is reopened and counted.
 * The same seed always produces the same frames.
 */
import { once } from 'node:events';
import WebSocket from 'ws';
import { decodeServerBinary, encodeClientBinary, ProtocolError, type ClientFrame } from '@replicant/protocol';

/** mulberry32: small, fast, seedable */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzStats {
  sent: number;
  reconnects: number;
  closeCodes: Record<string, number>;
  errorCodes: Record<string, number>;
}

type Rnd = () => number;
const pick = <T>(r: Rnd, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rnd, n: number) => Math.floor(r() * n);

const DOCS = ['fz0', 'fz1', 'fz2', 'fz:a', 'fz.b~c', '', ' ', '../x', 'x'.repeat(300), 'fz\u0000', 'ünï'];

function nested(r: Rnd, depth: number): unknown {
  let v: unknown = pick(r, [1, 'x', null, true]);
  const arr = r() < 0.5;
  for (let i = 0; i < depth; i++) v = arr ? [v] : { k: v };
  return v;
}

function randomValue(r: Rnd, budget = 3): unknown {
  switch (int(r, 12)) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return pick(r, [0, -1, 1e308, -0, 2 ** 53 + 1, 1.5, 4294967296, 65536, 65537]);
    case 3:
      return pick(r, ['', '18446744073709551616', '-1', '007', 'abc', '\u{1F600}', '\ud800', 'x'.repeat(int(r, 10_000))]);
    case 4:
      return budget > 0 ? Array.from({ length: int(r, 4) }, () => randomValue(r, budget - 1)) : [];
    case 5: {
      if (budget <= 0) return {};
      const o: Record<string, unknown> = {};
      for (let i = int(r, 4); i > 0; i--) o[pick(r, ['a', '__proto__', 'constructor', '', 'type', 'doc'])] = randomValue(r, budget - 1);
      return o;
    }
    case 6:
      return nested(r, pick(r, [63, 64, 65, 200, 10_000]));
    default:
      return pick(r, DOCS);
  }
}

function seedFrame(r: Rnd): Record<string, unknown> {
  const doc = pick(r, DOCS.slice(0, 5));
  switch (int(r, 8)) {
    case 0:
      return { type: 'subscribe', doc, lastSeq: pick(r, [undefined, '0', '5', '18446744073709551615']) };
    case 1:
      return { type: 'unsubscribe', doc };
    case 2:
    case 3:
      return { type: 'publish', doc, patch: { f: int(r, 100), n: { x: [1, 2] } }, id: `z${int(r, 1e6)}` };
    case 4:
      return { type: 'hello', window: int(r, 70_000) };
    case 5:
      return { type: 'credit', n: int(r, 70_000) };
    case 6:
      return { type: 'auth', token: 'x.y.z' };
    default:
      return { type: 'ping' };
  }
}

function mutateObject(r: Rnd, o: Record<string, unknown>): Record<string, unknown> {
  const keys = [...Object.keys(o), 'type', 'doc', 'patch', 'id', 'lastSeq', 'window', 'n', 'token', 'extra'];
  for (let i = 1 + int(r, 3); i > 0; i--) {
    const k = pick(r, keys);
    const op = int(r, 4);
    if (op === 0) delete o[k];
    else if (op === 1 && k === 'patch') o.patch = nested(r, pick(r, [10, 64, 65, 10_000]));
    else o[k] = randomValue(r);
  }
  return o;
}

function mutateBytes(r: Rnd, b: Uint8Array): Uint8Array {
  const out = [...b];
  for (let i = 1 + int(r, 4); i > 0; i--) {
    const at = int(r, out.length + 1);
    switch (int(r, 5)) {
      case 0:
        if (out.length) out[at % out.length] ^= 1 << int(r, 8);
        break;
      case 1:
        out.splice(at, 0, int(r, 256));
        break;
      case 2:
        out.splice(at, 1 + int(r, 8));
        break;
      case 3:
        out.length = Math.min(out.length, at);
        break;
      default:
        out.splice(at, 0, ...out.slice(0, int(r, 16)));
    }
  }
  return Uint8Array.from(out);
}

/** one fuzzed message for `protocol`: [data, isBinary] */
export function fuzzFrame(r: Rnd, protocol: 'json' | 'binary'): [string | Uint8Array, boolean] {
  const roll = r();
  if (roll < 0.002) return [Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]), false]; // invalid UTF-8 in a text frame
  if (protocol === 'json') {
    if (roll < 0.03) return [Uint8Array.from(Array.from({ length: int(r, 64) }, () => int(r, 256))), true]; // binary on JSON
    const o = r() < 0.7 ? mutateObject(r, seedFrame(r)) : seedFrame(r);
    let text: string;
    try {
      text = JSON.stringify(o);
    } catch {
      text = '{"type":"ping"'; // the generator's own deep value: send a truncated frame instead
    }
    if (r() < 0.3) text = Buffer.from(mutateBytes(r, Buffer.from(text))).toString('latin1');
    return [text, false];
  }
  if (roll < 0.03) return [JSON.stringify(seedFrame(r)), false]; // text on binary
  if (roll < 0.1) {
    // a publish whose patch bytes are deep, invalid UTF-8 or not JSON
    const patch = pick(r, ['{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000), '\xff\xfe', '[1]', '{"a":1', '[['.repeat(5000)]);
    const bytes = encodeClientBinary({ type: 'publish', doc: 'fz0', patch, id: 'deep' } as ClientFrame);
    return [r() < 0.5 ? bytes : mutateBytes(r, bytes), true];
  }
  let bytes: Uint8Array;
  try {
    const o = seedFrame(r);
    if (o.type === 'publish') o.patch = JSON.stringify(o.patch);
    bytes = encodeClientBinary(o as unknown as ClientFrame);
  } catch {
    bytes = Uint8Array.from([0x0a]);
  }
  return [r() < 0.6 ? mutateBytes(r, bytes) : bytes, true];
}

const PING_JSON = '{"type":"ping"}';
const PING_BIN = encodeClientBinary({ type: 'ping' });

/** sends `frames` fuzzed messages on `protocol`, in batches of `batch`, reconnecting as needed */
export async function runFuzz(wsUrl: string, protocol: 'json' | 'binary', frames: number, seed: number, batch = 500): Promise<FuzzStats> {
  const r = prng(seed);
  const stats: FuzzStats = { sent: 0, reconnects: 0, closeCodes: {}, errorCodes: {} };
  const sub = protocol === 'json' ? 'replicant.v1.json' : 'replicant.v1';
  while (stats.sent < frames) {
    const ws = new WebSocket(wsUrl, [sub]);
    ws.on('error', () => {});
    let pongs = 0;
    let onPong: (() => void) | undefined;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const s = String(data);
        if (s === '{"type":"pong"}') pongs++;
        else {
          const m = /"code":"([a-z_]+)"/.exec(s);
          if (m) stats.errorCodes[m[1]] = (stats.errorCodes[m[1]] ?? 0) + 1;
        }
      } else {
        const f = decodeServerBinary(new Uint8Array(data as Buffer));
        if (f instanceof ProtocolError) stats.errorCodes.undecodable = (stats.errorCodes.undecodable ?? 0) + 1;
        else if (f.type === 'pong') pongs++;
        else if (f.type === 'error') stats.errorCodes[f.code] = (stats.errorCodes[f.code] ?? 0) + 1;
      }
      onPong?.();
    });
    const closed = once(ws, 'close').then(([code]) => {
      stats.closeCodes[String(code)] = (stats.closeCodes[String(code)] ?? 0) + 1;
    });
    await Promise.race([once(ws, 'open'), closed]);
    let alive = ws.readyState === WebSocket.OPEN;
    while (alive && stats.sent < frames) {
      for (let i = 0; i < batch && stats.sent < frames; i++) {
        const [data, binary] = fuzzFrame(r, protocol);
        ws.send(data, { binary });
        stats.sent++;
      }
      const want = pongs + 1;
      ws.send(protocol === 'json' ? PING_JSON : PING_BIN);
      const ponged = new Promise<void>((resolve) => {
        onPong = () => pongs >= want && resolve();
      });
      await Promise.race([ponged, closed]);
      onPong = undefined;
      alive = ws.readyState === WebSocket.OPEN;
    }
    if (alive) {
      ws.close();
      await closed;
    } else stats.reconnects++;
  }
  return stats;
}
