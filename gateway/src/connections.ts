/**
 * The server API at the gateway (docs/presence-and-server-api.md): connection ids, this gateway's
 * connection index, the revocation list, and applying the commands of the control stream
 * (protocol/control.ts) that ControlFollower hands over.
 *
 * Invariants and bounds:
 *  - A connection id is `<NODE_ID>.<boot>.<n>`: NODE_ID is unique per gateway, `boot` is random
 *    per process start (a restarted gateway never reuses an id), `n` counts connections.
 *  - The index holds one entry per authenticated open connection (by id, by sub): it is bounded by
 *    the connections the gateway holds, and an entry leaves with its connection.
 *  - A message is encoded once per subprotocol (and once for SSE) per gateway and handed to each matching connection
 *    at most once. A connection that is inactive (out of credit, or its send buffer over
 *    MAX_SEND_BUFFER_BYTES) gets nothing: the message is dropped and counted, never queued.
 *    Messages do not consume credit (like control frames), but they are never sent past the bound.
 *  - `to.sub` and `to.connection` are map lookups; `to.meta` scans this gateway's connections
 *    (O(connections) per meta message, no per-connection allocation).
 *  - The revocation list mirrors the control document's (bounded by origin: MAX_REVOCATIONS).
 */
import { randomBytes } from 'node:crypto';
import {
  CloseCode,
  DisconnectReason,
  encodeServerBinary,
  encodeServerJson,
  ErrorCode,
  MAX_CONNECTIONS_PAGE,
  metaMatches,
  revokedBy,
  type ConnectionPage,
  type ConnectionQuery,
  type ConnectionSummary,
  type ControlCommand,
  type JsonObject,
} from '@replicant/protocol';
import type { Principal } from '@replicant/auth';
import { encodeFor, PROTO_BINARY, PROTO_SSE, type Socket } from './session.js';

export interface ConnectionHooks {
  /** closes a connection with a code (counted by the gateway under `label`) */
  close(ws: Socket, code: number, reason: string, label: string): void;
  /** a live connection's token was revoked: token_expired and the refresh grace (as at exp) */
  expire(ws: Socket): void;
  /** the per-connection send-buffer bound (MAX_SEND_BUFFER_BYTES) */
  maxSendBuffer: number;
}

export interface ServerApiCounts {
  /** message frames handed to connections */
  delivered: number;
  /** message frames not sent: the connection was inactive */
  dropped: number;
  /** control commands applied (messages, disconnects, revocations) */
  commands: number;
}

export class Connections implements ServerApiCounts {
  private readonly byId = new Map<string, Socket>();
  private readonly bySub = new Map<string, Set<Socket>>();
  /** sub -> before (unix s): tokens of sub issued before it are refused */
  private readonly revocations = new Map<string, number>();
  private readonly prefix: string;
  private n = 0;
  delivered = 0;
  dropped = 0;
  commands = 0;
  /** bumped when a connection is indexed, re-keyed, given meta or removed (the directory republishes) */
  version = 0;

  constructor(
    readonly nodeId: string,
    private readonly hooks: ConnectionHooks,
  ) {
    this.prefix = `${nodeId}.${randomBytes(4).toString('hex')}.`;
  }

  /** a new cluster-unique connection id */
  newId(): string {
    return this.prefix + (++this.n).toString(36);
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Indexes an authenticated connection under its (new) principal's sub. Returns true the first
   * time (the caller then sends `welcome`).
   */
  indexed(ws: Socket): boolean {
    const s = ws.getUserData().session;
    const sub = s.principal?.sub ?? '';
    const first = !this.byId.has(s.connId);
    if (!first && s.indexedSub === sub) return false;
    if (!first) this.unindexSub(ws, s.indexedSub);
    this.version++;
    this.byId.set(s.connId, ws);
    s.indexedSub = sub;
    let set = this.bySub.get(sub);
    if (!set) this.bySub.set(sub, (set = new Set()));
    set.add(ws);
    return first;
  }

  remove(ws: Socket): void {
    const s = ws.getUserData().session;
    if (this.byId.get(s.connId) !== ws) return;
    this.byId.delete(s.connId);
    this.version++;
    this.unindexSub(ws, s.indexedSub);
    s.indexedSub = undefined;
  }

  private unindexSub(ws: Socket, sub: string | undefined): void {
    if (sub === undefined) return;
    const set = this.bySub.get(sub);
    if (!set) return;
    set.delete(ws);
    if (set.size === 0) this.bySub.delete(sub);
  }

  /** `hello.meta` arrived for a connection */
  setMeta(ws: Socket, meta: Record<string, string>): void {
    ws.getUserData().session.meta = meta;
    this.version++;
  }

  // ---- revocations ----

  /** is this principal's token revoked (issued before its sub's `before`; no iat counts as before) */
  isRevoked(p: Principal): boolean {
    if (p.sub === '') return false;
    return revokedBy(this.revocations.get(p.sub), p.iatMs);
  }

  /** the whole list, from the control document's state (a start or a re-base) */
  resetRevocations(list: Map<string, number | null>): void {
    this.revocations.clear();
    for (const [sub, before] of list) if (before !== null) this.revocations.set(sub, before);
    for (const sub of this.revocations.keys()) this.expireRevoked(sub);
  }

  /** changes from one control op: live connections now holding a revoked token get token_expired */
  applyRevocations(changes: Map<string, number | null>): void {
    this.commands++;
    for (const [sub, before] of changes) {
      if (before === null) this.revocations.delete(sub);
      else {
        this.revocations.set(sub, before);
        this.expireRevoked(sub);
      }
    }
  }

  private expireRevoked(sub: string): void {
    const set = this.bySub.get(sub);
    if (!set) return;
    for (const ws of [...set]) {
      const s = ws.getUserData().session;
      if (!s.closed && !s.expired && s.principal && this.isRevoked(s.principal)) this.hooks.expire(ws);
    }
  }

  // ---- commands ----

  apply(c: ControlCommand): void {
    this.commands++;
    if (c.t === 'disconnect') return this.disconnect(c.sub, c.reconnect);
    this.message(c.id, c.to, c.data);
  }

  private disconnect(sub: string, reconnect: boolean): void {
    const set = this.bySub.get(sub);
    if (!set) return;
    const frame = { type: 'disconnect' as const, reconnect };
    const enc = [encodeServerJson(frame), encodeServerBinary(frame), encodeFor(PROTO_SSE, frame)];
    for (const ws of [...set]) {
      const s = ws.getUserData().session;
      if (s.closed) continue;
      const b = s.proto === PROTO_BINARY;
      ws.cork(() => {
        ws.send(enc[s.proto], b, false);
      });
      this.hooks.close(ws, CloseCode.Disconnected, reconnect ? DisconnectReason.Reconnect : DisconnectReason.NoReconnect, 'disconnected');
    }
  }

  private message(id: string, to: { sub?: unknown; connection?: unknown; meta?: unknown }, data: JsonObject): void {
    const frame = { type: 'message' as const, id, data: JSON.stringify(data) };
    const enc: (string | Uint8Array | undefined)[] = [undefined, undefined, undefined];
    if (typeof to.connection === 'string') {
      const ws = this.byId.get(to.connection);
      if (ws) this.send(ws, frame, enc);
      return;
    }
    if (typeof to.sub === 'string') {
      const set = this.bySub.get(to.sub);
      if (set) for (const ws of set) this.send(ws, frame, enc);
      return;
    }
    if (to.meta !== null && typeof to.meta === 'object') {
      const want = to.meta as Record<string, string>;
      for (const ws of this.byId.values()) if (metaMatches(ws.getUserData().session.meta, want)) this.send(ws, frame, enc);
    }
  }

  private send(ws: Socket, frame: { type: 'message'; id: string; data: string }, enc: (string | Uint8Array | undefined)[]): void {
    const s = ws.getUserData().session;
    // expired or revoked (in its refresh grace): its token no longer entitles it to messages
    if (s.closed || s.expired) return;
    if (s.inactive !== 0 || s.credit <= 0 || ws.getBufferedAmount() > this.hooks.maxSendBuffer) {
      this.dropped++;
      return;
    }
    const b = s.proto === PROTO_BINARY;
    const bytes = (enc[s.proto] ??= encodeFor(s.proto, frame)); // once per subprotocol
    ws.cork(() => {
      ws.send(bytes, b, false);
    });
    this.delivered++;
  }

  // ---- GET /v1/connections ----

  /** one page of this gateway's connections matching `q`, in connection order */
  list(q: ConnectionQuery): ConnectionPage {
    const limit = Math.min(Math.max(1, q.limit), MAX_CONNECTIONS_PAGE);
    const after = q.after !== undefined ? this.ordinal(q.after) : -1;
    const hits: { n: number; ws: Socket }[] = [];
    const candidates = q.sub !== undefined ? (this.bySub.get(q.sub) ?? new Set<Socket>()) : this.byId.values();
    for (const ws of candidates) {
      const s = ws.getUserData().session;
      const n = this.ordinal(s.connId);
      if (n <= after || !metaMatches(s.meta, q.meta)) continue;
      hits.push({ n, ws });
    }
    hits.sort((a, b) => a.n - b.n);
    const page = hits.slice(0, limit).map(({ ws }) => this.summary(ws));
    return { connections: page, next: hits.length > limit ? page[page.length - 1].id : null };
  }

  /** summaries of at most `max` connections (the cluster's connection directory publishes them) */
  summaries(max: number): ConnectionSummary[] {
    const out: ConnectionSummary[] = [];
    for (const ws of this.byId.values()) {
      if (out.length >= max) break;
      out.push(this.summary(ws));
    }
    return out;
  }

  summary(ws: Socket): ConnectionSummary {
    const s = ws.getUserData().session;
    return { id: s.connId, gateway: this.nodeId, sub: s.indexedSub ?? '', meta: s.meta ?? {}, docs: s.subs?.size ?? 0, since: s.since };
  }

  /** the counter of one of our ids; another gateway's or a malformed id orders first (-1) */
  private ordinal(id: string): number {
    if (!id.startsWith(this.prefix)) return -1;
    const n = parseInt(id.slice(this.prefix.length), 36);
    return Number.isFinite(n) ? n : -1;
  }
}

/** the error a connection whose token is revoked gets before its close (4001) */
export const REVOKED_ERROR = { code: ErrorCode.Unauthorized, message: 'token revoked: issued before the revocation of its sub' } as const;
