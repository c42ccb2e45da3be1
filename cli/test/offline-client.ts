/**
 * A client process for the offline acceptance tests: `node offline-client.js <url> <dir> <doc>
 * publish <count>` publishes `count` ops with the server down and reports once they are durable;
 * `... drain` starts on the same storage dir and reports once every stored op is acknowledged.
 * It prints one JSON line per step; the test kills it with SIGKILL after `persisted`.
 */
import { connect, fileStorage } from '@replicant/sdk';

const [url, dir, doc, mode, count] = process.argv.slice(2);
const out = (o: object) => process.stdout.write(JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) + '\n');
const client = connect(url, { storage: fileStorage(dir), protocol: 'json', backoff: { initialMs: 50, maxMs: 300 } });
const sub = client.subscribe(doc, () => {});
await client.loaded;
if (mode === 'publish') {
  for (let i = 1; i <= Number(count); i++) void client.publish(doc, { [`op${i}`]: i, last: i }).catch(() => {});
  await client.persisted();
  out({ step: 'persisted', pending: client.pendingPublishes, view: sub.doc.state, status: client.status });
} else {
  out({ step: 'loaded', pending: client.pendingPublishes, view: sub.doc.state });
  if (client.pendingPublishes > 0) await new Promise<void>((r) => client.on('drained', () => r()));
  out({ step: 'drained', pending: client.pendingPublishes });
  await client.close();
}
