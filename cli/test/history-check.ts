/**
 * The history acceptance checks, shared by the embedded (file log) and the cluster (Kafka) tests:
 * writes to one doc interleaved with another doc's (so its partition holds both), with duplicates
 * (a repeated Idempotency-Key) and conflicts (a stale If-Match) that must not appear in history;
 * then the pages of /history equal the applied writes in seq order, `?at=` equals the state a live
 * subscriber held at that seq, and `restore` makes GET equal `?at=`.
 */
import assert from 'node:assert/strict';
import { applyMergePatch, type JsonObject } from '@replicant/protocol';
import { forEachLimit } from '@replicant/stream';
import { RawClient, post } from './harness.js';

export interface HistoryTarget {
  /** base URL writes and reads go to (origin, dev, or a gateway) */
  url: string;
  /** the WebSocket stream URL to subscribe at (gateway or dev), e.g. ws://host:port/v1/stream */
  wsUrl: string;
  /** headers for every HTTP request (Authorization) */
  headers?: Record<string, string>;
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const r = await fetch(url, { headers });
  const text = await r.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: r.status, body };
}

export async function allHistory(t: HistoryTarget, doc: string, from = '0', limit = 1000): Promise<{ ops: any[]; pages: number }> {
  const ops: any[] = [];
  let after: string | null = from;
  let pages = 0;
  while (after !== null) {
    const r = await getJson(`${t.url}/v1/docs/${doc}/history?after=${after}&limit=${limit}`, t.headers);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.ops.length <= limit);
    ops.push(...r.body.ops);
    after = r.body.next;
    pages++;
  }
  return { ops, pages };
}

export async function runHistoryChecks(t: HistoryTarget, opts: { doc: string; other: string; writes: number; samples: number }): Promise<void> {
  const { doc, other } = opts;
  const h = t.headers ?? {};
  // a subscriber records the state it holds at every seq
  const sub = await RawClient.open(t.wsUrl);
  const held = new Map<string, JsonObject>();
  let heldSeq = 0n;
  let heldState: JsonObject = {};
  let reached: { seq: bigint; resolve: () => void } | undefined;
  sub.ws.on('message', (data) => {
    const f = JSON.parse(data.toString());
    if (f.doc !== doc) return;
    if (f.type === 'snapshot') {
      heldState = f.state;
    } else if (f.type === 'delta') {
      assert.equal(f.prevSeq, String(heldSeq), 'the subscriber sees a gap-free chain');
      heldState = applyMergePatch(heldState, f.patch) as JsonObject;
    } else return;
    heldSeq = BigInt(f.seq);
    held.set(f.seq, structuredClone(heldState));
    if (reached && heldSeq >= reached.seq) reached.resolve();
  });
  if (t.headers?.authorization) sub.send({ type: 'auth', token: t.headers.authorization.replace(/^Bearer /, '') });
  sub.send({ type: 'subscribe', doc });
  await sub.next((f) => f.type === 'snapshot' && f.doc === doc);

  const applied: { seq: bigint; patch: JsonObject }[] = [];
  let duplicates = 0;
  let conflicts = 0;
  await forEachLimit(
    Array.from({ length: opts.writes }, (_, i) => i),
    16,
    async (i) => {
      if (i % 5 === 4) {
        const r = await post(t.url, other, { i }, h);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return;
      }
      const patch: JsonObject = i % 17 === 0 ? { [`k${i % 23}`]: null } : { [`k${i % 23}`]: { i, s: `v${i}` }, n: i };
      const key = `w${i}`;
      const r = await post(t.url, doc, patch, { ...h, 'idempotency-key': key });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      applied.push({ seq: BigInt(r.body.seq), patch });
      if (i % 97 === 0) {
        // a re-sent write: the same seq, no new op
        const again = await post(t.url, doc, patch, { ...h, 'idempotency-key': key });
        assert.equal(again.body.seq, r.body.seq);
        duplicates++;
      }
      if (i % 89 === 0) {
        // a stale conditional write: 412, no op
        const c = await post(t.url, doc, { conflicted: i }, { ...h, 'if-match': '"1"' });
        assert.equal(c.status, 412, JSON.stringify(c.body));
        conflicts++;
      }
    },
  );
  assert.ok(duplicates > 0 && conflicts > 0);
  applied.sort((a, b) => (a.seq < b.seq ? -1 : 1));
  const last = applied[applied.length - 1].seq;
  if (heldSeq < last) await new Promise<void>((resolve) => (reached = { seq: last, resolve }));

  // the pages of /history are the applied writes, in order, chained by prevSeq
  const { ops, pages } = await allHistory(t, doc);
  assert.ok(pages >= Math.ceil(applied.length / 1000));
  assert.equal(ops.length, applied.length);
  let prev = '0';
  for (let i = 0; i < ops.length; i++) {
    assert.equal(ops[i].seq, String(applied[i].seq));
    assert.equal(ops[i].prevSeq, prev);
    assert.deepEqual(ops[i].patch, applied[i].patch);
    assert.equal(typeof ops[i].ts, 'number');
    prev = ops[i].seq;
  }

  // ?at=<seq> is the state the subscriber held at that seq (and between seqs, the one before)
  const seqs = [...held.keys()].filter((s) => s !== '0');
  for (let k = 0; k < opts.samples; k++) {
    const s = seqs[Math.floor(Math.random() * seqs.length)];
    const r = await getJson(`${t.url}/v1/docs/${doc}?at=${s}`, h);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.seq, s);
    assert.deepEqual(r.body.state, held.get(s), `state at ${s}`);
  }

  // restore to s: GET equals ?at=s, and subscribers get there too
  const s = seqs[Math.floor(seqs.length / 3)];
  const restored = await fetch(`${t.url}/v1/docs/${doc}/restore`, {
    method: 'POST',
    headers: { ...h, 'content-type': 'application/json' },
    body: JSON.stringify({ seq: s }),
  });
  assert.equal(restored.status, 200);
  const rseq = ((await restored.json()) as { seq: string }).seq;
  const now = await getJson(`${t.url}/v1/docs/${doc}`, h);
  assert.equal(now.body.seq, rseq);
  assert.deepEqual(now.body.state, held.get(s));
  const atS = await getJson(`${t.url}/v1/docs/${doc}?at=${s}`, h);
  assert.deepEqual(now.body.state, atS.body.state);
  if (heldSeq < BigInt(rseq)) await new Promise<void>((resolve) => (reached = { seq: BigInt(rseq), resolve }));
  assert.deepEqual(heldState, held.get(s));
  // the restore is one op in history
  const tail = await getJson(`${t.url}/v1/docs/${doc}/history?after=${last}`, h);
  assert.equal(tail.body.ops.length, 1);
  assert.equal(tail.body.ops[0].seq, rseq);
  assert.equal(tail.body.next, null);
  sub.close();
}
