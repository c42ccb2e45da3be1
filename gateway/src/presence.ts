/**
 * This gateway's presence members (docs/presence-and-server-api.md, "Presence"): a connection that
 * subscribes with `presence: true` is a member of that doc until it unsubscribes, loses the
 * subscription or closes (a connection is a member of a doc at most once).
 *
 * Per doc it keeps the member count and per user (sub) the local count and the info of the
 * user's latest join. Every PRESENCE_INTERVAL_MS it reports what changed to origin's aggregator
 * (origin/src/presence.ts) as absolute values — the doc's count and, per changed sub, its count
 * and info — so a report is idempotent and a failed one is simply followed by a full one.
 * With nothing to report it still reports (empty) every PRESENCE_TTL_MS / 3: origin forgets a
 * gateway silent for PRESENCE_TTL_MS (a SIGKILLed gateway's members leave within it).
 *
 * Bounds: O(1) per join/leave (map updates, a dirty mark); a report is O(changed subs), one in
 * flight at a time; a full report (at start, after a failed report, when origin restarted: its
 * `boot` changed) is O(members here) and goes in pieces of at most MAX_REPORT_BYTES. Memory:
 * one entry per (doc, sub) member here, the info object (≤ 1 KiB, checked by the codec) shared.
 */
import { randomUUID } from 'node:crypto';
import type { JsonObject, PresenceAck, PresenceDocReport, PresenceReport } from '@replicant/protocol';

export interface PresenceSink {
  report(r: PresenceReport): Promise<PresenceAck> | PresenceAck;
}

export interface PresenceTrackerOptions {
  sink: PresenceSink;
  /** this gateway (NODE_ID) */
  gateway: string;
  intervalMs?: number;
  ttlMs?: number;
}

/** a full report goes in pieces of about this many bytes of JSON (origin takes up to 8 MiB) */
export const MAX_REPORT_BYTES = 4 * 1024 * 1024;

const EMPTY: JsonObject = Object.freeze({}) as JsonObject;

interface LocalDoc {
  n: number;
  users: Map<string, { k: number; info: JsonObject }>;
  dirty: Set<string>;
}

export class PresenceTracker {
  private readonly boot = randomUUID();
  private readonly docs = new Map<string, LocalDoc>();
  private readonly dirtyDocs = new Set<string>();
  private originBoot: string | undefined;
  private needFull = true;
  private sending = false;
  /** the report being sent (settles, never rejects) */
  private inflight: Promise<void> | undefined;
  private lastSent = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly heartbeatMs: number;
  /** reports that failed (each is followed by a full one) */
  failures = 0;
  /** reports sent */
  reports = 0;
  /** memberships held here (over every doc) */
  members = 0;

  constructor(private readonly opts: PresenceTrackerOptions) {
    const interval = opts.intervalMs ?? 1000;
    this.heartbeatMs = Math.max(1, Math.floor((opts.ttlMs ?? 10_000) / 3));
    // report at the interval, and at least as often as the heartbeat needs
    this.timer = setInterval(() => this.tick(), Math.min(interval, this.heartbeatMs));
    this.timer.unref?.();
  }

  join(doc: string, sub: string, info: JsonObject | undefined): void {
    let d = this.docs.get(doc);
    if (!d) this.docs.set(doc, (d = { n: 0, users: new Map(), dirty: new Set() }));
    d.n++;
    this.members++;
    const u = d.users.get(sub);
    if (u) {
      u.k++;
      if (info) u.info = info;
    } else d.users.set(sub, { k: 1, info: info ?? EMPTY });
    d.dirty.add(sub);
    this.dirtyDocs.add(doc);
  }

  leave(doc: string, sub: string): void {
    const d = this.docs.get(doc);
    const u = d?.users.get(sub);
    if (!d || !u) return;
    d.n--;
    this.members--;
    if (--u.k === 0) d.users.delete(sub);
    d.dirty.add(sub);
    this.dirtyDocs.add(doc);
  }

  private tick(): void {
    if (this.sending) return;
    const now = Date.now();
    if (this.needFull) return this.send(this.fullReports());
    if (this.dirtyDocs.size > 0) return this.send([this.changes()]);
    if (now - this.lastSent >= this.heartbeatMs) this.send([{ gateway: this.opts.gateway, boot: this.boot, full: false, docs: {} }]);
  }

  /** the changes since the last report; O(changed subs) */
  private changes(): PresenceReport {
    const docs: Record<string, PresenceDocReport> = {};
    for (const doc of this.dirtyDocs) {
      const d = this.docs.get(doc)!;
      const u: PresenceDocReport['u'] = {};
      for (const sub of d.dirty) {
        const e = d.users.get(sub);
        u[sub] = e ? [e.k, e.info] : null;
      }
      d.dirty.clear();
      docs[doc] = { n: d.n, u };
      if (d.n === 0) this.docs.delete(doc);
    }
    this.dirtyDocs.clear();
    return { gateway: this.opts.gateway, boot: this.boot, full: false, docs };
  }

  /** everything, in pieces of about MAX_REPORT_BYTES (the first one `full`); O(members here) */
  private fullReports(): PresenceReport[] {
    this.needFull = false;
    const out: PresenceReport[] = [];
    let cur: PresenceReport = { gateway: this.opts.gateway, boot: this.boot, full: true, docs: {} };
    let bytes = 0;
    for (const [doc, d] of this.docs) {
      d.dirty.clear();
      if (d.n === 0) {
        this.docs.delete(doc);
        continue;
      }
      let u: PresenceDocReport['u'] = {};
      cur.docs[doc] = { n: d.n, u };
      bytes += doc.length + 16;
      for (const [sub, e] of d.users) {
        if (bytes > MAX_REPORT_BYTES) {
          out.push(cur);
          cur = { gateway: this.opts.gateway, boot: this.boot, full: false, docs: {} };
          u = {};
          cur.docs[doc] = { n: d.n, u };
          bytes = doc.length + 16;
        }
        u[sub] = [e.k, e.info];
        bytes += sub.length + JSON.stringify(e.info).length + 16;
      }
    }
    this.dirtyDocs.clear();
    out.push(cur);
    return out;
  }

  private send(reports: PresenceReport[]): void {
    this.sending = true;
    const run = async () => {
      for (const r of reports) {
        const ack = await this.opts.sink.report(r);
        this.reports++;
        if (this.originBoot !== undefined && ack.boot !== this.originBoot) this.needFull = true; // origin restarted: it lost our contribution
        this.originBoot = ack.boot;
      }
    };
    this.inflight = run().then(
      () => {
        this.sending = false;
        this.lastSent = Date.now();
      },
      () => {
        // not known to be applied: the next report is a full one (absolute values: a repeat is harmless)
        this.failures++;
        this.sending = false;
        this.needFull = true;
      },
    );
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Stops reporting after one last report of what changed (a drained gateway's members leave at
   * once instead of after PRESENCE_TTL_MS); resolves when it is answered or failed.
   */
  async stop(): Promise<void> {
    this.close();
    await this.inflight;
    if (this.dirtyDocs.size === 0 && !this.needFull) return;
    const reports = this.needFull ? this.fullReports() : [this.changes()];
    try {
      for (const r of reports) await this.opts.sink.report(r);
    } catch {
      // origin unreachable: the TTL removes these members
    }
  }
}
