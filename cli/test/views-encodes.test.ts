/**
 * Per-user views encode each frame once per view that changed, never per reader: the gateway's
 * `replicant_gateway_delta_encodes_total` (what the bench's views phase reports as encodes per
 * write) moves by the number of views a write changed. A `replicant dev` with VIEWS_FILE, two
 * readers in each of 3 views (admin, team red, spectators): a public write costs 3 encodes, a
 * write to /admin alone 1, with 6 readers receiving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { post, RawClient, startDevFor, tempDir } from './harness.js';
import { nowSec, sign } from './tokens.js';

const SECRET = 'hs256-views-encodes-secret-0123456789';
const API_KEY = 'views-encodes-api-key-0123456789';
const DOC = 'game:enc';

async function encodes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith('replicant_gateway_delta_encodes_total{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

test('a write is encoded once per view it changed, not per reader', async (t) => {
  const tmp = tempDir('replicant-views-enc-');
  t.after(tmp.cleanup);
  const viewsFile = join(tmp.dir, 'views.json');
  writeFileSync(viewsFile, JSON.stringify({ views: [{ docs: 'game:*', private: { '/admin': 'claim:role=admin', '/teams/red': 'claim:team=red' } }] }));
  const dev = await startDevFor(t, { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, VIEWS_FILE: viewsFile });
  const key = { authorization: `Bearer ${API_KEY}` };
  const claims = [{ role: 'admin' }, { team: 'red' }, {}];
  const readers: RawClient[] = [];
  for (const [i, c] of [...claims, ...claims].entries()) {
    const token = await sign({ sub: `r${i}`, ...c, read: ['game:*'], exp: nowSec() + 600 }, SECRET);
    const r = await RawClient.open(`${dev.wsUrl}?token=${encodeURIComponent(token)}`);
    t.after(() => r.close());
    r.send({ type: 'subscribe', doc: DOC });
    await r.next((f) => f.type === 'snapshot');
    readers.push(r);
  }
  const deltas = (r: RawClient): number => r.frames.filter((f) => f.type === 'delta').length;
  const e0 = await encodes(dev.url);

  assert.equal((await post(dev.url, DOC, { board: 1 }, key)).status, 200);
  await Promise.all(readers.map((r) => r.next((f) => f.type === 'delta')));
  assert.equal((await encodes(dev.url)) - e0, 3, 'a public write changes all 3 views: 3 encodes for 6 readers');

  assert.equal((await post(dev.url, DOC, { admin: { note: 'a' } }, key)).status, 200);
  await Promise.all([readers[0], readers[3]].map((r) => r.next((f) => f.type === 'delta' && f.patch.admin !== undefined)));
  // a public write after it: once every reader has it, every flush of the admin write ran too
  assert.equal((await post(dev.url, DOC, { board: 2 }, key)).status, 200);
  await Promise.all(readers.map((r) => r.next((f) => f.type === 'delta' && f.patch.board === 2)));
  assert.equal((await encodes(dev.url)) - e0, 3 + 1 + 3, 'the /admin write changed the admin view alone: 1 encode');
  assert.deepEqual(readers.map(deltas), [3, 2, 2, 3, 2, 2]);
});
