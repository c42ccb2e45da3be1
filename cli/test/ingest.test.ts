/**
 * Acceptance (issue 22, DESIGN.md "Kafka-native"): Kafka topics written by a plain kafkajs
 * producer (not Replicant) become live documents, on real brokers and real processes.
 *
 * - merge-patch: 5,000 patches on a 4-partition topic while `replicant origin` is SIGKILLed and
 *   restarted twice: every doc equals the fold of its records, the doc's history shows every
 *   record exactly once and in order, and a WebSocket subscriber's deltas chain without a gap.
 * - 100 malformed records mixed into good ones: counted by result, skipped, the good ones applied,
 *   a merge patch growing a doc past MAX_DOC_BYTES counted doc_too_large, lag back to 0.
 * - upsert with tombstones, and Debezium change events (create, update, delete; with and without
 *   the JsonConverter schema wrapper): docs equal the rows.
 * - `replicant dev` (embedded log) with INGEST_BROKERS: a live view of an existing topic.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { Kafka, Partitioners, logLevel, type Message, type Producer } from 'kafkajs';
import { applyMergePatch, stripNullMembers, type JsonObject } from '@replicant/protocol';
import { rng } from '@replicant/testkit';
import { startCluster, scrape, type Cluster, type Node } from './cluster-harness.js';
import { getDoc, RawClient, startDevFor } from './harness.js';

const TOPICS = { patches: 'ing.patches', mixed: 'ing.mixed', upsert: 'ing.upsert', cdc: 'ing.cdc', dev: 'ing.dev' };
const MAX_DOC_BYTES = 65_536;

let cluster: Cluster;
let producer: Producer;
/** the origin running now (replaced by each restart) */
let origin: Node;

before(async () => {
  cluster = await startCluster({
    partitions: 4,
    fanouts: 1,
    gateways: 1,
    originEnv: {
      INGEST_TOPICS: `${TOPICS.patches}=merge-patch:pt:,${TOPICS.mixed}=merge-patch:mx:,${TOPICS.upsert}=upsert:up:,${TOPICS.cdc}=debezium:customers:`,
      MAX_DOC_BYTES: String(MAX_DOC_BYTES),
    },
    setup: async (kafka) => {
      for (const t of Object.values(TOPICS)) await kafka.createTopic(t, { partitions: 4 });
    },
  });
  origin = cluster.origin;
  const kafka = new Kafka({ clientId: 'not-replicant', brokers: cluster.kafka.bootstraps, logLevel: logLevel.NOTHING });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
  await cluster?.stop();
});

const send = (topic: string, messages: Message[]) => producer.send({ topic, acks: -1, messages });

/** polls `check` (every 100 ms, up to `ms`) until it returns true; fails with its last explanation */
async function eventually(what: string, check: () => Promise<true | string>, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      const r = await check();
      if (r === true) return;
      last = r;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) assert.fail(`${what}: not reached within ${ms} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function restartOrigin(id: string): Promise<void> {
  await origin.kill9();
  origin = await cluster.startOrigin(id);
}

/** every op of a doc's history, oldest first */
async function history(doc: string): Promise<{ seq: string; prevSeq: string; patch: JsonObject }[]> {
  const ops: { seq: string; prevSeq: string; patch: JsonObject }[] = [];
  for (let after = '0'; ; ) {
    const r = await fetch(`${origin.url}/v1/docs/${doc}/history?after=${after}&limit=1000`);
    assert.equal(r.status, 200, `history of ${doc}`);
    const page = (await r.json()) as { ops: { seq: string; prevSeq: string; patch: JsonObject }[]; next: string | null };
    ops.push(...page.ops);
    if (page.next === null) return ops;
    after = page.next;
  }
}

function ingestMetrics(text: string, topic: string): { results: Record<string, number>; lag: number; partitions: number } {
  const results: Record<string, number> = {};
  let lag = 0;
  let partitions = 0;
  for (const line of text.split('\n')) {
    const r = /^replicant_ingest_records_total\{(.*)\} (\d+)/.exec(line);
    if (r && r[1].includes(`topic="${topic}"`)) results[/result="([^"]+)"/.exec(r[1])![1]] = Number(r[2]);
    const l = /^replicant_ingest_lag_records\{(.*)\} (\d+)/.exec(line);
    if (l && l[1].includes(`topic="${topic}"`)) {
      lag += Number(l[2]);
      partitions++;
    }
  }
  return { results, lag, partitions };
}

test('merge-patch: 5,000 records from a foreign producer, origin SIGKILLed and restarted twice: each applied exactly once, in order, no gap for subscribers', async () => {
  const N = 5000;
  const KEYS = 40;
  const rand = rng(22);
  const records: { key: string; patch: JsonObject }[] = [];
  for (let i = 0; i < N; i++) {
    const key = `d${Math.floor(rand() * KEYS)}`;
    const patch: JsonObject = { u: i, last: i, [`f${i % 13}`]: { at: i } };
    if (i % 5 === 0) patch[`f${(i + 6) % 13}`] = null;
    records.push({ key, patch });
  }
  // a subscriber on the gateway for a few docs, from before the first record
  const watched = ['pt:d0', 'pt:d1', 'pt:d2', 'pt:d3'];
  const ws = await RawClient.open(cluster.gateways[0].wsUrl);
  const seen = new Map<string, { seq: bigint; state: JsonObject; gaps: string[] }>();
  ws.ws.on('message', (data) => {
    const f = JSON.parse(data.toString());
    if (f.type === 'snapshot') seen.set(f.doc, { seq: BigInt(f.seq), state: f.state, gaps: seen.get(f.doc)?.gaps ?? [] });
    else if (f.type === 'delta') {
      const s = seen.get(f.doc)!;
      if (BigInt(f.prevSeq) !== s.seq) s.gaps.push(`delta prevSeq ${f.prevSeq} while holding ${s.seq}`);
      s.state = applyMergePatch(s.state, f.patch) as JsonObject;
      s.seq = BigInt(f.seq);
    }
  });
  for (const doc of watched) ws.send({ type: 'subscribe', doc });
  await Promise.all(watched.map((doc) => ws.next((f) => f.type === 'snapshot' && f.doc === doc)));

  const BATCH = 100;
  for (let i = 0; i < N; i += BATCH) {
    await send(
      TOPICS.patches,
      records.slice(i, i + BATCH).map((r) => ({ key: r.key, value: JSON.stringify(r.patch) })),
    );
    // the origin is killed (and a new one started) while records keep arriving
    if (i + BATCH === 1500) await restartOrigin('origin-2');
    if (i + BATCH === 3500) await restartOrigin('origin-3');
  }

  const expected = new Map<string, { state: JsonObject; us: number[] }>();
  for (let i = 0; i < N; i++) {
    const doc = `pt:${records[i].key}`;
    const e = expected.get(doc) ?? { state: {}, us: [] };
    e.state = applyMergePatch(e.state, records[i].patch) as JsonObject;
    e.us.push(i);
    expected.set(doc, e);
  }
  for (const [doc, e] of expected) {
    await eventually(`${doc} equals the fold of its records`, async () => {
      const got = await getDoc(origin.url, doc);
      return isDeepStrictEqual(got.state, e.state) ? true : `state ${JSON.stringify(got.state).slice(0, 200)}`;
    });
  }
  for (const [doc, e] of expected) {
    const ops = await history(doc);
    assert.deepEqual(
      ops.map((o) => o.patch.u),
      e.us,
      `${doc}: every record exactly once, in topic order`,
    );
  }
  for (const doc of watched) {
    await eventually(`subscriber of ${doc} reaches the final state`, async () =>
      isDeepStrictEqual(seen.get(doc)!.state, expected.get(doc)!.state) ? true : `seq ${seen.get(doc)!.seq}`,
    );
    assert.deepEqual(seen.get(doc)!.gaps, [], `${doc}: no gap`);
  }
  ws.close();
  await eventually('lag back to 0', async () => {
    const m = ingestMetrics(await scrape(origin), TOPICS.patches);
    return m.partitions > 0 && m.lag === 0 ? true : `lag ${m.lag} over ${m.partitions} partitions`;
  });
});

test('100 malformed records mixed in: counted by result and skipped, the good ones applied, doc_too_large decided by the fold, lag back to 0', async () => {
  const msgs: Message[] = [];
  const state = new Map<string, JsonObject>();
  let good = 0;
  for (let i = 0; i < 500; i++) {
    if (i % 5 !== 4) {
      const key = `g${i % 17}`;
      const patch = { [`i${i}`]: i };
      state.set(`mx:${key}`, applyMergePatch(state.get(`mx:${key}`) ?? {}, patch) as JsonObject);
      msgs.push({ key, value: JSON.stringify(patch) });
      good++;
      continue;
    }
    const kind = Math.floor(i / 5) % 5;
    if (kind === 0) msgs.push({ key: 'g1', value: '{"unterminated":' });
    else if (kind === 1) msgs.push({ key: 'g1', value: '[1,2,3]' });
    else if (kind === 2) msgs.push({ key: 'g1', value: null });
    else if (kind === 3) msgs.push({ key: 'has space', value: '{"a":1}' });
    else msgs.push({ key: null, value: '{"a":1}' });
  }
  // five 20 KB patches to one doc: the fourth and fifth would take it past MAX_DOC_BYTES (64 KiB)
  for (let i = 0; i < 5; i++) msgs.push({ key: 'big', value: JSON.stringify({ [`b${i}`]: 'x'.repeat(20_000) }) });
  await send(TOPICS.mixed, msgs);
  await eventually('every record of the mixed topic counted', async () => {
    const m = ingestMetrics(await scrape(origin), TOPICS.mixed);
    const total = Object.values(m.results).reduce((a, b) => a + b, 0);
    return total === 505 && m.lag === 0 ? true : `counted ${JSON.stringify(m.results)}, lag ${m.lag}`;
  });
  const m = ingestMetrics(await scrape(origin), TOPICS.mixed);
  assert.deepEqual(m.results, { ok: good + 3, not_json: 20, not_object: 40, bad_key: 40, doc_too_large: 2 });
  for (const [doc, s] of state) assert.deepEqual((await getDoc(origin.url, doc)).state, s);
  assert.deepEqual(Object.keys((await getDoc(origin.url, 'mx:big')).state), ['b0', 'b1', 'b2']);
});

test('upsert with tombstones, and Debezium change events with and without the schema wrapper: docs equal the rows', async () => {
  // ---- upsert ----
  const rand = rng(7);
  const rows = new Map<string, JsonObject>();
  const msgs: Message[] = [];
  for (let i = 0; i < 300; i++) {
    const key = `r${i % 12}`;
    if (rand() < 0.15) {
      msgs.push({ key, value: null });
      rows.set(`up:${key}`, {});
      continue;
    }
    const row: JsonObject = { v: i };
    for (const f of ['a', 'b', 'c', 'd']) if (rand() < 0.5) row[f] = rand() < 0.3 ? { x: i, y: rand() < 0.5 ? null : 'y' } : `${f}${i}`;
    if (rand() < 0.2) row.n = null; // a NULL column: absent
    msgs.push({ key, value: JSON.stringify(row) });
    rows.set(`up:${key}`, stripNullMembers(row) as JsonObject);
  }
  await send(TOPICS.upsert, msgs);

  // ---- Debezium (Postgres connector, JsonConverter) ----
  const keySchema = { type: 'struct', fields: [{ type: 'int32', optional: false, field: 'id' }], optional: false, name: 'dbserver1.inventory.customers.Key' };
  const rowSchema = {
    type: 'struct',
    optional: true,
    name: 'dbserver1.inventory.customers.Value',
    fields: [
      { type: 'int32', optional: false, field: 'id' },
      { type: 'string', optional: false, field: 'first_name' },
      { type: 'string', optional: false, field: 'last_name' },
      { type: 'string', optional: true, field: 'email' },
    ],
  };
  const valueSchema = {
    type: 'struct',
    optional: false,
    name: 'dbserver1.inventory.customers.Envelope',
    fields: [
      { ...rowSchema, field: 'before' },
      { ...rowSchema, field: 'after' },
      { type: 'struct', optional: false, name: 'io.debezium.connector.postgresql.Source', field: 'source', fields: [] },
      { type: 'string', optional: false, field: 'op' },
      { type: 'int64', optional: true, field: 'ts_ms' },
    ],
  };
  let lsn = 33_000_000;
  const event = (op: string, before: JsonObject | null, after: JsonObject | null) => ({
    before,
    after,
    source: { version: '2.7.3.Final', connector: 'postgresql', name: 'dbserver1', ts_ms: 1_733_560_000_000, snapshot: op === 'r' ? 'true' : 'false', db: 'inventory', schema: 'inventory', table: 'customers', txId: 780, lsn: lsn++ },
    op,
    ts_ms: 1_733_560_000_100,
  });
  const cdc = (schema: boolean, id: number, op: string, before: JsonObject | null, after: JsonObject | null): Message => ({
    key: JSON.stringify(schema ? { schema: keySchema, payload: { id } } : { id }),
    value: JSON.stringify(schema ? { schema: valueSchema, payload: event(op, before, after) } : event(op, before, after)),
  });
  const sally = { id: 1001, first_name: 'Sally', last_name: 'Thomas', email: 'sally.thomas@acme.com' };
  const george = { id: 1002, first_name: 'George', last_name: 'Bailey', email: 'gbailey@foobar.com' };
  const edward = { id: 1003, first_name: 'Edward', last_name: 'Walker', email: 'ed@walker.com' };
  const anne = { id: 1004, first_name: 'Anne', last_name: 'Kretchmar', email: 'annek@noanswer.org' };
  const cdcMsgs: Message[] = [
    // snapshot reads, with schema
    cdc(true, 1001, 'r', null, sally),
    cdc(true, 1002, 'r', null, george),
    // live changes, with schema
    cdc(true, 1001, 'u', sally, { ...sally, email: null }),
    cdc(true, 1002, 'd', george, null),
    { key: JSON.stringify({ schema: keySchema, payload: { id: 1002 } }), value: null }, // the tombstone after a delete
    // without schema (schemas.enable=false)
    cdc(false, 1003, 'c', null, edward),
    cdc(false, 1004, 'c', null, anne),
    cdc(false, 1004, 'u', anne, { ...anne, last_name: 'Kretchmar-Smith' }),
    cdc(false, 1003, 'd', edward, null),
    cdc(false, 1003, 'c', null, { ...edward, email: 'edward@walker.com' }),
  ];
  await send(TOPICS.cdc, cdcMsgs);
  const expectedRows = new Map<string, JsonObject>([
    ['customers:1001', { id: 1001, first_name: 'Sally', last_name: 'Thomas' }],
    ['customers:1002', {}],
    ['customers:1003', { ...edward, email: 'edward@walker.com' }],
    ['customers:1004', { ...anne, last_name: 'Kretchmar-Smith' }],
  ]);
  for (const [doc, row] of [...rows, ...expectedRows]) {
    await eventually(`${doc} equals its row`, async () => {
      const got = (await getDoc(origin.url, doc)).state;
      return isDeepStrictEqual(got, row) ? true : `got ${JSON.stringify(got)}, want ${JSON.stringify(row)}`;
    });
  }
  // every op in a replaced doc's history is the merge patch subscribers were sent: they fold to the row
  const ops = await history('customers:1004');
  assert.deepEqual(ops.reduce<JsonObject>((s, o) => applyMergePatch(s, o.patch) as JsonObject, {}), expectedRows.get('customers:1004'));
  const m = ingestMetrics(await scrape(origin), TOPICS.cdc);
  assert.equal(m.results.ok, cdcMsgs.length);
});

test('replicant dev with INGEST_BROKERS: a live view of an existing topic in the embedded log', async (t) => {
  // the cluster's origin leaves the group first (the dev process is then its only member)
  await origin.stop();
  const before = Array.from({ length: 150 }, (_, i) => ({ key: `k${i % 6}`, value: JSON.stringify({ [`a${i}`]: i, last: i }) }));
  await send(TOPICS.dev, before);
  // startDevFor stops the process before removing its data dir (it writes snapshots until it exits)
  const dev = await startDevFor(t, { INGEST_BROKERS: cluster.kafka.bootstraps.join(','), INGEST_TOPICS: `${TOPICS.dev}=merge-patch:live:` });
  const after = Array.from({ length: 150 }, (_, i) => ({ key: `k${i % 6}`, value: JSON.stringify({ [`b${i}`]: i, last: 1000 + i }) }));
  const ws = await RawClient.open(dev.wsUrl);
  ws.send({ type: 'subscribe', doc: 'live:k0' });
  await ws.next((f) => f.type === 'snapshot');
  await send(TOPICS.dev, after);
  const expected = new Map<string, JsonObject>();
  for (const r of [...before, ...after]) expected.set(`live:${r.key}`, applyMergePatch(expected.get(`live:${r.key}`) ?? {}, JSON.parse(r.value)) as JsonObject);
  for (const [doc, s] of expected) {
    await eventually(`${doc} in dev equals the fold of the topic`, async () => {
      const got = (await getDoc(dev.url, doc)).state;
      return isDeepStrictEqual(got, s) ? true : `got ${Object.keys(got).length} keys`;
    });
  }
  // the subscriber saw the records that arrived after it subscribed, live
  await ws.next((f) => f.type === 'delta' && f.doc === 'live:k0' && f.patch.last === 1000 + 144);
  ws.close();
});
