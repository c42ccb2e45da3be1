/**
 * Presence (who is here): the presence of document `d` is the read-only document `d~presence`
 * (docs/presence-and-server-api.md). Its state:
 *   {"connections":<n>,"users":{"<sub>":{"connections":<k>,"info":{…}}}}
 * `connections` is exact; `users` lists at most PRESENCE_MAX_USERS subs.
 *
 * Gateways aggregate their own members per doc and report *absolute* per-gateway values (a doc's
 * member count, and per changed sub its local count and info), so a report is idempotent: a
 * retried or repeated one changes nothing. Origin's aggregator (origin/src/presence.ts) sums the
 * gateways' contributions and writes `d~presence` like any document, at most once per interval.
 */
import type { JsonObject } from './frames.js';

function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const PRESENCE_SUFFIX = '~presence';
/** the error message of a write to a presence document (400 bad_request / error frame) */
export const PRESENCE_READ_ONLY = 'presence documents (ids ending in ~presence) are read-only';
/** largest `info` of a presence join, as UTF-8 JSON (DESIGN: 1 KiB) */
export const MAX_PRESENCE_INFO_BYTES = 1024;

/** is `doc` a presence document (read-only: the aggregator is its only writer) */
export function isPresenceDoc(doc: string): boolean {
  return doc.endsWith(PRESENCE_SUFFIX);
}

/** the presence document of `doc` */
export function presenceDocOf(doc: string): string {
  return doc + PRESENCE_SUFFIX;
}

/** the doc whose read scope governs `doc`: `d` for `d~presence`, else `doc` itself */
export function readScopeDocOf(doc: string): string {
  return doc.endsWith(PRESENCE_SUFFIX) ? doc.slice(0, -PRESENCE_SUFFIX.length) : doc;
}

/** one gateway's contribution to one doc: its member connections, and per changed sub [local count, info] (null = none left here) */
export interface PresenceDocReport {
  n: number;
  u: Record<string, [number, JsonObject] | null>;
}

/**
 * What a gateway sends its origin at most once per PRESENCE_INTERVAL_MS (and as a heartbeat every
 * PRESENCE_TTL_MS / 3). `full`: the whole contribution (docs and subs not named are gone), sent
 * after the gateway starts, after a failed report, and when origin's `boot` changed (it restarted).
 */
export interface PresenceReport {
  gateway: string;
  /** a value per gateway process start: a new one replaces the old process's contribution */
  boot: string;
  full: boolean;
  docs: Record<string, PresenceDocReport>;
}

/** origin's answer: its boot id (a change means it lost its contributions: send a full report) */
export interface PresenceAck {
  boot: string;
}

const MAX_ID = 256;

/** validates a report received over HTTP (cluster-signed); a string names what is wrong */
export function parsePresenceReport(v: unknown): PresenceReport | string {
  if (!isJsonObject(v)) return 'report must be a JSON object';
  const { gateway, boot, full, docs } = v;
  if (typeof gateway !== 'string' || gateway === '' || gateway.length > MAX_ID) return 'gateway must be a non-empty string';
  if (typeof boot !== 'string' || boot === '' || boot.length > MAX_ID) return 'boot must be a non-empty string';
  if (typeof full !== 'boolean') return 'full must be a boolean';
  if (!isJsonObject(docs)) return 'docs must be an object';
  for (const d in docs) {
    const r = docs[d];
    if (!isJsonObject(r) || !Number.isInteger(r.n) || (r.n as number) < 0 || !isJsonObject(r.u)) return 'docs.<doc> must be {"n":<count>,"u":{…}}';
    for (const s in r.u) {
      const e = r.u[s];
      if (e === null) continue;
      if (!Array.isArray(e) || e.length !== 2 || !Number.isInteger(e[0]) || e[0] < 1 || !isJsonObject(e[1])) return 'docs.<doc>.u.<sub> must be [<count ≥ 1>, {info}] or null';
    }
  }
  return v as unknown as PresenceReport;
}
