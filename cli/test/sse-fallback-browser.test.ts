/**
 * The SDK's transport fallback in real Chromium against `replicant dev`, through a proxy that
 * refuses WebSocket upgrades (upgrade-proxy.ts): the default 'auto' transport falls back to SSE +
 * HTTP POST, keeps a live doc, publishes ops made while the network was down exactly once and in
 * order (the first POST's answer is dropped after the write happened, so its re-send is a real
 * duplicate the Idempotency-Key must absorb), and is back on WebSocket once upgrades pass again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type DeltaEvent } from '@replicant/sdk';
import { launchChromium } from './chromium.js';
import { getDoc, post, startDevProcess, tempDir } from './harness.js';
import { startUpgradeProxy } from './upgrade-proxy.js';

// The page: the SDK from the gateway (/sdk.js, through the proxy: one origin), default transport,
// recording its transport changes.
const PAGE = `<!doctype html><meta charset="utf-8"><title>fallback</title>
<script type="module">
import { connect, indexedDbStorage } from '/sdk.js';
const q = new URLSearchParams(location.search);
const client = connect(location.origin, {
  protocol: 'json',
  storage: indexedDbStorage('fallback'),
  backoff: { initialMs: 50, maxMs: 400 },
  websocketRetryMs: 200,
});
window.transports = [];
client.on('transport', (ev) => window.transports.push(ev.transport));
const sub = client.subscribe(q.get('doc'), () => {});
window.t = { client, doc: sub.doc };
</script>`;

test('Chromium, WebSocket upgrades refused: falls back to SSE, keeps a live doc, publishes offline ops exactly once, returns to WebSocket', async (t) => {
  const data = tempDir();
  const dev = await startDevProcess({ dataDir: data.dir, env: { FANOUT_COALESCE: 'false' } }); // one delta per op
  const proxy = await startUpgradeProxy(dev.url, { '/fallback.html': PAGE });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await proxy.close();
    await dev.stop();
    data.cleanup();
  });
  const doc = 'fallback-browser';
  // a watcher straight on the gateway (WebSocket): every applied delta of the doc
  const watcher = connect(dev.wsUrl, { protocol: 'json', transport: 'websocket' });
  t.after(() => watcher.close());
  const deltas: DeltaEvent[] = [];
  watcher.on('delta', (ev) => {
    if (ev.outcome === 'applied') deltas.push(ev);
  });
  await new Promise<void>((resolve) => watcher.subscribe(doc, (d) => d.synced && resolve()));

  proxy.upgrades = false;
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  t.after(() => assert.deepEqual(errors, [], 'no page errors'));
  await page.goto(`${proxy.url}/fallback.html?doc=${doc}`);

  // 1. falls back: two refused upgrades, then SSE; the doc is live over it
  await page.waitForFunction(() => (window as any).t?.client.transport === 'sse' && (window as any).t.doc.synced);
  assert.ok(proxy.stats.refused >= 2, `upgrades refused: ${proxy.stats.refused}`);
  assert.deepEqual(await page.evaluate(() => (window as any).transports), ['sse']);
  for (let i = 1; i <= 20; i++) assert.equal((await post(dev.url, doc, { live: i })).status, 200);
  const live = await getDoc(dev.url, doc);
  await page.waitForFunction((seq) => String((window as any).t.doc.seq) === seq, live.seq);
  assert.deepEqual(await page.evaluate(() => (window as any).t.doc.state), live.state);

  // 2. the network goes away; ops made meanwhile wait in the outbox
  proxy.down = true;
  proxy.cut();
  await page.waitForFunction(() => (window as any).t.client.status !== 'open');
  const offline = await page.evaluate(async () => {
    const { client, doc } = (window as any).t;
    for (let i = 1; i <= 10; i++) client.publish(doc.docId, { [`op${i}`]: i, last: i }).catch(() => {});
    await client.persisted();
    return { pending: client.pendingPublishes, shown: doc.state.last };
  });
  assert.deepEqual(offline, { pending: 10, shown: 10 });
  const before = deltas.length;

  // 3. back (upgrades still refused): the ops go over HTTP POST; the first one's answer is lost
  // after the write happened, so it is sent twice and must apply once
  proxy.dropPostAnswers = 1;
  const postsBefore = proxy.stats.posts;
  proxy.down = false;
  await page.waitForFunction(() => (window as any).t.client.pendingPublishes === 0, undefined, { timeout: 20_000 });
  assert.equal(await page.evaluate(() => (window as any).t.client.transport), 'sse');
  assert.ok(proxy.stats.posts - postsBefore >= 11, `a POST was re-sent: ${proxy.stats.posts - postsBefore} POSTs for 10 ops`);
  const fin = await getDoc(dev.url, doc);
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (deltas.at(-1)?.seq.toString() === fin.seq) resolve();
    };
    watcher.on('delta', check);
    check();
  });
  assert.deepEqual(
    deltas.slice(before).map((d) => d.patch.last),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    'each offline op applied exactly once, in order',
  );
  await page.waitForFunction((seq) => String((window as any).t.doc.seq) === seq, fin.seq);
  assert.deepEqual(await page.evaluate(() => (window as any).t.doc.state), fin.state);

  // 4. upgrades pass again: the client returns to WebSocket by itself, and the doc stays live
  proxy.upgrades = true;
  await page.waitForFunction(() => (window as any).t.client.transport === 'websocket', undefined, { timeout: 20_000 });
  assert.ok(proxy.stats.upgraded >= 1);
  assert.deepEqual(await page.evaluate(() => (window as any).transports), ['sse', 'websocket']);
  assert.equal((await post(dev.url, doc, { after: 'ws' })).status, 200);
  const last = await getDoc(dev.url, doc);
  await page.waitForFunction((seq) => String((window as any).t.doc.seq) === seq, last.seq);
  const p = await page.evaluate(async () => {
    const { client, doc } = (window as any).t;
    return String(await client.publish(doc.docId, { fromPage: 'ws' }));
  });
  assert.equal((await getDoc(dev.url, doc)).seq, p);
});
