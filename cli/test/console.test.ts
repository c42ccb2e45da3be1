/**
 * The console without a cluster: the sampler runs only while someone looks (stops after the idle
 * time, no samples after), keeps at most CONSOLE_RING_POINTS per node and drops nodes that left;
 * `replicant dev` serves /console/ and its data endpoints (open with auth off).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONSOLE_RING_POINTS, ConsoleSampler } from '../src/console.js';
import { startDevFor } from './harness.js';

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}

test('console sampler: samples only while looked at, ring bounded, gone nodes dropped', async () => {
  let nodes = [
    { id: 'a', role: 'gateway' as const, admin: '' },
    { id: 'b', role: 'gateway' as const, admin: '' },
  ];
  let deliveries = 0;
  const sampler = new ConsoleSampler({ nodes: async () => nodes, self: undefined }, 5, 40);
  // probe in-process: every node is "self" for this source
  (sampler as any).source.self = undefined;
  (sampler as any).probe = async (n: any) => ({ ...n, ready: true, last: { connections: 1, docs: 2, deliveries: (deliveries += 10), lag: 0, deliveriesPerSec: 0 } });
  assert.equal(sampler.running, false);
  assert.equal(sampler.samples, 0, 'nothing sampled before anyone looks');
  await sampler.look();
  assert.equal(sampler.running, true);
  assert.ok(sampler.samples >= 1);
  // keeps sampling while looked at, past the ring's bound
  while (sampler.samples < CONSOLE_RING_POINTS + 10) {
    await sampler.look();
    await new Promise((r) => setImmediate(r)); // lets the interval fire
  }
  const view = sampler.nodes() as any[];
  assert.equal(view.length, 2);
  assert.equal(view[0].series.t.length, CONSOLE_RING_POINTS, 'the ring holds at most CONSOLE_RING_POINTS');
  // a node that left the directory loses its ring
  nodes = nodes.slice(0, 1);
  const s0 = sampler.samples;
  await until(() => sampler.samples > s0);
  await sampler.look();
  assert.deepEqual((sampler.nodes() as any[]).map((n) => n.id), ['a']);
  assert.equal((sampler as any).rings.size, 1);
  // nobody looks: it stops by itself, and takes no more samples
  await until(() => !sampler.running);
  const stopped = sampler.samples;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(sampler.samples, stopped);
  sampler.stop();
});

test('replicant dev serves the console; its data endpoints are open when auth is off', async (t) => {
  const dev = await startDevFor(t);
  const page = await fetch(`${dev.url}/console/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /\/console\/app\.js/);
  const js = await fetch(`${dev.url}/console/app.js`);
  assert.equal(js.status, 200, 'the bundle is built by npm run build');
  assert.ok((await js.arrayBuffer()).byteLength > 10_000);
  const nodes = await (await fetch(`${dev.url}/console/api/nodes`)).json();
  assert.equal(nodes.nodes.length, 1);
  assert.equal(nodes.nodes[0].role, 'dev');
  assert.equal(nodes.nodes[0].ready, true);
  await fetch(`${dev.url}/v1/docs/console-doc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
  const doc = await (await fetch(`${dev.url}/console/api/doc?id=console-doc`)).json();
  assert.deepEqual(doc.current.state, { n: 1 });
  assert.deepEqual(doc.history.ops.map((o: any) => o.patch), [{ n: 1 }]);
});
