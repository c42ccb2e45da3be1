/**
 * The bench's SVG charts: every file is written, bars are proportional to the values, a failed or
 * missing value is "n/a" (no bar), labels are escaped, and the document parses as SVG in Chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { benchSvgs, writeBenchSvgs, type BenchJsonForSvg } from '../src/svg.js';

const J: BenchJsonForSvg = {
  config: { n: 5000, rate: 20, hotN: 2000 },
  fanout: [
    { target: 'replicant', deliveredPerSec: 100_000, cpuSPerMillion: 2, bytesPerDelivery: 40, latencyMs: { p50: 1, p90: 2, p99: 4, max: 9 } },
    { target: 'bare', deliveredPerSec: 50_000, cpuSPerMillion: 1, bytesPerDelivery: 30, latencyMs: { p50: 1, p90: 1.5, p99: 2, max: 5 } },
    { target: 'centrifugo', error: 'not built' },
    { target: '<ws&>', deliveredPerSec: Number.NaN, latencyMs: { p50: 1, p90: 2, p99: 3, max: 4 } },
  ],
  memory: [{ target: 'replicant', bytesPerConn: 3000 }],
  hot: [{ rate: 1000, results: [{ target: 'replicant', opsDelivered: 20_000_000, delivered: 2_000_000, windowS: 10, cpuSPerMillionOps: 0.1, latencyMs: { p99: 30 } }] }],
};

test('bench SVG charts: files, proportional bars, n/a, escaping', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-svg-'));
  try {
    const paths = writeBenchSvgs(dir, J);
    assert.deepEqual(paths.map((p) => p.slice(dir.length + 1)).sort(), ['hot-doc.svg', 'latency.svg', 'peer-table.svg']);
    const peer = readFileSync(join(dir, 'peer-table.svg'), 'utf8');
    assert.match(peer, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    // delivered/s: replicant's bar is twice bare's
    const widths = [...peer.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"[^>]*><title>(replicant|bare): ([\d,]+)</g)].slice(0, 2).map((m) => Number(m[1]));
    assert.equal(widths.length, 2);
    assert.ok(Math.abs(widths[0] / widths[1] - 2) < 0.01, `bars ${widths}`);
    assert.doesNotMatch(peer, /centrifugo/, 'a failed target has no bars');
    assert.match(peer, /&lt;ws&amp;&gt;/);
    assert.doesNotMatch(peer, /<ws&>/);
    assert.match(peer, />n\/a</);
    // the views chart only when that phase ran
    const views = benchSvgs({
      ...J,
      views: { runs: [{ mode: 'plain', cpuSPerMillion: 4, encodesPerWrite: 1, bytesPerDelivery: 134 }, { mode: 'views', cpuSPerMillion: 2, encodesPerWrite: 5, bytesPerDelivery: 109 }] },
      viewsPlacement: { totals: [{ views: 5, clusterA: 80, clusterB: 120, linkBytesA: 110, linkBytesB: 437 }] },
    })['views.svg'];
    assert.match(views, /plain #1: 4\.00</);
    assert.match(views, /views #1: 5\.00</, 'encodes per write');
    assert.match(views, /5 v, replica: 437</, 'link bytes');
    const hot = benchSvgs(J)['hot-doc.svg'];
    assert.match(hot, /replicant: 2,000,000</, 'ops delivered per second');
    assert.match(hot, /replicant: 0.10</, 'frames per op');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench SVG charts parse as SVG documents', async (t) => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  for (const [name, svg] of Object.entries(benchSvgs(J))) {
    const err = await page.evaluate((text) => {
      const d = new DOMParser().parseFromString(text, 'image/svg+xml');
      return d.querySelector('parsererror')?.textContent ?? (d.documentElement.nodeName === 'svg' ? null : d.documentElement.nodeName);
    }, svg);
    assert.equal(err, null, name);
  }
});
