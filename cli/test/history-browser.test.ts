/**
 * The demo page's version slider in real Chromium: after writes to a doc, moving the slider (with
 * the keyboard, as a user would) shows the state as of that version (`?at=`), equal to what origin
 * answers for that seq; "Restore" brings the live doc back to it. A screenshot of the scrubbed
 * page is written to test-artifacts/demo-history.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.js';
import { getDoc, post, startDevProcess, tempDir } from './harness.js';
import { getJson } from './history-check.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

test('demo page: the version slider scrubs the doc history and restore brings a version back', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await dev.stop();
    tmp.cleanup();
  });
  const doc = 'slider-demo';
  const seqs: string[] = [];
  for (let i = 1; i <= 6; i++) seqs.push((await post(dev.url, doc, { title: `version ${i}`, count: i, notes: { [`n${i}`]: `note ${i}` } })).body.seq);

  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${dev.url}/?doc=${doc}`);
  await page.waitForSelector('#status.status-open');
  // the slider knows every version and starts at the newest
  await page.waitForFunction((n) => (document.getElementById('version') as HTMLInputElement).max === String(n - 1), seqs.length);
  await page.waitForFunction((s) => document.getElementById('past-seq')!.textContent === s, seqs[5]);

  // move back three versions with the keyboard: the page shows the state as of seqs[2]
  await page.focus('#version');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft');
  await page.waitForFunction((s) => document.getElementById('past-seq')!.textContent === s, seqs[2]);
  const shown = JSON.parse((await page.textContent('#past'))!);
  const at = await getJson(`${dev.url}/v1/docs/${doc}?at=${seqs[2]}`);
  assert.deepEqual(shown, at.body.state);
  assert.deepEqual(shown, { title: 'version 3', count: 3, notes: { n1: 'note 1', n2: 'note 2', n3: 'note 3' } });
  // the live view still shows the latest
  assert.equal(await page.textContent('#count'), '6');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}demo-history.png`, fullPage: true });

  // restore: the live doc goes back to that version (one new op)
  await page.click('#restore');
  await page.waitForFunction(() => document.getElementById('count')!.textContent === '3');
  const now = await getDoc(dev.url, doc);
  assert.deepEqual(now.state, at.body.state);
  assert.ok(BigInt(now.seq) > BigInt(seqs[5]));
  assert.deepEqual(errors, []);
});
