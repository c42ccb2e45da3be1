/**
 * Presence aggregation (docs/presence-and-server-api.md, "Presence"): the only writer of the
 * read-only documents `d~presence`. Gateways report their own members per doc (absolute values,
 * protocol/presence.ts, so a report is idempotent); this sums them and appends, per changed doc,
 * one merge patch per PRESENCE_INTERVAL_MS to `d~presence` through the log (Origin.writeReserved).
 * From there presence is a document like any other: fanout replicas, coalescing, resume, history,
 * GET and the read scope of `d` (auth/scopes.ts) all apply unchanged.
 *
 * Invariants and bounds:
 * - `connections` is exact: the sum of the live gateways' counts. `users` lists at most `maxUsers`
 *   subs; a listed sub stays listed until it leaves, then the longest-waiting unlisted sub takes
 *   its place (a Set in insertion order: O(1)). A user's `connections` is exact when listed.
 * - Cost per change (a sub joining or leaving on a gateway) is O(1) map updates plus marking the
 *   sub dirty; a flush costs O(dirty subs) and writes O(changed entries), never O(members). A
 *   full report (a gateway start, a retry after a failed report, an origin restart) and a
 *   gateway's expiry cost O(that gateway's members), once.
 * - A gateway not heard from for `ttlMs` (it reports at least every ttlMs / 3) is removed with
 *   its members; a report naming a new `boot` of a gateway replaces the old process's
 *   contribution. After this origin starts it writes nothing for `warmupMs` (live gateways see a
 *   new boot and send full reports meanwhile), then the first flush of a doc diffs against the
 *   doc's stored state, so members of a previous life are removed.
 * - Memory: O(members reported to this origin) (per gateway, per doc, per sub: a count and a
 *   reference to the info object, ≤ 1 KiB each, validated by the gateway); the doc's state holds
 *   at most maxUsers entries. At most MAX_FLUSHING writes are in flight; the rest wait a tick.
 * Several origins: one aggregates (the presence leader, stream/src/presence-relay-redis.ts); the
 * others relay the reports they receive to it.
 */
import { randomUUID } from 'node:crypto';
import type { TemplatedApp } from 'uWebSockets.js';
import { originMetrics } from './metrics.js';
import { isClusterAuth, ReplayCache, verifyClusterRequest } from '@replicant/auth';
import {
  diffMergePatch,
  ErrorCode,
  isValidDocId,
  parsePresenceReport,
  presenceDocOf,
  type JsonObject,
  type PresenceAck,
  type PresenceReport,
} from '@replicant/protocol';

export const DEFAULT_PRESENCE_MAX_USERS = 1000;
export const DEFAULT_PRESENCE_INTERVAL_MS = 1000;
export const DEFAULT_PRESENCE_TTL_MS = 10_000;
/** presence docs written at once; more dirty docs wait for the next interval */
export const MAX_FLUSHING = 64;

export interface PresenceWriter {
  writeReserved(docId: string, patchText: string): Promise<bigint>;
  readReserved(docId: string): Promise<{ seq: bigint; state: JsonObject }>;
}

export interface PresenceOptions {
  maxUsers?: number;
  intervalMs?: number;
  ttlMs?: number;
  /** nothing is written for this long after start (default ttlMs / 2: gateways re-report) */
  warmupMs?: number;
  /** the id gateways see in every answer (default a random one): a new one makes them send full reports */
  boot?: string;
  /** writes happen only while this holds (a cluster's presence leader holds its lease) */
  active?: () => boolean;
}

const EMPTY: JsonObject = Object.freeze({}) as JsonObject;

interface UserAgg {
  /** connections of this sub over every gateway */
  k: number;
  info: JsonObject;
  listed: boolean;
  /** the entry as last written to the doc (listed users only) */
  written: JsonObject | undefined;
}

interface DocAgg {
  n: number;
  users: Map<string, UserAgg>;
  /** present users not listed, longest waiting first */
  unlisted: Set<string>;
  listed: number;
  /** subs whose entry may differ from what was written */
  dirty: Set<string>;
  /** `connections` as last written (-1: never written in this origin's life) */
  writtenN: number;
  flushing: boolean;
}

interface GatewayAgg {
  boot: string;
  seen: number;
  /** doc -> its count here and per sub [count here, info] */
  docs: Map<string, { n: number; users: Map<string, { k: number; info: JsonObject }> }>;
}

export class PresenceAggregator {
  readonly boot: string;
  private readonly active: () => boolean;
  private readonly docs = new Map<string, DocAgg>();
  private readonly gateways = new Map<string, GatewayAgg>();
  private readonly dirtyDocs = new Set<string>();
  private readonly maxUsers: number;
  readonly intervalMs: number;
  readonly ttlMs: number;
  private readonly writableAt: number;
  private timer: NodeJS.Timeout | undefined;
  private flushing = 0;
  private readonly metrics = originMetrics();
  /** patches written (tests, metrics) */
  writes = 0;
  /** gateways expired by the TTL */
  expired = 0;

  constructor(
    private readonly writer: PresenceWriter,
    opts: PresenceOptions = {},
  ) {
    this.boot = opts.boot ?? randomUUID();
    this.active = opts.active ?? (() => true);
    this.maxUsers = opts.maxUsers ?? DEFAULT_PRESENCE_MAX_USERS;
    this.intervalMs = opts.intervalMs ?? DEFAULT_PRESENCE_INTERVAL_MS;
    this.ttlMs = opts.ttlMs ?? DEFAULT_PRESENCE_TTL_MS;
    this.writableAt = Date.now() + (opts.warmupMs ?? this.ttlMs / 2);
    this.metrics.presenceLeader.set(1);
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref?.();
  }

  /** applies one gateway report; O(what it names) (a full report also O(that gateway's previous members)) */
  report(r: PresenceReport, now = Date.now()): PresenceAck {
    let g = this.gateways.get(r.gateway);
    if (g && (g.boot !== r.boot || r.full)) {
      this.removeGateway(r.gateway, g);
      g = undefined;
    }
    if (!g) {
      g = { boot: r.boot, seen: 0, docs: new Map() };
      this.gateways.set(r.gateway, g);
    }
    g.seen = now;
    for (const doc in r.docs) {
      if (!isValidDocId(presenceDocOf(doc))) continue;
      const rep = r.docs[doc];
      let gd = g.docs.get(doc);
      if (!gd) g.docs.set(doc, (gd = { n: 0, users: new Map() }));
      const d = this.doc(doc);
      d.n += rep.n - gd.n;
      gd.n = rep.n;
      for (const sub in rep.u) {
        const e = rep.u[sub];
        const prev = gd.users.get(sub);
        const prevK = prev?.k ?? 0;
        const k = e === null ? 0 : e[0];
        if (e === null) gd.users.delete(sub);
        else if (prev) {
          prev.k = k;
          prev.info = e[1];
        } else gd.users.set(sub, { k, info: e[1] });
        this.addUser(doc, d, sub, k - prevK, e === null ? undefined : e[1]);
      }
      if (gd.n === 0 && gd.users.size === 0) g.docs.delete(doc);
      this.dirtyDocs.add(doc);
    }
    return { boot: this.boot };
  }

  private doc(doc: string): DocAgg {
    let d = this.docs.get(doc);
    if (!d) this.docs.set(doc, (d = { n: 0, users: new Map(), unlisted: new Set(), listed: 0, dirty: new Set(), writtenN: -1, flushing: false }));
    return d;
  }

  /** a sub's count over all gateways moves by `dk`; `info` (when given) is its latest */
  private addUser(doc: string, d: DocAgg, sub: string, dk: number, info: JsonObject | undefined): void {
    let u = d.users.get(sub);
    if (!u) {
      if (dk <= 0) return;
      u = { k: 0, info: EMPTY, listed: d.listed < this.maxUsers, written: undefined };
      d.users.set(sub, u);
      if (u.listed) d.listed++;
      else d.unlisted.add(sub);
    }
    u.k += dk;
    if (info) u.info = info;
    if (u.listed) d.dirty.add(sub);
    if (u.k > 0) return;
    d.users.delete(sub);
    if (!u.listed) {
      d.unlisted.delete(sub);
      return;
    }
    d.listed--;
    // the longest-waiting unlisted sub takes the place
    for (const next of d.unlisted) {
      d.unlisted.delete(next);
      const nu = d.users.get(next)!;
      nu.listed = true;
      d.listed++;
      d.dirty.add(next);
      break;
    }
    this.dirtyDocs.add(doc);
  }

  private removeGateway(id: string, g: GatewayAgg): void {
    this.gateways.delete(id);
    for (const [doc, gd] of g.docs) {
      const d = this.doc(doc);
      d.n -= gd.n;
      for (const [sub, e] of gd.users) this.addUser(doc, d, sub, -e.k, undefined);
      this.dirtyDocs.add(doc);
    }
  }

  /** expires silent gateways, then writes the docs that changed */
  tick(now = Date.now()): void {
    for (const [id, g] of this.gateways) {
      if (now - g.seen > this.ttlMs) {
        this.expired++;
        this.metrics.presenceExpired.inc();
        this.removeGateway(id, g);
      }
    }
    if (now < this.writableAt || !this.active()) return;
    for (const doc of this.dirtyDocs) {
      if (this.flushing >= MAX_FLUSHING) break;
      const d = this.docs.get(doc)!;
      if (d.flushing) continue;
      this.dirtyDocs.delete(doc);
      void this.flush(doc, d);
    }
  }

  /** the entry of a listed user as written to the doc */
  private static entry(u: UserAgg): JsonObject {
    return { connections: u.k, info: u.info };
  }

  private async flush(doc: string, d: DocAgg): Promise<void> {
    d.flushing = true;
    this.flushing++;
    const pdoc = presenceDocOf(doc);
    const dirty = d.dirty;
    d.dirty = new Set();
    const written = new Map<string, JsonObject>();
    // what this write makes the doc say (reports may arrive while it is in flight)
    const n = d.n;
    try {
      let patch: JsonObject | undefined;
      if (d.writtenN < 0) {
        // first write of this doc in this origin's life: diff against what the doc holds (a previous life's members leave)
        const target: JsonObject = { connections: n, users: {} };
        const users = target.users as JsonObject;
        for (const [sub, u] of d.users) {
          if (!u.listed) continue;
          users[sub] = PresenceAggregator.entry(u);
          written.set(sub, users[sub] as JsonObject);
        }
        const { state } = await this.writer.readReserved(pdoc);
        patch = diffMergePatch(state, target);
      } else {
        const users: JsonObject = {};
        let any = false;
        for (const sub of dirty) {
          const u = d.users.get(sub);
          if (!u?.listed) {
            // left (or, rejoining, waits unlisted): null removes it (a no-op if it was never written)
            users[sub] = null;
            any = true;
            continue;
          }
          const now = PresenceAggregator.entry(u);
          const p = u.written === undefined ? now : diffMergePatch(u.written, now);
          if (p !== undefined && Object.keys(p).length > 0) {
            users[sub] = p;
            any = true;
          }
          written.set(sub, now);
        }
        const out: JsonObject = {};
        if (n !== d.writtenN) out.connections = n;
        if (any) out.users = users;
        patch = Object.keys(out).length > 0 ? out : undefined;
      }
      if (patch !== undefined && Object.keys(patch).length > 0) {
        await this.writer.writeReserved(pdoc, JSON.stringify(patch));
        this.writes++;
        this.metrics.presenceWrites.inc();
      }
      d.writtenN = n;
      for (const [sub, e] of written) {
        const u = d.users.get(sub);
        if (u?.listed) u.written = e;
      }
    } catch {
      // not written (origin overloaded, log down): everything stays dirty for the next interval
      for (const sub of dirty) d.dirty.add(sub);
      this.dirtyDocs.add(doc);
    } finally {
      d.flushing = false;
      this.flushing--;
      if (d.dirty.size > 0 || d.n !== d.writtenN) this.dirtyDocs.add(doc);
      // a doc nobody is in any more, fully written: forget it (a later join re-reads its state)
      if (d.n === 0 && d.users.size === 0 && d.dirty.size === 0 && !this.dirtyDocs.has(doc)) this.docs.delete(doc);
    }
  }

  close(): void {
    this.metrics.presenceLeader.set(0);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** the route gateways report to (cluster-signed with CLUSTER_SECRET) */
export const PRESENCE_ROUTE = '/v1/presence';
/** a report's body bound: a full report of a big gateway is sent in pieces of at most this (gateway/src/presence.ts) */
export const MAX_PRESENCE_BODY_BYTES = 8 * 1024 * 1024;

/**
 * POST /v1/presence on origin's HTTP: a gateway's report -> 200 {"boot"}. With CLUSTER_SECRET only
 * a valid, fresh cluster signature (target /v1/presence) is accepted (401 otherwise); without one
 * (AUTH_DISABLED=true clusters) the route is open like every other. Not for clients.
 */
export function registerPresenceHttp(app: TemplatedApp, presence: { report(r: PresenceReport): PresenceAck | Promise<PresenceAck> }, clusterSecret: string | undefined): void {
  const replay = new ReplayCache({ maxEntries: 65_536, maxBytes: 8 * 1024 * 1024 });
  const answer = (res: import('uWebSockets.js').HttpResponse, r: { done: boolean }, status: string, body: string) => {
    if (r.done) return;
    r.done = true;
    res.cork(() => res.writeStatus(status).writeHeader('Content-Type', 'application/json').end(body));
  };
  const err = (code: string, message: string) => JSON.stringify({ error: { code, message } });
  app.post(PRESENCE_ROUTE, (res, req) => {
    const authorization = req.getHeader('authorization');
    const contentType = req.getHeader('content-type');
    const r = { done: false };
    res.onAborted(() => (r.done = true));
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (r.done) return;
      size += chunk.byteLength;
      if (size > MAX_PRESENCE_BODY_BYTES) {
        r.done = true;
        res.cork(() => res.writeStatus('413 Payload Too Large').end(err(ErrorCode.PayloadTooLarge, 'presence report too large'), true));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      const body = Buffer.concat(chunks, size);
      if (clusterSecret) {
        const now = replay.now();
        const v = isClusterAuth(authorization)
          ? verifyClusterRequest(clusterSecret, authorization, { method: 'POST', target: PRESENCE_ROUTE, idempotencyKey: '', ifMatch: '', contentType, body }, now)
          : undefined;
        if (!v || replay.admit(v.nonce, v.signedAtMs, now) !== 'fresh') {
          return answer(res, r, '401 Unauthorized', err(ErrorCode.Unauthorized, 'presence reports need a fresh cluster signature'));
        }
      }
      let parsed: PresenceReport | string;
      try {
        parsed = parsePresenceReport(JSON.parse(body.toString('utf8')));
      } catch {
        parsed = 'body is not valid JSON';
      }
      if (typeof parsed === 'string') return answer(res, r, '400 Bad Request', err(ErrorCode.BadRequest, parsed));
      const report = parsed;
      Promise.resolve()
        .then(() => presence.report(report))
        .then(
          (ack) => answer(res, r, '200 OK', JSON.stringify(ack)),
          () => answer(res, r, '503 Service Unavailable', err(ErrorCode.Unavailable, 'presence aggregator unavailable; retry')),
        );
    });
  });
}
