/**
 * The server API's control stream: commands from origin to every gateway ride the stream log as
 * ops on one reserved document, CONTROL_DOC. Its id starts with `~`, which the doc-id grammar
 * excludes as a first character, so no client can subscribe to, read or write it (every public
 * entry point validates doc ids); gateways follow it through the same Upstream as any document.
 *
 * Its state is `{"revocations":{"<sub>":<before, unix s>},"cmd":"<last command as JSON text>"}`:
 * - `revocations` is durable: a gateway that starts (or re-bases) learns the current list from
 *   the state. Bounded by origin (MAX_REVOCATIONS subs; entries older than REVOCATION_TTL_S are
 *   pruned by the next revocation).
 * - `cmd` carries one ephemeral command per op (a message or a disconnect) as a JSON string, so
 *   the state keeps only the latest one (no accumulation) and a gateway acts on the *delta* only:
 *   a gateway that was down does not replay them. Control-doc deltas are never coalesced on the
 *   replica links (coalescing would fold two commands into one); a collapsed backlog loses the
 *   commands in it, which the gateway counts.
 * Presence (issue 18, second half) can add its own keys / ops to the same stream.
 */
import { isJsonObject } from './json-codec.js';
import type { JsonObject } from './frames.js';

export const CONTROL_DOC = '~control';
/** is `doc` a reserved (control) document: never coalesced, never served to clients */
export function isReservedDoc(doc: string): boolean {
  return doc.charCodeAt(0) === 126; // '~'
}

/** largest `data` of a server-API message, as UTF-8 JSON (DESIGN: 64 KiB) */
export const MAX_MESSAGE_DATA_BYTES = 64 * 1024;
/** subs the revocation list holds at most; a revocation for a new sub past it is refused (429) */
export const MAX_REVOCATIONS = 10_000;
/** a revocation is pruned once its `before` is this old: tokens must not live longer (24 h) */
export const REVOCATION_TTL_S = 24 * 3600;

/**
 * Is a token with `iatMs` (ms; undefined = no iat) revoked by a revocation `before` (unix s;
 * undefined = none): issued strictly before it, and a token without iat counts as issued before.
 */
export function revokedBy(before: number | undefined, iatMs: number | undefined): boolean {
  return before !== undefined && (iatMs === undefined || iatMs < before * 1000);
}

/** whom a message is for */
export type MessageTarget = { sub: string } | { connection: string } | { meta: Record<string, string> };

export type ControlCommand =
  | { t: 'message'; id: string; to: MessageTarget; data: JsonObject }
  | { t: 'disconnect'; sub: string; reconnect: boolean };

/** the op (merge patch text) that carries one ephemeral command */
export function commandPatch(c: ControlCommand): string {
  return JSON.stringify({ cmd: JSON.stringify(c) });
}

/** the command a control-doc patch carries, if any (malformed commands are ignored: undefined) */
export function commandOf(patch: JsonObject): ControlCommand | undefined {
  const text = patch.cmd;
  if (typeof text !== 'string') return undefined;
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isJsonObject(c)) return undefined;
  if (c.t === 'message' && typeof c.id === 'string' && isJsonObject(c.to) && isJsonObject(c.data)) return c as ControlCommand;
  if (c.t === 'disconnect' && typeof c.sub === 'string') return { t: 'disconnect', sub: c.sub, reconnect: c.reconnect !== false };
  return undefined;
}

/** the revocation changes a control-doc patch (or state) holds: sub -> before (unix s), null = removed */
export function revocationsOf(o: JsonObject): Map<string, number | null> | undefined {
  const r = o.revocations;
  if (!isJsonObject(r)) return undefined;
  const out = new Map<string, number | null>();
  for (const [sub, v] of Object.entries(r)) {
    if (v === null) out.set(sub, null);
    else if (typeof v === 'number' && Number.isFinite(v)) out.set(sub, v);
  }
  return out;
}

// ---- GET /v1/connections (the connection index) ----
export interface ConnectionQuery {
  sub?: string;
  /** every key must match exactly */
  meta: Record<string, string>;
  /** 1..MAX_CONNECTIONS_PAGE */
  limit: number;
  /** the `next` cursor of the previous page */
  after?: string;
}
export interface ConnectionSummary {
  id: string;
  gateway: string;
  sub: string;
  meta: Record<string, string>;
  /** documents the connection is subscribed to (a count, so a page stays bounded) */
  docs: number;
  /** when it connected, ms since the epoch */
  since: number;
}
export interface ConnectionPage {
  connections: ConnectionSummary[];
  next: string | null;
}
/** largest `limit` of GET /v1/connections */
export const MAX_CONNECTIONS_PAGE = 1000;

/** does a connection's meta hold every key/value of `want` */
export function metaMatches(meta: Record<string, string> | undefined, want: Record<string, string>): boolean {
  for (const k in want) {
    if (meta === undefined || !Object.prototype.hasOwnProperty.call(meta, k) || meta[k] !== want[k]) return false;
  }
  return true;
}
