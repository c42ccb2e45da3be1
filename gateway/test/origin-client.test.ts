/**
 * The cluster-mode write path: OriginClient against a real origin HTTP API passes a publish's
 * `ifSeq` as `If-Match: "<seq>"` and its id as `Idempotency-Key`, and maps 412 to `conflict`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as uWS from 'uWebSockets.js';
import { formatSequencedKey } from '@replicant/protocol';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin, registerOriginHttp } from '@replicant/origin';
import { OriginClient, WriteError } from '../src/origin-client.js';

test('OriginClient: ifSeq becomes If-Match (412 -> conflict), ids dedupe through Idempotency-Key', async (t) => {
  const origin = await Origin.start({ log: new MemoryLog({ partitions: 1 }), store: new MemorySnapshotStore() });
  const app = uWS.App();
  registerOriginHttp(app, origin);
  const token = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (l) => (l ? resolve(l) : reject(new Error('listen failed')))),
  );
  t.after(async () => {
    uWS.us_listen_socket_close(token);
    app.close();
    await origin.close();
  });
  const client = new OriginClient({ baseUrl: `http://127.0.0.1:${uWS.us_socket_local_port(token)}` });
  const s1 = await client.write('d', '{"a":1}', undefined, 0n);
  await assert.rejects(client.write('d', '{"a":2}', undefined, 0n), (e: unknown) => e instanceof WriteError && e.code === 'conflict');
  const key = formatSequencedKey('gw-client', 1, s1);
  const s2 = await client.write('d', '{"a":3}', key, s1);
  assert.equal(await client.write('d', '{"a":3}', key, s1), s2, 'a re-sent op is answered with its seq, not a conflict');
  assert.deepEqual(await origin.read('d'), { seq: s2, state: { a: 3 } });
});
