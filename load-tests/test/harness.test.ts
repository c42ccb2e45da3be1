import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeServerJson } from '@replicant/protocol';
import { deltaFrame, snapshotFrame, startBareServer } from '../src/bare-uws.js';
import { fastParse, type FastParse } from '../src/receiver.js';
import { Histogram } from '../src/histogram.js';
import { cpuSeconds, rssBytes, processTree, machineBusySeconds } from '../src/procfs.js';

test('the bare server sends the same bytes as Replicant for a delta and a snapshot', () => {
  const patch = '{"t":1732240000123.456,"n":42}';
  assert.equal(
    deltaFrame('bench', 1234n, 1200n, patch),
    encodeServerJson({ type: 'delta', doc: 'bench', seq: 1234n, prevSeq: 1200n, patch }),
  );
  assert.equal(
    snapshotFrame('bench', 7n, '{"a":1}'),
    encodeServerJson({ type: 'snapshot', doc: 'bench', seq: 7n, state: '{"a":1}' }),
  );
});

test('bare server HTTP: POST assigns increasing seqs, GET returns the folded state, bad input is a 4xx', async () => {
  const s = await startBareServer({ port: 0 });
  try {
    const url = `http://127.0.0.1:${s.port}/v1/docs/d`;
    const post = (body: string) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const a = await (await post('{"x":1}')).json();
    const b = await (await post('{"y":2}')).json();
    assert.ok(BigInt(b.seq) > BigInt(a.seq));
    assert.deepEqual(await (await fetch(url)).json(), { seq: b.seq, state: { x: 1, y: 2 } });
    const bad = await post('[1]');
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, 'bad_patch');
    assert.equal((await fetch(`http://127.0.0.1:${s.port}/v1/docs/-x`, { method: 'POST', body: '{}' })).status, 400);
  } finally {
    s.close();
  }
});

test('receiver fast path reads kind, t, n and ops covered without JSON.parse', () => {
  const out: FastParse = { kind: 'other', t: NaN, n: NaN };
  const delta = Buffer.from(encodeServerJson({ type: 'delta', doc: 'bench', seq: 99n, prevSeq: 98n, patch: '{"t":1732240000123.456,"n":42}' }));
  assert.deepEqual({ ...fastParse(delta, out) }, { kind: 'delta', t: 1732240000123.456, n: 42, ops: 1 });
  // a coalesced delta covering 7 ops of the bench doc (contiguous seqs)
  const coalesced = Buffer.from(encodeServerJson({ type: 'delta', doc: 'hot', seq: 1007n, prevSeq: 1000n, patch: '{"t":5,"n":48}' }));
  assert.equal(fastParse(coalesced, out).ops, 7);
  assert.equal(out.n, 48);
  const snap = Buffer.from(encodeServerJson({ type: 'snapshot', doc: 'bench', seq: 99n, state: '{"t":1,"n":2}' }));
  assert.equal(fastParse(snap, out).kind, 'snapshot');
  assert.ok(Number.isNaN(out.n));
  assert.equal(fastParse(Buffer.from('{"type":"goaway","reconnectMs":5}'), out).kind, 'goaway');
  assert.equal(fastParse(Buffer.from('{"type":"error","code":"x","message":"y"}'), out).kind, 'error');
  assert.equal(fastParse(Buffer.from('{"doc":"d","type":"delta"}'), out).kind, 'other');
  // a delta whose patch is not the bench shape: kind known, no t/n (the receiver falls back to JSON)
  const other = Buffer.from(encodeServerJson({ type: 'delta', doc: 'd', seq: 2n, prevSeq: 1n, patch: '{"a":1}' }));
  assert.equal(fastParse(other, out).kind, 'delta');
  assert.ok(Number.isNaN(out.t));
});

test('histogram: quantiles within 1 %, exact merge', () => {
  const h = new Histogram();
  for (let i = 1; i <= 10000; i++) h.record(i / 100); // 0.01 .. 100 ms
  const near = (x: number, want: number) => assert.ok(Math.abs(x - want) <= want * 0.011 + 0.011, `${x} vs ${want}`);
  near(h.quantile(0.5), 50);
  near(h.quantile(0.99), 99);
  near(h.quantile(0.01), 1);
  assert.equal(h.quantile(1), 100);
  const a = new Histogram();
  const b = new Histogram();
  for (let i = 1; i <= 10000; i++) (i % 2 ? a : b).record(i / 100);
  const m = new Histogram();
  m.merge(JSON.parse(JSON.stringify(a)));
  m.merge(JSON.parse(JSON.stringify(b)));
  assert.equal(m.count, h.count);
  assert.equal(m.quantile(0.5), h.quantile(0.5));
  assert.equal(m.quantile(0.99), h.quantile(0.99));
  assert.ok(Number.isNaN(new Histogram().quantile(0.5)));
});

test('procfs readings of this process', () => {
  assert.ok(processTree(process.pid).includes(process.pid));
  const c0 = cpuSeconds(process.pid);
  let x = 0;
  const until = Date.now() + 60;
  while (Date.now() < until) x += Math.sqrt(x + 1);
  assert.ok(cpuSeconds(process.pid) >= c0);
  assert.ok(rssBytes(process.pid) > 10 * 1024 * 1024);
  assert.ok(machineBusySeconds() > 0);
});
