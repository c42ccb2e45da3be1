/**
 * The bench's per-user views phase end to end at tiny scale (bench-views.ts, the code `npm run
 * bench` runs): a `replicant dev` with auth on with and one without the phase's VIEWS_FILE at the same time, real
 * receiver processes with a team claim each, probes per group. With views every write is encoded
 * once per view (5) and a private-only write once, no probe sees another view's member, and every
 * acked write reaches every subscriber; without, one encode per write and the probes do see the
 * other teams (so their check can fail). And the placement microbenchmark's model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GROUPS, viewsPair, viewsReport, type ViewsConfig } from '../src/bench-views.js';
import { measurePlacement, placementReport, placementTotals } from '../src/bench-views-placement.js';

const TINY: ViewsConfig = { subscribers: 25, rate: 20, durationS: 1, warmupS: 0.5, receivers: 1, quietWaitS: 0, repeat: 1 };

test('views phase, tiny: one encode per view per write, private-only writes one encode, probes see only their view; without views one encode and the probes see everything', async () => {
  const [plain, views] = await viewsPair(TINY, 0);
  assert.deepEqual([plain.mode, views.mode], ['plain', 'views']);
  for (const r of [views, plain]) {
    assert.equal(r.error, undefined);
    assert.equal(r.subscribers, TINY.subscribers);
    assert.equal(r.writesAcked, TINY.rate * TINY.durationS, `${r.mode}: ${r.firstWriteError}`);
    assert.equal(r.opsDelivered, r.expectedDeliveries, `${r.mode}: ${JSON.stringify(r)}`);
    assert.equal(r.seqViolations + r.errorFrames + r.closedAfterReady, 0, JSON.stringify(r));
    assert.ok(r.sampledDeltas > 0 && r.cpuSPerMillion > 0, JSON.stringify(r));
    assert.equal(r.privateOnlyEncodes, r.privateOnlyWrites, `${r.mode}: a private-only write is one encode`);
    assert.ok(r.privateOnlyWrites > 0 && r.probeFrames > 0);
  }
  assert.equal(views.encodesPerWrite, GROUPS.length, 'every write changed all 5 views');
  assert.equal(plain.encodesPerWrite, 1);
  assert.equal(views.probeLeaks, 0, views.firstLeak ?? '');
  assert.ok(plain.probeLeaks > 0, 'without views the probes see the other teams');
  assert.match(viewsReport(TINY, { runs: [plain, views], cpuRatio: 1 }), /encodes per write with views \(median\): 5\.00 .*: met/);
});

test('placement microbenchmark: per-view link streams carry the public members once per view; the totals follow the model', () => {
  const c = measurePlacement(5);
  assert.equal(c.views, 5);
  for (const k of ['projectPerView', 'encodeClientPerView', 'linkEncodeWhole', 'linkDecodeWhole', 'applyWhole', 'linkEncodePerView', 'linkDecodePerView'] as const) assert.ok(c[k] > 0, k);
  // a projected delta is smaller than the whole one, but the 5 of them together are larger
  assert.ok(c.linkBytesPerView < c.linkBytesWhole && 5 * c.linkBytesPerView > c.linkBytesWhole, JSON.stringify(c));
  const t = placementTotals(c, 10);
  assert.equal(t.linkBytesA, Math.round(c.linkBytesWhole));
  assert.ok(Math.abs(t.clusterA - (t.replicaA + 10 * t.gatewayA)) < 0.1 && Math.abs(t.clusterB - (t.replicaB + 10 * t.gatewayB)) < 0.1, JSON.stringify(t));
  assert.match(placementReport([c], 10), /Modelled per write, 10 gateways/);
});
