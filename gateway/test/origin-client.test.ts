/**
 * The cluster-mode write path: OriginClient against a real origin HTTP API passes a publish's
 * `ifSeq` as `If-Match: "<seq>"` and its id as `Idempotency-Key`, and maps 412 to `conflict`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as uWS from 'uWebSockets.js';
import { formatSequencedKey } from '@replicant/protocol';
import { MemoryLog, MemorySnapshotStore, processMetrics } from '@replicant/stream';
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

/** an origin HTTP API with CLUSTER_SECRET, in-process over the memory log */
async function signedOrigin(t: { after(fn: () => Promise<void>): void }, http: { replayCacheEntries?: number } = {}) {
  const origin = await Origin.start({ log: new MemoryLog({ partitions: 1 }), store: new MemorySnapshotStore() });
  const app = uWS.App();
  registerOriginHttp(app, origin, { clusterSecret: CLUSTER_SECRET, ...http });
  const token = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (l) => (l ? resolve(l) : reject(new Error('listen failed')))),
  );
  t.after(async () => {
    uWS.us_listen_socket_close(token);
    app.close();
    await origin.close();
  });
  return { origin, url: `http://127.0.0.1:${uWS.us_socket_local_port(token)}` };
}

const CLUSTER_SECRET = 'cluster-secret-0123456789';

interface Recorded {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** records every request OriginClient sends (what an observer of the private network could replay) */
function recordFetch(t: { after(fn: () => void): void }): Recorded[] {
  const seen: Recorded[] = [];
  const real = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    seen.push({ url: String(input), headers: { ...(init?.headers as Record<string, string>) }, body: String(init?.body) });
    return real(input, init);
  };
  t.after(() => void (globalThis.fetch = real));
  return seen;
}

/** replicant_origin_cluster_requests_refused_total{reason} so far in this process */
async function refusedSoFar(reason: string): Promise<number> {
  const m = processMetrics.getSingleMetric('replicant_origin_cluster_requests_refused_total');
  return (await m?.get())?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function replay(r: Recorded, drop: string[] = []): Promise<{ status: number; code: string }> {
  const headers = Object.fromEntries(Object.entries(r.headers).filter(([k]) => !drop.includes(k)));
  const res = await fetch(r.url, { method: 'POST', headers, body: r.body });
  return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code ?? '' };
}

test('signed writes: a replayed keyless publish and a 412 replayed without If-Match are refused; fresh ones apply', async (t) => {
  const { origin, url } = await signedOrigin(t);
  const seen = recordFetch(t);
  const client = new OriginClient({ baseUrl: url, clusterSecret: CLUSTER_SECRET });
  const replays0 = await refusedSoFar('replay');
  const bad0 = await refusedSoFar('bad_signature');

  // a keyless publish, recorded and replayed verbatim: refused, applied once
  const s1 = await client.write('r', '{"n":1}');
  const keyless = seen[seen.length - 1];
  assert.equal(keyless.headers['idempotency-key'], undefined);
  assert.deepEqual(await replay(keyless), { status: 401, code: 'unauthorized' });
  assert.deepEqual(await origin.read('r'), { seq: s1, state: { n: 1 } });

  // a conditional write answered 412, replayed without its If-Match (or with it): refused
  await assert.rejects(client.write('r', '{"lost":true}', undefined, 0n), (e: unknown) => e instanceof WriteError && e.code === 'conflict');
  const conditional = seen[seen.length - 1];
  assert.equal(conditional.headers['if-match'], '"0"');
  assert.deepEqual(await replay(conditional, ['if-match']), { status: 401, code: 'unauthorized' });
  assert.deepEqual(await replay(conditional), { status: 401, code: 'unauthorized' });
  // nor can any other covered header be changed: a key added to the keyless write
  assert.deepEqual(await replay({ ...keyless, headers: { ...keyless.headers, 'idempotency-key': 'k2' } }), { status: 401, code: 'unauthorized' });
  assert.deepEqual(await origin.read('r'), { seq: s1, state: { n: 1 } }, 'nothing replayed was applied');

  // fresh signed requests still work, keyless and conditional
  const s2 = await client.write('r', '{"n":2}');
  const s3 = await client.write('r', '{"n":3}', undefined, s2);
  assert.deepEqual(await origin.read('r'), { seq: s3, state: { n: 3 } });
  // a gateway whose signature the origin refuses (secret mid-roll): `unavailable`, which clients retry
  const stale = new OriginClient({ baseUrl: url, clusterSecret: 'another-cluster-secret-0123' });
  await assert.rejects(stale.write('r', '{"n":4}'), (e: unknown) => e instanceof WriteError && e.code === 'unavailable');
  // counted for operators: two verbatim replays; two changed requests and the stale secret
  assert.equal((await refusedSoFar('replay')) - replays0, 2);
  assert.equal((await refusedSoFar('bad_signature')) - bad0, 3);
});

test('signed writes at the replay cache bound: 503 unavailable with Retry-After, nothing accepted unchecked', async (t) => {
  const { origin, url } = await signedOrigin(t, { replayCacheEntries: 2 });
  const seen = recordFetch(t);
  const client = new OriginClient({ baseUrl: url, clusterSecret: CLUSTER_SECRET });
  await client.write('b', '{"a":1}');
  const s2 = await client.write('b', '{"a":2}');
  // the cache holds two nonces for the window (60 s): a third signed request is refused, not applied
  await assert.rejects(client.write('b', '{"a":3}'), (e: unknown) => e instanceof WriteError && e.code === 'unavailable');
  const refused = seen[seen.length - 1];
  const res = await fetch(refused.url, { method: 'POST', headers: refused.headers, body: refused.body });
  assert.equal(res.status, 503);
  assert.ok(Number(res.headers.get('retry-after')) >= 1 && Number(res.headers.get('retry-after')) <= 60, `Retry-After ${res.headers.get('retry-after')}`);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'unavailable');
  // a replay of an accepted request is still refused as a replay, not let through at the bound
  assert.deepEqual(await replay(seen[0]), { status: 401, code: 'unauthorized' });
  assert.deepEqual(await origin.read('b'), { seq: s2, state: { a: 2 } });
});
