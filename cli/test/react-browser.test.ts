/**
 * @replicant/react in real Chromium against `replicant dev`: the page is the server-rendered markup
 * of a useDoc component, hydrated in the browser with a live client; it renders the live state,
 * re-renders on deltas written by others, and shows its own publish at once (optimistic).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { build } from 'esbuild';
import { ReplicantProvider } from '@replicant/react';
import { connect } from '@replicant/sdk';
import { launchChromium } from './chromium.js';
import { getDoc, post, startDevProcess, tempDir } from './harness.js';
import { startStatic } from './static-server.js';

// sdk-react's compiled test component and sources; bundled with React for the browser
const SDK_REACT_DIST_TEST = new URL('../../../sdk-react/dist/test/', import.meta.url).pathname;
const { Counter, Who } = (await import(new URL('counter.js', `file://${SDK_REACT_DIST_TEST}`).href)) as typeof import('../../sdk-react/test/counter.js');

const APP = `
import { createElement as h } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { connect } from '@replicant/sdk';
import { ReplicantProvider } from '../src/index.js';
import { Counter, Who } from './counter.js';
const q = new URLSearchParams(location.search);
const client = connect(q.get('gw'), { protocol: 'json' });
window.client = client;
hydrateRoot(document.getElementById('root'), h(ReplicantProvider, { client }, h('div', null, h(Counter, { doc: q.get('doc') }), h(Who, { doc: q.get('doc') }))));
`;

test('useDoc and usePresence in Chromium: hydrates server-rendered markup, renders live state, re-renders on deltas and presence changes', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir });
  const bundle = await build({
    stdin: { contents: APP, resolveDir: SDK_REACT_DIST_TEST, sourcefile: 'app.js', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['ws', 'node:*'],
    define: { 'process.env.NODE_ENV': '"development"' }, // development React reports hydration mismatches
    write: false,
    logLevel: 'warning',
  });
  const doc = 'react-doc';
  const ssr = renderToString(h(ReplicantProvider, { client: null }, h('div', null, h(Counter, { doc }), h(Who, { doc }))));
  const web = await startStatic({
    '/react.html': ['text/html', `<!doctype html><meta charset="utf-8"><title>react</title><div id="root">${ssr}</div><script type="module" src="/app.js"></script>`],
    '/app.js': ['text/javascript', Buffer.from(bundle.outputFiles[0].contents)],
  });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await web.close();
    await dev.stop();
    tmp.cleanup();
  });
  assert.equal((await post(dev.url, doc, { count: 5, title: 'first' })).status, 200);

  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${web.url}/react.html?${new URLSearchParams({ gw: dev.wsUrl, doc })}`);
  await page.waitForFunction(() => document.getElementById('count')!.textContent === '5');
  assert.equal(await page.textContent('#title'), 'first');
  await page.waitForFunction(() => document.getElementById('status')!.textContent === 'open');

  // a write by someone else re-renders the component
  const w = await post(dev.url, doc, { count: 7, title: 'second' });
  await page.waitForFunction((seq) => document.getElementById('seq')!.textContent === seq, w.body.seq);
  assert.equal(await page.textContent('#count'), '7');
  assert.equal(await page.textContent('#title'), 'second');

  // its own publish shows at once and then becomes the server state
  await page.click('#inc');
  assert.equal(await page.textContent('#count'), '8');
  await page.waitForFunction(() => document.getElementById('pending')!.textContent === '0');
  const fin = await getDoc(dev.url, doc);
  assert.equal(fin.state.count, 8);
  await page.waitForFunction((seq) => document.getElementById('seq')!.textContent === seq, fin.seq);

  // usePresence: two clients join the doc's presence with their names; one leaves
  assert.equal(await page.textContent('#who-connections'), '0');
  const ann = connect(dev.wsUrl, { protocol: 'json' });
  const bob = connect(dev.wsUrl, { protocol: 'json' });
  t.after(async () => {
    await ann.close();
    await bob.close();
  });
  ann.subscribe(doc, () => {}, { presence: { info: { name: 'Ann' } } });
  bob.subscribe(doc, () => {}, { presence: { info: { name: 'Bob' } } });
  await page.waitForFunction(() => document.getElementById('who-connections')!.textContent === '2');
  assert.equal(await page.textContent('#who-names'), 'Ann,Bob');
  await bob.close();
  await page.waitForFunction(() => document.getElementById('who-names')!.textContent === 'Ann');
  assert.equal(await page.textContent('#who-connections'), '1');
  assert.deepEqual(errors, [], 'no page errors, no hydration mismatch');
});
