/**
 * The gateway's presence tracker with a scripted sink: reports carry only what changed, as
 * absolute values; a failed report and a new origin boot are followed by a full report; stop()
 * reports the last changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PresenceAck, PresenceReport } from '@replicant/protocol';
import { PresenceTracker } from '../src/presence.js';

class Sink {
  reports: PresenceReport[] = [];
  boot = 'o1';
  fail = false;
  private waiters: (() => void)[] = [];
  report(r: PresenceReport): PresenceAck {
    if (this.fail) {
      this.fail = false;
      this.wake();
      throw new Error('origin down');
    }
    this.reports.push(structuredClone(r));
    this.wake();
    return { boot: this.boot };
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  /** the next report attempt (sent or failed) */
  next(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }
}

test('reports changes as absolute values, a full report after a failure or a new origin boot', async (t) => {
  const sink = new Sink();
  const p = new PresenceTracker({ sink, gateway: 'gw', intervalMs: 20, ttlMs: 60_000 });
  // the tracker's timer is unref'd (it never holds a process open): hold this one open meanwhile
  const keep = setInterval(() => {}, 1000);
  t.after(() => {
    p.close();
    clearInterval(keep);
  });
  await sink.next(); // the first report is full (empty): it registers this gateway
  assert.equal(sink.reports[0].full, true);
  p.join('d', 'alice', { n: 1 });
  p.join('d', 'alice', { n: 2 });
  p.join('d', 'bob', undefined);
  await sink.next();
  assert.deepEqual(sink.reports.at(-1)!.docs, { d: { n: 3, u: { alice: [2, { n: 2 }], bob: [1, {}] } } });
  p.leave('d', 'bob');
  await sink.next();
  assert.deepEqual(sink.reports.at(-1)!.docs, { d: { n: 2, u: { bob: null } } });
  // a failed report: the next one is full
  sink.fail = true;
  p.leave('d', 'alice');
  await sink.next();
  await sink.next();
  assert.deepEqual([sink.reports.at(-1)!.full, sink.reports.at(-1)!.docs], [true, { d: { n: 1, u: { alice: [1, { n: 2 }] } } }]);
  // origin restarted (new boot): a full report follows
  sink.boot = 'o2';
  p.join('e', 'carol', undefined);
  await sink.next();
  await sink.next();
  assert.equal(sink.reports.at(-1)!.full, true);
  assert.deepEqual(Object.keys(sink.reports.at(-1)!.docs).sort(), ['d', 'e']);
  // stop(): the last changes go out at once
  p.leave('e', 'carol');
  await p.stop();
  assert.deepEqual(sink.reports.at(-1)!.docs, { e: { n: 0, u: { carol: null } } });
});
