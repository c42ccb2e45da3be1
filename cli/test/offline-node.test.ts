/**
 * Offline-first in Node, across a restart of the client process: with the server down a client
 * publishes 10 ops into a fileStorage outbox and is killed (SIGKILL) once they are durable; the
 * server comes back (same DATA_DIR, same port); a new client process on the same directory sends
 * them, and a watcher sees each applied exactly once, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { connect, type DeltaEvent } from '@replicant/sdk';
import { getDoc, post, startDevOnFixedPort, startDevProcess, tempDir } from './harness.js';

// one delta per op (no coalescing), so an op applied twice would show as an extra delta
const ONE_DELTA_PER_OP = { FANOUT_COALESCE: 'false' };

const CLIENT = new URL('./offline-client.js', import.meta.url).pathname;

/** runs the client script; resolves with its JSON lines once it printed `until` */
function runClient(args: string[], until: string) {
  const proc = spawn(process.execPath, [CLIENT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: any[] = [];
  const rl = createInterface({ input: proc.stdout! });
  const reached = new Promise<any[]>((resolve, reject) => {
    rl.on('line', (l) => {
      lines.push(JSON.parse(l));
      if (lines.at(-1).step === until) resolve(lines);
    });
    proc.once('exit', (code) => reject(new Error(`client exited (${code}) before ${until}: ${JSON.stringify(lines)}`)));
  });
  reached.catch(() => {});
  return { proc, reached, exited: once(proc, 'exit') };
}

test('fileStorage: 10 ops published offline survive a client crash and apply exactly once, in order', async (t) => {
  const data = tempDir();
  const outbox = tempDir('replicant-outbox-');
  t.after(() => {
    data.cleanup();
    outbox.cleanup();
  });
  const doc = 'offline-node';
  let dev = await startDevOnFixedPort({ dataDir: data.dir, env: ONE_DELTA_PER_OP });
  const port = dev.port;
  assert.equal((await post(dev.url, doc, { before: true })).status, 200);
  await dev.kill9(); // the server is gone

  const a = runClient([dev.url, outbox.dir, doc, 'publish', '10'], 'persisted');
  const [persisted] = await a.reached;
  assert.equal(persisted.pending, 10);
  assert.notEqual(persisted.status, 'open');
  for (let i = 1; i <= 10; i++) assert.equal(persisted.view[`op${i}`], i, 'the view shows every op at once');
  a.proc.kill('SIGKILL'); // the client process dies with its ops unsent
  await a.exited;

  const restarted = startDevProcess({ dataDir: data.dir, env: { ...ONE_DELTA_PER_OP, PORT: String(port) } });
  t.after(async () => (await restarted).stop());
  dev = await restarted;
  assert.equal(dev.port, port);
  const watcher = connect(dev.url, { protocol: 'json' });
  t.after(() => watcher.close());
  const deltas: DeltaEvent[] = [];
  watcher.on('delta', (ev) => {
    if (ev.doc === doc && ev.outcome === 'applied') deltas.push(ev);
  });
  await new Promise<void>((resolve) => {
    const s = watcher.subscribe(doc, (d) => {
      if (d.synced) resolve();
    });
    t.after(() => s.unsubscribe());
  });

  const b = runClient([dev.url, outbox.dir, doc, 'drain'], 'drained');
  const [loaded] = await b.reached;
  assert.equal(loaded.pending, 10, 'the restarted client found the 10 ops in its outbox');
  assert.equal(loaded.view.last, 10);
  await b.exited;

  const fin = await getDoc(dev.url, doc);
  await new Promise<void>((resolve) => {
    if (deltas.at(-1)?.seq === BigInt(fin.seq)) return resolve();
    const off = watcher.on('delta', (ev) => {
      if (ev.seq === BigInt(fin.seq)) {
        off();
        resolve();
      }
    });
  });
  assert.deepEqual(deltas.map((d) => d.patch.last), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'exactly once, in order');
  for (let i = 1; i <= 10; i++) assert.equal(fin.state[`op${i}`], i);
  assert.equal(fin.state.before, true);
});
