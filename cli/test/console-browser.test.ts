/**
 * The console in real Chromium on a real cluster (3 Kafka brokers, redis-server, origin, 2 fanouts,
 * 2 gateways, client auth on): the data endpoints answer 401 without an API key and 403 with a JWT;
 * sign in with the API key; the nodes table lists the five nodes; the deliveries chart moves while a
 * writer runs; the inspector shows a doc's new state within 1 s of a POST; a user disconnected from
 * the console loses its connections on both gateways. Screenshots go to test-artifacts/console-*.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.js';
import { RawClient } from './harness.js';
import { startCluster } from './cluster-harness.js';
import { nowSec, sign } from './tokens.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const API_KEY = 'console-browser-api-key-0123456789';
const SECRET = 'hs256-console-browser-secret-0123456789';
const token = (sub: string) => sign({ sub, iat: nowSec(), read: ['*'], write: ['*'], exp: nowSec() + 600 }, SECRET);

test('console: sign in, nodes, a moving chart, the inspector and disconnect on a real cluster', { timeout: 300_000 }, async (t) => {
  const cluster = await startCluster({ fanouts: 2, gateways: 2, env: { AUTH_DISABLED: 'false', AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY } });
  t.after(() => cluster.stop());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const consoleUrl = `${cluster.gateways[0].adminUrl}/console/`;

  // the data endpoints: 401 without an API key, 403 with a JWT, 200 with the key
  for (const path of ['nodes', 'connections', 'doc?id=x']) {
    const none = await fetch(`${cluster.gateways[0].adminUrl}/console/api/${path}`);
    assert.equal(none.status, 401, path);
    assert.equal((await none.json()).error.code, 'unauthorized');
    const jwt = await fetch(`${cluster.gateways[0].adminUrl}/console/api/${path}`, { headers: { authorization: `Bearer ${await token('eve')}` } });
    assert.equal(jwt.status, 403, path);
    assert.equal((await jwt.json()).error.code, 'forbidden');
  }
  const dis = await fetch(`${cluster.origin.adminUrl}/console/api/disconnect?sub=eve`, { method: 'POST' });
  assert.equal(dis.status, 401);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(consoleUrl);
  await page.waitForSelector('#sign-in');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}console-sign-in.png` });
  // a wrong key is refused with a message; the right one signs in (keyboard only)
  await page.fill('#api-key', 'not-the-key-0123456789');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#sign-in [role=alert]');
  await page.fill('#api-key', API_KEY);
  await page.keyboard.press('Enter');

  // the nodes table: origin, 2 fanouts, 2 gateways, all ready
  await page.waitForFunction(() => document.querySelectorAll('#nodes tbody tr .ok').length === 5, undefined, { timeout: 20_000 });
  const rows = await page.$$eval('#nodes tbody tr', (trs) => trs.map((tr) => `${tr.getAttribute('data-node')}:${tr.getAttribute('data-role')}`));
  assert.deepEqual(rows.sort(), ['fanout-1:fanout', 'fanout-2:fanout', 'gateway-1:gateway', 'gateway-2:gateway', 'origin-1:origin']);
  assert.equal(await page.$('[role=alert]'), null, 'no stale sign-in error once signed in');

  // a writer with a reader on each gateway: the deliveries/s chart moves
  const readers = await Promise.all(cluster.gateways.map(async (g) => RawClient.open(`${g.wsUrl}?token=${await token('reader')}`)));
  for (const r of readers) r.send({ type: 'subscribe', doc: 'chart-doc' });
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      await fetch(`${cluster.origin.url}/v1/docs/chart-doc`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ n: i }) });
      await new Promise((r) => setTimeout(r, 50)); // a steady write rate, not a synchronisation
    }
  })();
  const points0 = Number(await page.getAttribute('figure[data-metric=deliveriesPerSec]', 'data-points'));
  await page.waitForFunction(
    (p0) => {
      const f = document.querySelector('figure[data-metric=deliveriesPerSec]')!;
      return Number(f.getAttribute('data-points')) > p0 && Number(f.getAttribute('data-last')) > 0;
    },
    points0,
    { timeout: 30_000 },
  );
  writing = false;
  await writer;
  await page.screenshot({ path: `${ARTIFACTS}console-nodes.png`, fullPage: true });
  for (const r of readers) r.close();

  // the inspector (keyboard: arrow to the tab): the new state within 1 s of a POST
  await page.focus('#tab-nodes');
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#doc-id');
  await page.fill('#doc-id', 'inspect-doc');
  await page.fill('#read-token', await token('console'));
  await page.keyboard.press('Enter');
  await page.waitForSelector('#live-seq');
  await page.waitForFunction(() => document.getElementById('live-seq')!.textContent !== '…', undefined, { timeout: 10_000 });
  const posted = Date.now();
  const w = await fetch(`${cluster.origin.url}/v1/docs/inspect-doc`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: '{"title":"hello console"}' });
  assert.equal(w.status, 200);
  const { seq } = await w.json();
  await page.waitForFunction((s) => document.getElementById('live-seq')!.textContent === s, seq, { timeout: 5000 });
  const took = Date.now() - posted;
  assert.ok(took < 1000, `the inspector showed the new state ${took} ms after the POST`);
  assert.deepEqual(JSON.parse((await page.textContent('#live-state'))!), { title: 'hello console' });
  // the subscribers table names both gateways; the console's own subscription counts on one (read every 5 s)
  await page.waitForFunction(() => document.querySelectorAll('#subscribers tbody tr').length === 2, undefined, { timeout: 10_000 });
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#subscribers tbody td')).reduce((s, td) => s + Number(td.textContent), 0) === 1, undefined, { timeout: 12_000 });
  await page.screenshot({ path: `${ARTIFACTS}console-inspector.png`, fullPage: true });

  // connections: alice on both gateways; "Disconnect user" closes them all
  const alice = await Promise.all(cluster.gateways.map(async (g) => RawClient.open(`${g.wsUrl}?token=${await token('alice')}`)));
  await page.focus('#tab-inspector');
  await page.keyboard.press('ArrowRight');
  await page.fill('#sub', 'alice');
  // the directory is written once a second: search until both connections are listed
  await page.waitForFunction(
    () => {
      (document.querySelector('#sub')!.closest('form') as HTMLFormElement).requestSubmit();
      return document.querySelectorAll('#connections tbody tr').length === 2;
    },
    undefined,
    { timeout: 10_000, polling: 500 },
  );
  await page.screenshot({ path: `${ARTIFACTS}console-connections.png`, fullPage: true });
  await page.click('#disconnect-user');
  await page.waitForFunction(() => document.getElementById('conn-msg')?.textContent === 'disconnected alice');
  const codes = await Promise.all(alice.map((c) => c.closed));
  assert.deepEqual(codes, [4003, 4003]);
  assert.deepEqual(errors, []);
});
