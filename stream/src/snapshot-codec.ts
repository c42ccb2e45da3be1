/**
 * The stored form of a DocSnapshot, shared by every SnapshotStore: JSON with bigints (seq, key seqs)
 * as decimal strings, so 64-bit values survive and other tools can read the files.
 */
import { isJsonObject, parseSeq } from '@replicant/protocol';
import type { ClientRecord, DocSnapshot } from './doc-state.js';

/**
 * Sequenced writers' records are `[client, hwm, decided (hex), rejected (hex), lastSeq]`; both
 * fields are omitted when empty, so snapshots of documents without sequenced writers are unchanged.
 */
export function encodeSnapshot(s: DocSnapshot): string {
  const o: Record<string, unknown> = {
    doc: s.doc,
    seq: s.seq.toString(),
    state: s.state,
    keys: s.keys.map(([k, seq]) => [k, seq.toString()]),
  };
  if (s.clients && s.clients.length > 0) {
    o.clients = s.clients.map(([c, r]) => [c, r.hwm, r.decided.toString(16), r.rejected.toString(16), r.lastSeq.toString()]);
  }
  if (s.horizon !== undefined && s.horizon > 0n) o.horizon = s.horizon.toString();
  return JSON.stringify(o);
}

const HEX = /^[0-9a-f]{1,16}$/;

function decodeClients(doc: string, v: unknown): [string, ClientRecord][] {
  if (!Array.isArray(v)) throw new Error(`malformed snapshot clients for ${doc}`);
  return v.map((e: unknown): [string, ClientRecord] => {
    const lastSeq = Array.isArray(e) ? parseSeq(e[4]) : undefined;
    if (
      !Array.isArray(e) || typeof e[0] !== 'string' || !Number.isSafeInteger(e[1]) || e[1] < 1 ||
      typeof e[2] !== 'string' || !HEX.test(e[2]) || typeof e[3] !== 'string' || !HEX.test(e[3]) || lastSeq === undefined
    ) {
      throw new Error(`malformed snapshot clients for ${doc}`);
    }
    return [e[0], { hwm: e[1] as number, decided: BigInt(`0x${e[2]}`), rejected: BigInt(`0x${e[3]}`), lastSeq }];
  });
}

/** Parses a stored snapshot; throws on anything malformed (stored data is trusted but checked). */
export function decodeSnapshot(text: string): DocSnapshot {
  const o: unknown = JSON.parse(text);
  if (!isJsonObject(o) || typeof o.doc !== 'string' || !isJsonObject(o.state) || !Array.isArray(o.keys)) {
    throw new Error('malformed snapshot');
  }
  const seq = parseSeq(o.seq);
  if (seq === undefined) throw new Error(`malformed snapshot seq for ${o.doc}`);
  const keys: [string, bigint][] = o.keys.map((e: unknown) => {
    const ks = Array.isArray(e) ? parseSeq(e[1]) : undefined;
    if (!Array.isArray(e) || typeof e[0] !== 'string' || ks === undefined) throw new Error(`malformed snapshot keys for ${o.doc}`);
    return [e[0], ks];
  });
  const snap: DocSnapshot = { doc: o.doc, seq, state: o.state, keys };
  if (o.clients !== undefined) snap.clients = decodeClients(o.doc, o.clients);
  if (o.horizon !== undefined) {
    const h = parseSeq(o.horizon);
    if (h === undefined) throw new Error(`malformed snapshot horizon for ${o.doc}`);
    snap.horizon = h;
  }
  return snap;
}

/** Covered offsets (partition -> next offset to replay), stored as {"<partition>": "<offset>"}. */
export function encodeCovered(covered: Map<number, bigint>): string {
  const o: Record<string, string> = {};
  for (const [p, off] of [...covered].sort((a, b) => a[0] - b[0])) o[String(p)] = off.toString();
  return JSON.stringify(o);
}

export function decodeCovered(text: string): Map<number, bigint> {
  const o: unknown = JSON.parse(text);
  if (!isJsonObject(o)) throw new Error('malformed covered offsets');
  const m = new Map<number, bigint>();
  for (const [k, v] of Object.entries(o)) {
    const p = Number(k);
    const off = parseSeq(v);
    if (!Number.isInteger(p) || p < 0 || off === undefined) throw new Error(`malformed covered offset for partition ${k}`);
    m.set(p, off);
  }
  return m;
}

/** Merges `next` into `into`; covered offsets never move backwards. */
export function mergeCovered(into: Map<number, bigint>, next: Map<number, bigint>): void {
  for (const [p, off] of next) {
    const cur = into.get(p);
    if (cur === undefined || off > cur) into.set(p, off);
  }
}
