/**
 * Offline-first in real Chromium. The page comes from a static server separate from the gateway and
 * keeps its outbox in IndexedDB: with the gateway killed it publishes 10 ops (shown at once), is
 * reloaded while still offline (the ops are still pending and shown), and once the gateway is back
 * (same DATA_DIR, same port) every op is applied exactly once, in order. Two tabs sharing a storage
 * name never both send one op (Web Locks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { connect, type DeltaEvent, type ReplicantClient } from '@replicant/sdk';
import { launchChromium } from './chromium.js';
import { getDoc, startDevOnFixedPort, startDevProcess, tempDir, type DevProcess } from './harness.js';
import { startStatic, type StaticServer } from './static-server.js';

// one delta per op (no coalescing), so an op applied twice would show as an extra delta
const ONE_DELTA_PER_OP = { FANOUT_COALESCE: 'false' };

// The test page: the SDK on indexedDbStorage, through a WebSocket wrapper that records every
// publish it sends and refuses to connect while `window.online` is false (sessionStorage keeps
// that across a reload), so the test decides when the page may reach the gateway again.
const PAGE = `<!doctype html><meta charset="utf-8"><title>offline</title>
<script type="module">
import { connect, indexedDbStorage } from '/sdk.js';

const q = new URLSearchParams(location.search);
if (q.get('online') === '0' && sessionStorage.getItem('online') === null) sessionStorage.setItem('online', '0');
window.online = sessionStorage.getItem('online') !== '0';
window.sent = [];
class TestWebSocket extends WebSocket {
  constructor(url, protocols) {
    if (!window.online) throw new Error('offline (test gate)');
    super(url, protocols);
  }
  send(data) {
    const f = JSON.parse(data);
    if (f.type === 'publish') window.sent.push(f.id);
    super.send(data);
  }
}
const client = connect(q.get('gw'), {
  protocol: 'json',
  storage: indexedDbStorage(q.get('store')),
  WebSocket: TestWebSocket,
  backoff: { initialMs: 50, maxMs: 400 },
});
const sub = client.subscribe(q.get('doc'), () => {});
window.t = { client, doc: sub.doc, loaded: false };
client.loaded.then(() => { window.t.loaded = true; });
</script>`;

interface Env {
  dev: DevProcess;
  web: StaticServer;
  browser: Browser;
}

async function setup(t: { after(fn: () => unknown): void }): Promise<Env> {
  const data = tempDir();
  const env: Env = {
    dev: await startDevOnFixedPort({ dataDir: data.dir, env: ONE_DELTA_PER_OP }),
    web: await startStatic({ '/offline.html': ['text/html', PAGE] }),
    browser: await launchChromium(),
  };
  t.after(async () => {
    await env.browser.close();
    await env.web.close();
    await env.dev.stop();
    data.cleanup();
  });
  return env;
}

async function openPage(env: Env, t: { after(fn: () => unknown): void }, q: Record<string, string>, context = env.browser.contexts()[0]): Promise<Page> {
  const page = await (context ?? (await env.browser.newContext())).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  t.after(() => assert.deepEqual(errors, [], 'no page errors'));
  await page.goto(`${env.web.url}/offline.html?${new URLSearchParams({ gw: env.dev.wsUrl, ...q })}`);
  await page.waitForFunction(() => (window as any).t?.loaded === true);
  return page;
}

/** a Node client that records the applied deltas of `doc` (subscribed and synced on return) */
async function watch(url: string, doc: string, t: { after(fn: () => unknown): void }): Promise<{ c: ReplicantClient; deltas: DeltaEvent[]; reach(seq: bigint): Promise<void> }> {
  const c = connect(url, { protocol: 'json' });
  t.after(() => c.close());
  const deltas: DeltaEvent[] = [];
  c.on('delta', (ev) => {
    if (ev.doc === doc && ev.outcome === 'applied') deltas.push(ev);
  });
  let seq = 0n;
  const waiters: { seq: bigint; resolve: () => void }[] = [];
  await new Promise<void>((resolve) =>
    c.subscribe(doc, (d) => {
      seq = d.seq;
      if (d.synced) resolve();
      for (const w of waiters.splice(0)) if (seq >= w.seq) w.resolve();
      else waiters.push(w);
    }),
  );
  return { c, deltas, reach: (s) => (seq >= s ? Promise.resolve() : new Promise((resolve) => waiters.push({ seq: s, resolve }))) };
}

test('Chromium + indexedDbStorage: offline publishes survive a reload and apply exactly once, in order', async (t) => {
  const env = await setup(t);
  await env.browser.newContext();
  const doc = 'offline-browser';
  const page = await openPage(env, t, { doc, store: 'acceptance' });
  await page.waitForFunction(() => (window as any).t.client.status === 'open' && (window as any).t.doc.synced);

  await env.dev.kill9();
  await page.waitForFunction(() => (window as any).t.client.status !== 'open');
  const offline = await page.evaluate(async () => {
    const { client, doc } = (window as any).t;
    for (let i = 1; i <= 10; i++) client.publish(doc.docId, { [`op${i}`]: i, last: i }).catch(() => {});
    const shownAtOnce = { ...doc.state };
    await client.persisted();
    return { shownAtOnce, pending: doc.pending };
  });
  assert.equal(offline.pending, 10);
  for (let i = 1; i <= 10; i++) assert.equal(offline.shownAtOnce[`op${i}`], i, 'the view shows the op at once');

  await page.evaluate(() => sessionStorage.setItem('online', '0')); // still offline after the reload
  await page.reload();
  await page.waitForFunction(() => (window as any).t?.loaded === true);
  const reloaded = await page.evaluate(() => {
    const { client, doc } = (window as any).t;
    return { pending: client.pendingPublishes, docPending: doc.pending, state: doc.state, status: client.status };
  });
  assert.equal(reloaded.pending, 10, 'the 10 ops are still pending after the reload');
  assert.equal(reloaded.docPending, 10);
  assert.notEqual(reloaded.status, 'open');
  for (let i = 1; i <= 10; i++) assert.equal(reloaded.state[`op${i}`], i, 'and still shown');

  const port = env.dev.port;
  const dev = await startDevProcess({ dataDir: env.dev.dataDir, env: { ...ONE_DELTA_PER_OP, PORT: String(port) } });
  env.dev = dev; // stopped by the cleanup
  assert.equal(dev.port, port);
  const w = await watch(dev.url, doc, t);
  await page.evaluate(() => {
    sessionStorage.removeItem('online');
    (window as any).online = true;
  });
  await page.waitForFunction(() => (window as any).t.client.pendingPublishes === 0);
  const fin = await getDoc(dev.url, doc);
  await w.reach(BigInt(fin.seq));
  assert.deepEqual(w.deltas.map((d) => d.patch.last), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'exactly 10 deltas, in order');
  for (let i = 1; i <= 10; i++) assert.equal(fin.state[`op${i}`], i);
  await page.waitForFunction((seq) => String((window as any).t.doc.seq) === seq, fin.seq);
  assert.deepEqual(await page.evaluate(() => (window as any).t.doc.state), fin.state);
});

test('two tabs sharing an indexedDbStorage name: ops left by a closed tab are sent by exactly one tab', async (t) => {
  const env = await setup(t);
  const ctx = await env.browser.newContext();
  const doc = 'offline-tabs';
  const q = { doc, store: 'shared', online: '0' };
  const a = await openPage(env, t, q, ctx);
  const ids: string[] = await a.evaluate(async () => {
    const { client, doc } = (window as any).t;
    for (let i = 1; i <= 5; i++) client.publish(doc.docId, { [`a${i}`]: i }).catch(() => {});
    await client.persisted();
    return (client as any).outbox.entries().map((e: any) => e.op.id);
  });
  assert.equal(ids.length, 5);
  await a.close(); // its ops stay in IndexedDB, their owner's lock is released

  const b = await openPage(env, t, q, ctx);
  const c = await openPage(env, t, q, ctx);
  const own = await b.evaluate(async () => {
    const { client, doc } = (window as any).t;
    const p = client.publish(doc.docId, { b: 1 });
    await client.persisted();
    p.catch(() => {});
    return (client as any).outbox.entries().filter((e: any) => e.op.owner === (client as any).clientId).map((e: any) => e.op.id);
  });
  const pendingB = await b.evaluate(() => (window as any).t.client.pendingPublishes);
  const pendingC = await c.evaluate(() => (window as any).t.client.pendingPublishes);
  assert.deepEqual([pendingB, pendingC].sort(), pendingB === 6 ? [0, 6] : [1, 5], 'exactly one tab adopted the 5 orphans');

  for (const p of [b, c]) await p.evaluate(() => ((window as any).online = true));
  for (const p of [b, c]) await p.waitForFunction(() => (window as any).t.client.pendingPublishes === 0);
  const sent = [...(await b.evaluate(() => (window as any).sent)), ...(await c.evaluate(() => (window as any).sent))] as string[];
  assert.deepEqual(sent.filter((id) => ids.includes(id)).sort(), [...ids].sort(), "each of the closed tab's ops was sent once");
  assert.deepEqual(sent.filter((id) => own.includes(id)), own);
  const fin = await getDoc(env.dev.url, doc);
  assert.deepEqual(fin.state, { a1: 1, a2: 2, a3: 3, a4: 4, a5: 5, b: 1 });
});
