/**
 * The demo page in real Chromium: two tabs (one on each subprotocol) run the browser build of the
 * SDK against `replicant dev`; an edit in one tab shows up in the other, and both converge to the
 * origin's state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { getDoc, post, startDevProcess, tempDir } from './harness.js';

test('two browser tabs edit and watch the same live document', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await dev.stop();
    tmp.cleanup();
  });
  const doc = 'browser-demo';
  const open = async (protocol: string): Promise<Page> => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${dev.url}/?doc=${doc}&protocol=${protocol}`);
    await page.waitForSelector('#status.status-open');
    t.after(() => assert.deepEqual(errors, [], `no page errors (${protocol})`));
    return page;
  };
  const a = await open('binary');
  const b = await open('json');

  for (let i = 1; i <= 3; i++) {
    await a.click('#inc');
    // each click publishes count+1 of what tab A sees: wait until it saw its own write
    await a.waitForFunction((n) => document.getElementById('count')!.textContent === String(n), i);
  }
  await b.waitForFunction(() => document.getElementById('count')!.textContent === '3');

  await b.fill('#note', 'hello from tab b');
  await b.press('#note', 'Enter');
  await a.waitForFunction(() => document.getElementById('notes')!.textContent!.includes('hello from tab b'));

  // a write from outside the browser reaches both tabs
  const w = await post(dev.url, doc, { title: 'set over HTTP' });
  assert.equal(w.status, 200);
  for (const p of [a, b]) await p.waitForFunction((seq) => document.getElementById('seq')!.textContent === seq, w.body.seq);

  const fin = await getDoc(dev.url, doc);
  for (const p of [a, b]) {
    const shown = JSON.parse((await p.textContent('#state'))!);
    assert.deepEqual(shown, fin.state);
    assert.equal(await p.inputValue('#title'), 'set over HTTP');
  }
  assert.equal(fin.state.count, 3);
  // every edit went through the outbox and was acknowledged: nothing is left pending
  for (const p of [a, b]) {
    await p.waitForFunction(() => document.getElementById('pending')!.textContent === '0');
    assert.equal(await p.locator('#outbox li').count(), 0);
  }
});
