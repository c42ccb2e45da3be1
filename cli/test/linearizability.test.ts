/**
 * Linearizability, proven the way databases prove it (DESIGN.md "Consistency"): a history of
 * concurrent GETs, blind POSTs and POSTs with If-Match from CLIENTS clients over three
 * `replicant origin` processes on a real 3-broker Kafka cluster (replication factor 3,
 * min.insync.replicas 2) is judged by Porcupine (tools/lincheck, built by scripts/install-go-tool.sh).
 * During the run the broker leading the first doc's partition is SIGKILLed and later restarted,
 * and an origin is SIGKILLed and restarted.
 *
 * Recording: each op's call and return times (microseconds, one clock: every client is in this
 * process) and outcome. A 200 or a 412 (If-Match) is decided. Anything else after the request was
 * sent (503, timeout, connection reset) is recorded as `unknown`: possibly applied, at any time
 * after its call (lincheck gives it an infinite return time and steps to both possibilities; an
 * unknown GET constrains nothing). Acceptance: at least MIN_OPS ops, at least 95 % decided, at
 * least MIN_FAULT_GETS decided GETs of the victim partition's doc sent after its broker was killed
 * and answered before it was restarted (the failover window is tested, not skipped by 503s), at
 * least MIN_CROSS_GETS decided GETs on an origin other than the one that acknowledged the latest
 * write they must see, and Porcupine says linearizable.
 *
 * The second test shows that this checker can fail: the recorded history with one stale read
 * injected is judged not linearizable. The injection is off by one write: a read sent just after
 * an acknowledged write W answering exactly the state recorded just before W (the seq of the
 * write W directly followed).
 *
 * Without the read barrier the first test fails: run it with LIN_READ=local, which sends every GET
 * as `?read=local` (each origin's own view), and Porcupine finds stale reads across origins.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partitionForKey } from '@replicant/stream';
import { startCluster, type Cluster, type Node } from './cluster-harness.js';
import { lincheck, type HistoryOp, type Verdict } from './lincheck.js';

const CLIENTS = 12;
const DOCS = ['lin-a', 'lin-b', 'lin-c', 'lin-d'];
const PARTITIONS = 4;
const MIN_OPS = 3000;
/** decided GETs of DOCS[0] between its partition leader's SIGKILL and restart */
const MIN_FAULT_GETS = 20;
/** decided GETs served by an origin other than the one that acknowledged the write they must reflect */
const MIN_CROSS_GETS = 100;
/** every op has an answer or is given up on (unknown) within this */
const REQUEST_TIMEOUT_MS = 8000;
/** a client pauses this long after an undecided op (a real client's backoff; keeps the outage from filling the history with unknowns) */
const BACKOFF_MS = 300;
/** fault rounds (each: the partition leader SIGKILLed, an origin SIGKILLed and replaced, the broker restarted); more for soak runs */
const ROUNDS = Number(process.env.LIN_ROUNDS ?? 1);
/** ops recorded after the killed broker is back (its catch-up and return to the ISR happen under load) */
const OPS_AFTER_RESTART = Number(process.env.LIN_OPS_AFTER_RESTART ?? 500);
const READ_QUERY = process.env.LIN_READ === 'local' ? '?read=local' : '';


const now = () => Math.round(performance.now() * 1000);

describe('linearizability: GET / POST / POST If-Match over three origins, a broker and an origin killed (Porcupine)', () => {
  let c: Cluster;
  const history: HistoryOp[] = [];
  /** Porcupine's verdict on the recorded history (the first test) */
  let verdict: Verdict | undefined;

  before(async () => {
    c = await startCluster({ fanouts: 0, gateways: 0, partitions: PARTITIONS });
  });
  after(async () => {
    await c?.stop();
  });

  test(`${CLIENTS} clients, >= ${MIN_OPS} ops, >= 95 % decided, judged linearizable`, async (t) => {
    const origins: (Node | undefined)[] = [c.origin, await c.startOrigin('origin-2'), await c.startOrigin('origin-3')];
    /** every origin that ran, for the evidence dump */
    const ran = origins.filter((o): o is Node => o !== undefined);
    const leaders = await c.kafka.leaders(c.topic);
    const victimBroker = leaders.get(partitionForKey(DOCS[0], PARTITIONS))!;
    let count = 0;
    let done = false;
    const faults: string[] = [];
    let brokerKilledAt = Infinity;
    let brokerRestartedAt = -Infinity;
    // the faults, driven by the history's progress (not by time)
    const reached = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (count >= n ? resolve() : setImmediate(check));
        check();
      });
    const faultPlan = (async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const base = count;
        // later rounds kill whichever broker leads the doc's partition by then
        const victim = round === 0 ? victimBroker : (await c.kafka.leaders(c.topic)).get(partitionForKey(DOCS[0], PARTITIONS))!;
        await reached(base + MIN_OPS * 0.15);
        await c.kafka.kill9(victim);
        if (round === 0) brokerKilledAt = now();
        faults.push(`broker ${victim} SIGKILLed at op ${count}`);
        await reached(base + MIN_OPS * 0.35);
        const o2 = origins[1]!;
        origins[1] = undefined; // clients stop choosing it; requests in flight to it end as unknown
        await o2.kill9();
        faults.push(`${o2.id} SIGKILLed at op ${count}`);
        origins[1] = await c.startOrigin(`origin-2${'b'.repeat(round + 1)}`);
        ran.push(origins[1]);
        faults.push(`${origins[1].id} started at op ${count}`);
        await reached(base + MIN_OPS * 0.55);
        if (round === 0) brokerRestartedAt = now();
        await c.kafka.restart(victim);
        faults.push(`broker ${victim} restarted at op ${count}`);
        // the history goes on while the restarted broker catches up and rejoins the ISR
        await reached(count + OPS_AFTER_RESTART);
      }
    })();

    const client = async (id: number) => {
      const lastSeq = new Map<string, string>();
      let n = 0;
      while (!done) {
        const doc = DOCS[Math.floor(Math.random() * DOCS.length)];
        const up = origins.filter((o): o is Node => o !== undefined);
        const origin = up[Math.floor(Math.random() * up.length)];
        const roll = Math.random();
        const op: HistoryOp = { client: id, doc, op: roll < 0.5 ? 'get' : roll < 0.75 ? 'post' : 'cas', call: 0, status: 'unknown', origin: origin.id };
        const init: RequestInit = { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
        if (op.op !== 'get') {
          n++;
          // a few fields overwritten and deleted by everyone: states repeat rarely, seqs never
          const k = `k${Math.floor(Math.random() * 3)}`;
          op.patch = op.op === 'cas' ? { cas: `${id}.${n}` } : { [k]: Math.random() < 0.1 ? null : `${id}.${n}` };
          const headers: Record<string, string> = { 'content-type': 'application/merge-patch+json' };
          if (op.op === 'cas') {
            op.ifSeq = lastSeq.get(doc) ?? '0';
            headers['if-match'] = `"${op.ifSeq}"`;
          }
          Object.assign(init, { method: 'POST', headers, body: JSON.stringify(op.patch) });
        }
        op.call = now();
        let status = 0;
        let body: any;
        try {
          const r = await fetch(`${origin.url}/v1/docs/${doc}${op.op === 'get' ? READ_QUERY : ''}`, init);
          status = r.status;
          body = await r.json();
        } catch {
          // timeout or connection reset after the request may have been sent: unknown
        }
        op.return = now();
        if (status === 200) {
          op.status = 'ok';
          op.seq = body.seq;
          if (op.op === 'get') op.state = body.state;
          lastSeq.set(doc, body.seq);
        } else if (status === 412 && op.op === 'cas') {
          op.status = 'conflict';
        } else {
          assert.ok(status === 0 || status === 503, `${op.op} ${doc} on ${origin.id}: ${status} ${JSON.stringify(body)}`);
          if (status === 503) assert.equal(body.error.code, 'unavailable');
          op.status = 'unknown';
          delete op.return;
        }
        history.push(op);
        count++;
        if (op.status === 'unknown') await new Promise((r) => setTimeout(r, BACKOFF_MS));
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
    await faultPlan;
    await reached(MIN_OPS);
    done = true;
    await Promise.all(clients);

    const decided = history.filter((o) => o.status !== 'unknown').length;
    const byKind = (k: string, s: string) => history.filter((o) => o.op === k && o.status === s).length;
    // a plain count, independent of Porcupine: reads below a write of their doc acknowledged before the read was sent
    const stale = history.filter(
      (g) => g.op === 'get' && g.status === 'ok' &&
        history.some((w) => w.op !== 'get' && w.status === 'ok' && w.doc === g.doc && w.return! < g.call && BigInt(w.seq!) > BigInt(g.seq!)),
    ).length;
    // GETs of the victim's doc inside the failover window, decided
    const faultGets = history.filter(
      (o) => o.op === 'get' && o.status === 'ok' && o.doc === DOCS[0] && o.call >= brokerKilledAt && o.return! <= brokerRestartedAt,
    ).length;
    // GETs on another origin than the one that acknowledged the newest write acknowledged before they were sent
    const cross = history.filter((g) => {
      if (g.op !== 'get' || g.status !== 'ok') return false;
      let must: HistoryOp | undefined;
      for (const w of history) {
        if (w.op === 'get' || w.status !== 'ok' || w.doc !== g.doc || w.return! >= g.call) continue;
        if (must === undefined || BigInt(w.seq!) > BigInt(must.seq!)) must = w;
      }
      return must !== undefined && must.origin !== g.origin;
    }).length;
    t.diagnostic(faults.join('; '));
    // retention never deletes here: a tail that skipped offsets would fold a doc without some ops
    const skipped = ran.flatMap((o) => o.output().split('\n').filter((l) => l.includes('before this tail read them')).map((l) => `${o.id}: ${l}`));
    t.diagnostic(`tails that skipped offsets: ${skipped.length === 0 ? 'none' : skipped.join(' | ')}`);
    t.diagnostic(`${faultGets} decided GETs of ${DOCS[0]} while its leader was down; ${cross} decided GETs on another origin than the one that acknowledged the write they had to see`);
    t.diagnostic(`${stale} reads answered a seq below a write of their doc acknowledged before they were sent`);
    t.diagnostic(
      `${history.length} ops, ${decided} decided (${((100 * decided) / history.length).toFixed(1)} %): ` +
        `get ok ${byKind('get', 'ok')} / unknown ${byKind('get', 'unknown')}, post ok ${byKind('post', 'ok')} / unknown ${byKind('post', 'unknown')}, ` +
        `cas ok ${byKind('cas', 'ok')} / conflict ${byKind('cas', 'conflict')} / unknown ${byKind('cas', 'unknown')}`,
    );
    assert.equal(faults.length, 4 * ROUNDS, 'every fault ran during the history');
    assert.ok(history.length >= MIN_OPS);
    assert.ok(decided >= 0.95 * history.length, `${decided} of ${history.length} decided`);
    assert.ok(byKind('cas', 'ok') > 0 && byKind('cas', 'conflict') > 0, 'conditional writes both applied and refused');
    assert.ok(faultGets >= MIN_FAULT_GETS, `${faultGets} decided GETs of ${DOCS[0]} during the broker outage`);
    assert.ok(cross >= MIN_CROSS_GETS, `${cross} cross-origin decided GETs`);
    const t0 = performance.now();
    const v = (verdict = lincheck(history));
    t.diagnostic(`porcupine: ${JSON.stringify(v)} in ${Math.round(performance.now() - t0)} ms`);
    if (v.result !== 'linearizable') {
      // the evidence, for a person or another checker: the whole history as lincheck read it
      const file = join(tmpdir(), `replicant-lin-history-${process.pid}.json`);
      const logs = Object.fromEntries(ran.map((o) => [o.id, o.output().slice(-200_000)]));
      writeFileSync(file, JSON.stringify({ faults, brokerKilledAt, brokerRestartedAt, logs, ops: history }));
      t.diagnostic(`history written to ${file}`);
    }
    assert.equal(v.result, 'linearizable', JSON.stringify(v));
    assert.equal(stale, 0);
  });

  test('the checker can fail: the same history with one stale read injected is not linearizable', (t) => {
    assert.ok(history.length >= MIN_OPS, 'the first test recorded a history');
    // an acknowledged write W, the decided write P directly before it (no decided write of the doc
    // in between), and a read that observed exactly P's seq: inject that read again just after W
    // on the doc with the fewest unknown writes: each one is pending from its call to the end of the
    // history, so Porcupine must try it at every point before it can reject the read (on the killed
    // broker's doc that search can outlast the checker's timeout)
    const unknownWrites = (d: string) => history.filter((o) => o.doc === d && o.op !== 'get' && o.status === 'unknown').length;
    const doc = [...DOCS].sort((a, b) => unknownWrites(a) - unknownWrites(b))[0];
    t.diagnostic(`unknown writes per doc: ${DOCS.map((d) => `${d} ${unknownWrites(d)}`).join(', ')}`);
    const writes = history
      .filter((o) => o.doc === doc && o.op !== 'get' && o.status === 'ok')
      .sort((a, b) => (BigInt(a.seq!) < BigInt(b.seq!) ? -1 : 1));
    let injected: HistoryOp | undefined;
    for (const w of writes.slice(Math.floor(writes.length / 2))) {
      const prior = writes.filter((p) => p.doc === w.doc && BigInt(p.seq!) < BigInt(w.seq!)).at(-1);
      if (prior === undefined) continue;
      const before = history.find((o) => o.op === 'get' && o.status === 'ok' && o.doc === w.doc && o.seq === prior.seq);
      if (before === undefined) continue;
      injected = { client: CLIENTS, doc: w.doc, op: 'get', call: w.return! + 1, return: w.return! + 2, status: 'ok', seq: before.seq, state: before.state };
      t.diagnostic(`injected: a read of ${w.doc} just after the write acknowledged with seq ${w.seq} answering seq ${before.seq} (the write just before it)`);
      break;
    }
    assert.ok(injected, 'found a write whose preceding state was read');
    const t0 = performance.now();
    const v = lincheck([...history, injected]);
    t.diagnostic(`porcupine on the history + one stale read of ${injected.doc} (seq ${injected.seq}): ${JSON.stringify(v)} in ${Math.round(performance.now() - t0)} ms`);
    assert.equal(v.result, 'not_linearizable');
    assert.deepEqual(v.illegalDocs, [injected.doc]);
    // and the recorded history alone was judged fine (the injection, not the data, made it fail)
    assert.equal(verdict?.result, 'linearizable');
  });
});
