/**
 * tools/lincheck's model on small hand-written histories (no servers): each case is one rule of
 * the per-document register (seq, state) with blind and conditional merge-patch writes, and each
 * is judged both ways where it can be (a legal history and the same one made illegal).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lincheck, runLincheck, type HistoryOp } from './lincheck.js';

let t = 0;
/** an op taking [call, call + 1] (later ops start later: sequential unless given times) */
function op(o: Partial<HistoryOp> & Pick<HistoryOp, 'op' | 'status'>, times?: [number, number | undefined]): HistoryOp {
  const [call, ret] = times ?? [(t += 10), t + 1];
  return { client: 0, doc: 'd', call, ...(ret === undefined ? {} : { return: ret }), ...o };
}
const get = (seq: string, state: Record<string, unknown>, times?: [number, number]) => op({ op: 'get', status: 'ok', seq, state }, times);
const post = (patch: Record<string, unknown>, seq: string, times?: [number, number]) => op({ op: 'post', status: 'ok', patch, seq }, times);
const result = (ops: HistoryOp[]) => lincheck(ops).result;

test('reads see the fold of the writes before them (RFC 7386 merge), with their seq', () => {
  const ok = [get('0', {}), post({ a: 1, o: { x: 1 } }, '3'), post({ o: { y: 2 }, a: null }, '7'), get('7', { o: { x: 1, y: 2 } })];
  assert.equal(result(ok), 'linearizable');
  assert.equal(result([...ok, get('3', { a: 1, o: { x: 1 } })]), 'not_linearizable', 'a later read of an older state');
  assert.equal(result([post({ a: 1 }, '3'), get('3', { a: 2 })]), 'not_linearizable', 'right seq, wrong state');
  assert.equal(result([post({ a: 1 }, '3'), get('4', { a: 1 })]), 'not_linearizable', 'right state, a seq no write produced');
  assert.equal(result([post({ a: 1 }, '5'), post({ b: 1 }, '3')]), 'not_linearizable', 'seqs increase with the order of writes');
});

test('concurrent ops may take effect in either order', () => {
  // a write and a read overlapping it: the read may see the state before or after it
  assert.equal(result([post({ a: 1 }, '3', [0, 10]), get('0', {}, [1, 2])]), 'linearizable');
  assert.equal(result([post({ a: 1 }, '3', [0, 10]), get('3', { a: 1 }, [1, 2])]), 'linearizable');
  // but two reads by non-overlapping calls cannot go back
  assert.equal(result([post({ a: 1 }, '3', [0, 10]), get('3', { a: 1 }, [1, 2]), get('0', {}, [3, 4])]), 'not_linearizable');
});

test('If-Match: applied only at its seq, conflict only when the doc was elsewhere', () => {
  const cas = (ifSeq: string, patch: Record<string, unknown>, status: 'ok' | 'conflict', seq?: string) =>
    op({ op: 'cas', status, ifSeq, patch, ...(seq ? { seq } : {}) });
  assert.equal(result([post({ a: 1 }, '3'), cas('3', { b: 1 }, 'ok', '4'), get('4', { a: 1, b: 1 })]), 'linearizable');
  assert.equal(result([post({ a: 1 }, '3'), cas('0', { b: 1 }, 'ok', '4')]), 'not_linearizable', 'applied at a seq the doc was not at');
  assert.equal(result([post({ a: 1 }, '3'), cas('0', { b: 1 }, 'conflict'), get('3', { a: 1 })]), 'linearizable');
  assert.equal(result([post({ a: 1 }, '3'), cas('3', { b: 1 }, 'conflict')]), 'not_linearizable', 'refused although the doc was at that seq');
});

test('an op with an unknown outcome may have taken effect at any time after its call, or never', () => {
  const lost = op({ op: 'post', status: 'unknown', patch: { a: 1 } }, [0, undefined]);
  assert.equal(result([lost, get('0', {}, [5, 6])]), 'linearizable', 'not (yet) applied');
  assert.equal(result([lost, get('9', { a: 1 }, [5, 6]), get('9', { a: 1 }, [7, 8])]), 'linearizable', 'applied, its seq learnt from a read');
  assert.equal(result([lost, get('9', { a: 1 }, [5, 6]), get('0', {}, [7, 8])]), 'not_linearizable', 'applied, then gone');
  assert.equal(result([get('0', {}, [0, 1]), op({ op: 'post', status: 'unknown', patch: { a: 1 } }, [5, undefined]), get('9', { a: 1 }, [2, 3])]), 'not_linearizable', 'seen before it was sent');
  // an unknown read constrains nothing
  assert.equal(result([post({ a: 1 }, '3'), op({ op: 'get', status: 'unknown' }, [50, undefined])]), 'linearizable');
});

test('writes with unknown outcomes: each applied one raises the lowest possible seq by one; a conflict rules its ifSeq out', () => {
  const unknown = (patch: Record<string, unknown>, call: number) => op({ op: 'post', status: 'unknown', patch }, [call, undefined]);
  // two unknown writes both seen: the seq is at least the known 3 + 2
  const two = [post({ a: 1 }, '3', [0, 1]), unknown({ b: 1 }, 2), unknown({ c: 1 }, 3)];
  assert.equal(result([...two, get('5', { a: 1, b: 1, c: 1 }, [10, 11])]), 'linearizable');
  assert.equal(result([...two, get('4', { a: 1, b: 1, c: 1 }, [10, 11])]), 'not_linearizable', 'two writes after seq 3 cannot both be in seq 4');
  // the If-Match 3 conflict shows the unknown write was applied before it (seq >= 4); the If-Match 4
  // conflict rules out 4: a read at 4 showing it is impossible, at 5 possible
  const narrowed = [
    post({ a: 1 }, '3', [0, 1]),
    unknown({ b: 1 }, 2),
    op({ op: 'cas', status: 'conflict', ifSeq: '3', patch: { x: 1 } }, [10, 11]),
    op({ op: 'cas', status: 'conflict', ifSeq: '4', patch: { x: 1 } }, [12, 13]),
  ];
  assert.equal(result([...narrowed, get('5', { a: 1, b: 1 }, [14, 15])]), 'linearizable');
  assert.equal(result([...narrowed, get('4', { a: 1, b: 1 }, [14, 15])]), 'not_linearizable', 'refused at 4, then read at 4');
});

test('documents are independent registers; the verdict names the documents that fail', () => {
  const v = lincheck([post({ a: 1 }, '3'), { ...post({ a: 1 }, '3'), doc: 'e' }, { ...get('0', {}), doc: 'e' }]);
  assert.equal(v.result, 'not_linearizable');
  assert.equal(v.docs, 2);
  assert.deepEqual(v.illegalDocs, ['e']);
});

test('bad input is exit code 2 with a clear line', () => {
  for (const input of ['{"ops":[', { ops: [{ doc: 'd', op: 'put', call: 0, status: 'ok' }] }, { ops: [{ doc: 'd', op: 'get', call: 5, return: 1, status: 'ok', seq: '0', state: {} }] }]) {
    const r = runLincheck(input);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^lincheck: bad input: /);
  }
});
