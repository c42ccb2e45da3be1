/**
 * The console's cost (docs/operations.md "The console"): CPU of a `replicant dev` process (the
 * gateway in-process) holding --n (10,000) idle subscribed connections, over --seconds (60) with
 * nobody looking, then over the same time with one console open (its page asks /console/api/nodes
 * every 5 s, which keeps the sampler running). Prints both as % of one core and the difference.
 *
 *   npm run build --silent && flock /tmp/replicant-load.lock node load-tests/dist/src/console-cost.js
 */
import { cpuSeconds } from './procfs.js';
import { startServer } from './servers.js';
import { connectReceivers, split } from './receivers.js';
import { publish } from './open-loop-writer.js';
import { readArgs } from './args.js';
import { fmt, log, sleep } from './report.js';

const { num } = readArgs(process.argv.slice(2), ['--n', '--seconds'], 'node load-tests/dist/src/console-cost.js');
const n = num('--n', 10_000);
const seconds = num('--seconds', 60);

const server = await startServer('replicant');
try {
  const w = await publish(server.publisher, 'idle', '{"t":0}');
  if (!server.publisher.acked(w.status, w.body)) throw new Error(`write failed: HTTP ${w.status}`);
  const conns = await connectReceivers(server, split(n, 2), { doc: 'idle', addrBlock: 60, sampleEvery: 0 });
  log(`${conns.ready} idle connections in ${conns.ms} ms`);
  try {
    await sleep(5000); // handshakes and first snapshots done
    const measure = async (label: string, look: boolean): Promise<number> => {
      const base = `http://127.0.0.1:${server.port}/console/api/nodes`;
      const c0 = cpuSeconds(server.pid);
      const t0 = Date.now();
      while (Date.now() - t0 < seconds * 1000) {
        if (look) {
          const r = await fetch(base);
          if (r.status !== 200) throw new Error(`console: HTTP ${r.status}`);
          await r.arrayBuffer();
        }
        await sleep(5000); // the page's refresh interval
      }
      const pct = ((cpuSeconds(server.pid) - c0) / ((Date.now() - t0) / 1000)) * 100;
      log(`${label}: ${fmt(pct, 2)} % of a core`);
      return pct;
    };
    const none = await measure('no console', false);
    const open = await measure('one console open', true);
    // the sampler keeps going 60 s after the last look, then stops by itself
    console.log(`console cost with ${conns.ready} idle connections over ${seconds} s: none ${fmt(none, 2)} %, one console ${fmt(open, 2)} %, difference ${fmt(open - none, 2)} % of a core`);
  } finally {
    await Promise.all(conns.receivers.map((r) => r.exit()));
  }
} finally {
  await server.stop();
}
