/**
 * Server-Sent Events (docs/protocol.md "SSE"): the frames of the `replicant.v1.json` subprotocol
 * as an `text/event-stream`. Each frame is one event: `event:` its type, `data:` its JSON, and
 * for data frames (`snapshot`, `delta`) an `id:` cursor that encodes the seq the stream has
 * delivered for every doc, so a reconnect with `Last-Event-ID` resumes every doc.
 *
 * Cursor: `r1:<h>:<s0>,<s1>,…` — `h` is an 8-hex FNV-1a hash of the stream's doc list (in URL
 * order, duplicates removed), `sN` the decimal seq delivered for the N-th doc, empty when none was
 * yet. It fits any doc list (at most 100 docs), and never holds a doc id.
 */
import { isValidDocId } from './docid.js';
import { ErrorCode, ProtocolError } from './errors.js';

/** at most this many docs per SSE stream (`GET /v1/sse?doc=…`) */
export const SSE_MAX_DOCS = 100;

/** an SSE data frame without its `id:` line: the gateway appends each connection's own cursor */
export interface SseDataEvent {
  readonly doc: string;
  /** the frame's seq as a decimal string */
  readonly seq: string;
  /** `event: <type>\ndata: <json>\n` */
  readonly text: string;
}

/** `event: <type>\ndata: <json>\n` (no blank line yet). JSON has no raw line breaks, but a frame that did gets one `data:` line per line. */
export function sseEventText(type: string, json: string): string {
  if (json.indexOf('\n') >= 0 || json.indexOf('\r') >= 0) json = json.replace(/\r\n|\r|\n/g, '\ndata: ');
  return `event: ${type}\ndata: ${json}\n`;
}

/** a control frame (error, goaway, message, welcome, …) as a complete event (no id) */
export function sseControlEvent(type: string, json: string): string {
  return `${sseEventText(type, json)}\n`;
}

/** the 8-hex FNV-1a hash of a doc list, as the cursor carries it */
export function sseDocsHash(docs: readonly string[]): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < docs.length; i++) {
    const d = i === 0 ? docs[i] : `\n${docs[i]}`;
    for (let j = 0; j < d.length; j++) {
      h ^= d.charCodeAt(j);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, '0');
}

/** the cursor's fixed part for a doc list: `r1:<h>:` */
export function sseCursorPrefix(docs: readonly string[]): string {
  return `r1:${sseDocsHash(docs)}:`;
}

/**
 * The seqs a `Last-Event-ID` cursor holds for `docs` (undefined = none delivered yet: a snapshot),
 * `null` when it belongs to another doc list (the stream starts fresh), or an Error when it is not
 * a cursor at all.
 */
export function parseSseCursor(cursor: string, docs: readonly string[]): (bigint | undefined)[] | null | Error {
  const m = /^r1:([0-9a-f]{8}):([0-9,]*)$/.exec(cursor);
  if (!m) return new Error('Last-Event-ID is not a cursor of this server');
  if (m[1] !== sseDocsHash(docs)) return null;
  const parts = m[2].split(',');
  if (parts.length !== docs.length) return null;
  const out: (bigint | undefined)[] = [];
  for (const p of parts) {
    if (p === '') out.push(undefined);
    else if (p.length > 20) return new Error('Last-Event-ID holds a seq out of range');
    else out.push(BigInt(p));
  }
  return out;
}

/** the `doc` parameters of an SSE request: in order, duplicates removed; else the 400's code and message */
export function parseSseDocs(params: URLSearchParams): string[] | ProtocolError {
  const docs = [...new Set(params.getAll('doc'))];
  if (docs.length === 0) return new ProtocolError(ErrorCode.BadRequest, 'name at least one doc: /v1/sse?doc=<id>&doc=<id>');
  if (docs.length > SSE_MAX_DOCS) return new ProtocolError(ErrorCode.TooManySubscriptions, `at most ${SSE_MAX_DOCS} docs per SSE stream`);
  for (const d of docs) if (!isValidDocId(d)) return new ProtocolError(ErrorCode.BadDocId, `invalid document id: ${JSON.stringify(String(d).slice(0, 64))}`);
  return docs;
}
