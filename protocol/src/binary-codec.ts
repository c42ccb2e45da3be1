/**
 * The `replicant.v1` subprotocol: one protobuf ClientFrame / ServerFrame per binary message, using
 * the static code generated from replicant.proto (protocol/src/generated). JSON payloads (state,
 * patch) travel as UTF-8 bytes. Decoders return a ProtocolError instead of throwing.
 */
import { replicant } from './generated/replicant.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { validateClientFrame, isJsonObject } from './json-codec.js';
import { longToSeq, seqToLong } from './seq.js';
import type { ClientFrame, ReceivedFrame, ServerFrame } from './frames.js';

const pb = replicant.v1;
export { pb };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

export function utf8Encode(s: string): Uint8Array {
  return enc.encode(s);
}

function parseJsonBytes(b: Uint8Array): unknown {
  return JSON.parse(utf8.decode(b));
}

export function decodeClientBinary(bytes: Uint8Array): ClientFrame | ProtocolError {
  let f: replicant.v1.ClientFrame;
  try {
    f = pb.ClientFrame.decode(bytes);
  } catch {
    return new ProtocolError(ErrorCode.BadFrame, 'frame is not a valid replicant.v1 ClientFrame');
  }
  switch (f.frame) {
    case 'subscribe': {
      const s = f.subscribe!;
      const o: Record<string, unknown> = { type: 'subscribe', doc: s.doc };
      if (s.lastSeq != null) o.lastSeq = String(longToSeq(s.lastSeq));
      if (s.presence) o.presence = true;
      if (s.info != null && s.info.length > 0) {
        try {
          o.info = JSON.parse(utf8.decode(s.info));
        } catch {
          return new ProtocolError(ErrorCode.BadFrame, 'info is not valid JSON', s.doc ?? undefined);
        }
      }
      return validateClientFrame(o);
    }
    case 'unsubscribe':
      return validateClientFrame({ type: 'unsubscribe', doc: f.unsubscribe!.doc });
    case 'publish': {
      const p = f.publish!;
      let patch: unknown;
      try {
        patch = parseJsonBytes(p.patch!);
      } catch {
        return new ProtocolError(ErrorCode.BadPatch, 'patch is not valid UTF-8 JSON', p.doc ?? '', p.id || undefined);
      }
      const o: Record<string, unknown> = { type: 'publish', doc: p.doc, patch, id: p.id };
      if (p.ifSeq != null) o.ifSeq = String(longToSeq(p.ifSeq));
      return validateClientFrame(o);
    }
    case 'hello': {
      const meta = f.hello!.meta;
      const hasMeta = meta != null && Object.keys(meta).length > 0;
      return validateClientFrame(hasMeta ? { type: 'hello', window: f.hello!.window, meta } : { type: 'hello', window: f.hello!.window });
    }
    case 'credit':
      return validateClientFrame({ type: 'credit', n: f.credit!.n });
    case 'auth':
      return validateClientFrame({ type: 'auth', token: f.auth!.token });
    case 'ping':
      return { type: 'ping' };
    default:
      return new ProtocolError(ErrorCode.BadFrame, 'ClientFrame has no frame set');
  }
}

export function encodeServerBinary(f: ServerFrame): Uint8Array {
  switch (f.type) {
    case 'delta':
      return pb.ServerFrame.encode({
        delta: { doc: f.doc, seq: seqToLong(f.seq), prevSeq: seqToLong(f.prevSeq), patch: utf8Encode(f.patch) },
      }).finish();
    case 'snapshot':
      return pb.ServerFrame.encode({
        snapshot: { doc: f.doc, seq: seqToLong(f.seq), state: utf8Encode(f.state) },
      }).finish();
    case 'ack':
      return pb.ServerFrame.encode({ ack: { id: f.id, seq: seqToLong(f.seq) } }).finish();
    case 'error':
      return pb.ServerFrame.encode({ error: { code: f.code, message: f.message, doc: f.doc ?? '', id: f.id ?? '' } }).finish();
    case 'goaway':
      return pb.ServerFrame.encode({ goaway: { reconnectMs: f.reconnectMs } }).finish();
    case 'pong':
      return pb.ServerFrame.encode({ pong: {} }).finish();
    case 'welcome':
      return pb.ServerFrame.encode({ welcome: { connection: f.connection } }).finish();
    case 'message':
      return pb.ServerFrame.encode({ message: { id: f.id, data: utf8Encode(f.data) } }).finish();
    case 'disconnect':
      return pb.ServerFrame.encode({ disconnect: { reconnect: f.reconnect } }).finish();
  }
}

/** Client side: encodes a client frame as a protobuf ClientFrame. */
export function encodeClientBinary(f: ClientFrame): Uint8Array {
  switch (f.type) {
    case 'subscribe':
      return pb.ClientFrame.encode({
        subscribe: {
          doc: f.doc,
          ...(f.lastSeq === undefined ? {} : { lastSeq: seqToLong(f.lastSeq) }),
          ...(f.presence ? { presence: true } : {}),
          ...(f.info !== undefined ? { info: enc.encode(JSON.stringify(f.info)) } : {}),
        },
      }).finish();
    case 'unsubscribe':
      return pb.ClientFrame.encode({ unsubscribe: { doc: f.doc } }).finish();
    case 'publish':
      return pb.ClientFrame.encode({
        publish:
          f.ifSeq === undefined
            ? { doc: f.doc, patch: utf8Encode(f.patch), id: f.id ?? '' }
            : { doc: f.doc, patch: utf8Encode(f.patch), id: f.id ?? '', ifSeq: seqToLong(f.ifSeq) },
      }).finish();
    case 'hello':
      return pb.ClientFrame.encode({ hello: f.meta === undefined ? { window: f.window } : { window: f.window, meta: f.meta } }).finish();
    case 'credit':
      return pb.ClientFrame.encode({ credit: { n: f.n } }).finish();
    case 'auth':
      return pb.ClientFrame.encode({ auth: { token: f.token } }).finish();
    case 'ping':
      return pb.ClientFrame.encode({ ping: {} }).finish();
  }
}

/** Client side: decodes a protobuf ServerFrame, parsing state/patch JSON into objects. */
export function decodeServerBinary(bytes: Uint8Array): ReceivedFrame | ProtocolError {
  try {
    const f = pb.ServerFrame.decode(bytes);
    switch (f.frame) {
      case 'delta': {
        const d = f.delta!;
        const patch = parseJsonBytes(d.patch!);
        if (!isJsonObject(patch)) break;
        return { type: 'delta', doc: d.doc!, seq: longToSeq(d.seq), prevSeq: longToSeq(d.prevSeq), patch };
      }
      case 'snapshot': {
        const s = f.snapshot!;
        const state = parseJsonBytes(s.state!);
        if (!isJsonObject(state)) break;
        return { type: 'snapshot', doc: s.doc!, seq: longToSeq(s.seq), state };
      }
      case 'ack':
        return { type: 'ack', id: f.ack!.id!, seq: longToSeq(f.ack!.seq) };
      case 'error': {
        const e = f.error!;
        return { type: 'error', code: e.code!, message: e.message!, doc: e.doc || undefined, id: e.id || undefined };
      }
      case 'goaway':
        return { type: 'goaway', reconnectMs: f.goaway!.reconnectMs ?? 0 };
      case 'pong':
        return { type: 'pong' };
      case 'welcome':
        return { type: 'welcome', connection: f.welcome!.connection ?? '' };
      case 'message': {
        const data = parseJsonBytes(f.message!.data!);
        if (!isJsonObject(data)) break;
        return { type: 'message', id: f.message!.id ?? '', data };
      }
      case 'disconnect':
        return { type: 'disconnect', reconnect: f.disconnect!.reconnect ?? false };
    }
  } catch {
    // fall through to the typed error
  }
  return new ProtocolError(ErrorCode.BadFrame, 'malformed replicant.v1 ServerFrame');
}
