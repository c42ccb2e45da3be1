/**
 * The `replicant.v1.json` subprotocol: JSON text frames with the exact field names of the contract.
 * Decoders return a ProtocolError instead of throwing, so a socket handler can never be taken down
 * by input. Encoders build the text directly: a delta is encoded once and the same string is sent
 * to every JSON subscriber.
 */
import { ErrorCode, ProtocolError } from './errors.js';
import { isValidDocId } from './docid.js';
import { parseSeq } from './seq.js';
import { checkPatch } from './patch-bounds.js';
import { isPresenceDoc, MAX_PRESENCE_INFO_BYTES, PRESENCE_SUFFIX, presenceDocOf } from './presence.js';
import type { ClientFrame, JsonObject, PublishFrame, ReceivedFrame, ServerFrame, SubscribeFrame } from './frames.js';

export const MAX_ID_LENGTH = 256;
export const MAX_TOKEN_LENGTH = 8192;
/** largest credit window a client may ask for in `hello` (DESIGN: 1 <= W <= 65536) */
export const MAX_WINDOW = 65536;
/** routing metadata of `hello.meta`: flat string values, at most this many bytes as JSON (DESIGN) */
export const MAX_META_BYTES = 1024;
const utf8Bytes = new TextEncoder();

/**
 * `hello.meta` (and server-API `to.meta` filters): a flat object of string values whose JSON is at
 * most MAX_META_BYTES UTF-8 bytes; a fresh plain object, or an error message.
 */
export function validateMeta(v: unknown): Record<string, string> | string {
  if (!isJsonObject(v)) return 'meta must be an object of string values';
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string' || k === '') return 'meta must be an object of non-empty keys with string values';
    Object.defineProperty(out, k, { value: val, enumerable: true, writable: true, configurable: true });
  }
  if (utf8Bytes.encode(JSON.stringify(out)).length > MAX_META_BYTES) return `meta is larger than ${MAX_META_BYTES} bytes as JSON`;
  return out;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a decoded client frame object (shared by both codecs). */
export function validateClientFrame(o: unknown): ClientFrame | ProtocolError {
  if (!isJsonObject(o)) return new ProtocolError(ErrorCode.BadFrame, 'frame must be a JSON object');
  const doc = typeof o.doc === 'string' ? o.doc : undefined;
  switch (o.type) {
    case 'subscribe': {
      if (!isValidDocId(o.doc)) return badDoc(o.doc);
      let out: SubscribeFrame;
      if (o.lastSeq === undefined || o.lastSeq === null) out = { type: 'subscribe', doc: o.doc };
      else {
        const lastSeq = parseSeq(o.lastSeq);
        if (lastSeq === undefined) {
          return new ProtocolError(ErrorCode.BadSeq, 'lastSeq must be a decimal string (unsigned 64-bit)', o.doc);
        }
        out = { type: 'subscribe', doc: o.doc, lastSeq };
      }
      if (o.presence === undefined || o.presence === null || o.presence === false) {
        if (o.info !== undefined && o.info !== null) return new ProtocolError(ErrorCode.BadFrame, 'info needs presence: true', o.doc);
        return out;
      }
      if (o.presence !== true) return new ProtocolError(ErrorCode.BadFrame, 'presence must be a boolean', o.doc);
      if (isPresenceDoc(o.doc)) return new ProtocolError(ErrorCode.BadFrame, 'a presence document has no presence of its own', o.doc);
      if (!isValidDocId(presenceDocOf(o.doc))) return new ProtocolError(ErrorCode.BadFrame, `presence needs a doc id of at most ${256 - PRESENCE_SUFFIX.length} characters`, o.doc);
      out.presence = true;
      if (o.info === undefined || o.info === null) return out;
      if (!isJsonObject(o.info)) return new ProtocolError(ErrorCode.BadFrame, 'info must be a JSON object', o.doc);
      if (utf8Bytes.encode(JSON.stringify(o.info)).length > MAX_PRESENCE_INFO_BYTES) {
        return new ProtocolError(ErrorCode.BadFrame, `info is larger than ${MAX_PRESENCE_INFO_BYTES} bytes as JSON`, o.doc);
      }
      out.info = o.info;
      return out;
    }
    case 'unsubscribe':
      if (!isValidDocId(o.doc)) return badDoc(o.doc);
      return { type: 'unsubscribe', doc: o.doc };
    case 'publish': {
      let id: string | undefined;
      if (o.id !== undefined && o.id !== null && o.id !== '') {
        if (typeof o.id !== 'string' || o.id.length > MAX_ID_LENGTH) {
          return new ProtocolError(ErrorCode.BadFrame, `id must be a string of at most ${MAX_ID_LENGTH} characters`, doc);
        }
        id = o.id;
      }
      if (!isValidDocId(o.doc)) return new ProtocolError(ErrorCode.BadDocId, docIdMessage(o.doc), undefined, id);
      // bounded before JSON.stringify, which overflows the stack on deep nesting (patch-bounds.ts)
      const bad = checkPatch(o.patch, o.doc, id);
      if (bad) return bad;
      const f: PublishFrame = { type: 'publish', doc: o.doc, patch: JSON.stringify(o.patch) };
      if (id !== undefined) f.id = id;
      if (o.ifSeq !== undefined && o.ifSeq !== null) {
        const ifSeq = parseSeq(o.ifSeq);
        if (ifSeq === undefined) return new ProtocolError(ErrorCode.BadSeq, 'ifSeq must be a decimal string (unsigned 64-bit)', o.doc, id);
        f.ifSeq = ifSeq;
      }
      return f;
    }
    case 'hello': {
      // DESIGN: 1 <= W <= 65536
      const w = o.window;
      if (!Number.isInteger(w) || (w as number) < 1 || (w as number) > MAX_WINDOW) {
        return new ProtocolError(ErrorCode.BadFrame, `hello.window must be an integer in [1, ${MAX_WINDOW}]`);
      }
      if (o.meta === undefined || o.meta === null) return { type: 'hello', window: w as number };
      const meta = validateMeta(o.meta);
      if (typeof meta === 'string') return new ProtocolError(ErrorCode.BadFrame, `hello.${meta}`);
      return { type: 'hello', window: w as number, meta };
    }
    case 'credit': {
      const n = o.n;
      if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 1_000_000) {
        return new ProtocolError(ErrorCode.BadFrame, 'credit.n must be an integer in [1, 1000000]');
      }
      return { type: 'credit', n: n as number };
    }
    case 'auth':
      if (typeof o.token !== 'string' || o.token.length === 0 || o.token.length > MAX_TOKEN_LENGTH) {
        return new ProtocolError(ErrorCode.BadFrame, 'auth.token must be a non-empty string');
      }
      return { type: 'auth', token: o.token };
    case 'ping':
      return { type: 'ping' };
    default:
      return new ProtocolError(
        ErrorCode.BadFrame,
        typeof o.type === 'string' ? `unknown frame type ${JSON.stringify(o.type.slice(0, 64))}` : 'frame has no type',
        doc,
      );
  }
}

function docIdMessage(doc: unknown): string {
  return typeof doc === 'string'
    ? `invalid doc id ${JSON.stringify(doc.slice(0, 64))}: must match [A-Za-z0-9][A-Za-z0-9._:~-]{0,255}`
    : 'doc must be a string doc id';
}
function badDoc(doc: unknown): ProtocolError {
  return new ProtocolError(ErrorCode.BadDocId, docIdMessage(doc));
}

export function decodeClientJson(text: string): ClientFrame | ProtocolError {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return new ProtocolError(ErrorCode.BadFrame, 'frame is not valid JSON');
  }
  return validateClientFrame(o);
}

/** Encodes a server frame as JSON text. `state` and `patch` are already JSON text and are spliced in. */
export function encodeServerJson(f: ServerFrame): string {
  switch (f.type) {
    case 'delta':
      // doc ids match DOC_ID_PATTERN, so they need no escaping.
      return `{"type":"delta","doc":"${f.doc}","seq":"${f.seq}","prevSeq":"${f.prevSeq}","patch":${f.patch}}`;
    case 'snapshot':
      return `{"type":"snapshot","doc":"${f.doc}","seq":"${f.seq}","state":${f.state}}`;
    case 'ack':
      return `{"type":"ack","id":${JSON.stringify(f.id)},"seq":"${f.seq}"}`;
    case 'error': {
      const o: Record<string, string> = { type: 'error', code: f.code, message: f.message };
      if (f.doc !== undefined) o.doc = f.doc;
      if (f.id !== undefined) o.id = f.id;
      return JSON.stringify(o);
    }
    case 'goaway':
      return `{"type":"goaway","reconnectMs":${f.reconnectMs | 0}}`;
    case 'pong':
      return '{"type":"pong"}';
    case 'welcome':
      return `{"type":"welcome","connection":${JSON.stringify(f.connection)}}`;
    case 'message':
      return `{"type":"message","id":${JSON.stringify(f.id)},"data":${f.data}}`;
    case 'disconnect':
      return `{"type":"disconnect","reconnect":${f.reconnect ? 'true' : 'false'}}`;
  }
}

/** Client side: encodes a client frame as JSON text. */
export function encodeClientJson(f: ClientFrame): string {
  switch (f.type) {
    case 'subscribe':
      if (f.presence) return JSON.stringify(f.lastSeq === undefined ? f : { ...f, lastSeq: String(f.lastSeq) });
      return f.lastSeq === undefined
        ? `{"type":"subscribe","doc":${JSON.stringify(f.doc)}}`
        : `{"type":"subscribe","doc":${JSON.stringify(f.doc)},"lastSeq":"${f.lastSeq}"}`;
    case 'publish':
      return `{"type":"publish","doc":${JSON.stringify(f.doc)},"patch":${f.patch}${f.id !== undefined ? `,"id":${JSON.stringify(f.id)}` : ''}${f.ifSeq !== undefined ? `,"ifSeq":"${f.ifSeq}"` : ''}}`;
    default:
      return JSON.stringify(f);
  }
}

/** Client side: decodes a server JSON frame, parsing `state`/`patch` into objects. */
export function decodeServerJson(text: string): ReceivedFrame | ProtocolError {
  let o: any;
  try {
    o = JSON.parse(text);
  } catch {
    return new ProtocolError(ErrorCode.BadFrame, 'server frame is not valid JSON');
  }
  if (!isJsonObject(o)) return new ProtocolError(ErrorCode.BadFrame, 'server frame must be an object');
  switch (o.type) {
    case 'snapshot': {
      const seq = parseSeq(o.seq);
      if (seq === undefined || typeof o.doc !== 'string' || !isJsonObject(o.state)) break;
      return { type: 'snapshot', doc: o.doc, seq, state: o.state };
    }
    case 'delta': {
      const seq = parseSeq(o.seq);
      const prevSeq = parseSeq(o.prevSeq);
      if (seq === undefined || prevSeq === undefined || typeof o.doc !== 'string' || !isJsonObject(o.patch)) break;
      return { type: 'delta', doc: o.doc, seq, prevSeq, patch: o.patch };
    }
    case 'ack': {
      const seq = parseSeq(o.seq);
      if (seq === undefined || typeof o.id !== 'string') break;
      return { type: 'ack', id: o.id, seq };
    }
    case 'error':
      return { type: 'error', code: String(o.code), message: String(o.message), doc: o.doc as string | undefined, id: o.id as string | undefined };
    case 'goaway':
      return { type: 'goaway', reconnectMs: Number(o.reconnectMs) || 0 };
    case 'pong':
      return { type: 'pong' };
    case 'welcome':
      if (typeof o.connection !== 'string') break;
      return { type: 'welcome', connection: o.connection };
    case 'message':
      if (typeof o.id !== 'string' || !isJsonObject(o.data)) break;
      return { type: 'message', id: o.id, data: o.data };
    case 'disconnect':
      return { type: 'disconnect', reconnect: o.reconnect !== false };
  }
  return new ProtocolError(ErrorCode.BadFrame, `malformed server frame ${String(o.type)}`);
}
