/**
 * The bench's messages phase end to end at tiny scale (bench-messages.ts, the code `npm run bench`
 * runs): Replicant with auth on and Centrifugo, real receiver processes holding one connection per
 * user with its own token, the open-loop writer sending each message to one user through the
 * target's server API; every acked message reaches its user, once. And the `user` wire mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messagesPhase, messagesReport, messagesRatio, type MessagesConfig } from '../src/bench-messages.js';
import { makeWire, type FastParse } from '../src/wire.js';

const TINY: MessagesConfig = { users: 20, rate: 40, durationS: 1, warmupS: 0.5, receivers: 1, quietWaitS: 0 };

test('messages phase, tiny: every acked message reaches its user once, on Replicant (auth on) and Centrifugo', async () => {
  const rs = [await messagesPhase('replicant-auth', TINY, 0), await messagesPhase('centrifugo', TINY, 1)];
  for (const r of rs) {
    assert.equal(r.error, undefined);
    assert.equal(r.users, TINY.users);
    assert.equal(r.writesAcked, TINY.rate * TINY.durationS, `${r.target}: ${r.firstWriteError}`);
    assert.equal(r.delivered, r.writesAcked, `${r.target}: ${JSON.stringify(r)}`);
    assert.equal(r.lost, 0);
    assert.equal(r.errorFrames + r.closedAfterReady + r.goaways, 0, JSON.stringify(r));
    assert.ok(r.latencyMs.p99 > 0 && r.cpuSPerMillion > 0, JSON.stringify(r));
  }
  assert.equal(rs[0].dropped, 0, "Replicant's gateway counted no dropped message");
  assert.equal(rs[1].dropped, null, 'Centrifugo exposes no such count here');
  assert.ok((messagesRatio(rs) ?? 0) > 0);
  assert.match(messagesReport(TINY, rs), /CPU per message delivered: Replicant\/Centrifugo = /);
});

test('user wire mode: Replicant is ready at welcome and measures message frames; Centrifugo connects with the token', () => {
  const out: FastParse = { kind: 'other', t: NaN, n: NaN };
  const r = makeWire('replicant', '', 'user');
  assert.deepEqual(r.open('tok'), ['{"type":"auth","token":"tok"}'], 'a user connection subscribes to nothing');
  assert.equal(r.parse(Buffer.from('{"type":"welcome","connection":"g.1.a"}'), out).kind, 'snapshot');
  const m = r.parse(Buffer.from('{"type":"message","id":"5b1c","data":{"t":12.5,"n":7}}'), out);
  assert.deepEqual([m.kind, m.t, m.n, m.ops], ['delta', 12.5, 7, 1]);
  // other field order: the JSON fallback still finds t and n
  const o = r.parse(Buffer.from('{"type":"message","data":{"n":8,"t":3},"id":"x"}'), out);
  assert.deepEqual([o.kind, o.t, o.n], ['delta', 3, 8]);
  // a doc subscriber is not ready at welcome
  const d = makeWire('replicant', 'bench');
  assert.deepEqual(d.open('tok', 4), ['{"type":"auth","token":"tok"}', '{"type":"hello","window":4}', '{"type":"subscribe","doc":"bench"}']);
  assert.equal(d.parse(Buffer.from('{"type":"welcome","connection":"g.1.a"}'), out).kind, 'welcome');

  const c = makeWire('centrifugo', '', 'user');
  assert.deepEqual(c.open('tok'), ['{"id":1,"connect":{"token":"tok"}}']);
  const ready = c.parse(Buffer.from('{"id":1,"connect":{"client":"c1","subs":{"personal:#s1":{}}}}'), out);
  assert.deepEqual([ready.kind, ready.reply], ['snapshot', null], 'ready at the connect reply, no subscribe sent');
  const p = c.parse(Buffer.from('{"push":{"channel":"personal:#s1","pub":{"data":{"t":1.5,"n":3}}}}'), out);
  assert.deepEqual([p.kind, p.t, p.n], ['delta', 1.5, 3]);
  assert.throws(() => makeWire('socketio', '', 'user'), /no user mode/);
});
