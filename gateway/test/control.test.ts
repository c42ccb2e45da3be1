/**
 * ControlFollower: how the gateway follows the control stream. The first base sets revocations
 * and replays no old command; deltas apply once (duplicates ignored); a re-base whose history
 * reaches back applies exactly the missed commands; one that does not counts them lost and still
 * takes the revocation list from the state. A delta that does not follow our seq forces a re-base
 * (never stepped over); a subscribe that throws is retried; `ready` waits for the first base.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTROL_DOC, commandPatch, type ControlCommand, type JsonObject } from '@replicant/protocol';
import { Delta, type Upstream, type UpstreamListener } from '@replicant/fanout';
import { ControlFollower, type Connections } from '../src/index.js';

class Recorder {
  applied: string[] = [];
  revocations = new Map<string, number>();
  resets = 0;
  apply(c: ControlCommand): void {
    this.applied.push(c.t === 'message' ? `message:${c.id}` : `disconnect:${c.sub}`);
  }
  applyRevocations(ch: Map<string, number | null>): void {
    for (const [s, b] of ch) if (b === null) this.revocations.delete(s);
    else this.revocations.set(s, b);
  }
  resetRevocations(list: Map<string, number | null>): void {
    this.resets++;
    this.revocations = new Map([...list].filter((e): e is [string, number] => e[1] !== null));
  }
}

class FakeUpstream implements Upstream {
  listener: UpstreamListener | undefined;
  docs: string[] = [];
  unsubscribes = 0;
  /** subscribe throws while this is set (RemoteUpstream with no replica link) */
  failing = false;
  onSubscribe: (() => void) | undefined;
  subscribe(doc: string, l: UpstreamListener): void {
    if (this.failing) throw new Error('no replica');
    this.docs.push(doc);
    this.listener = l;
    this.onSubscribe?.();
  }
  unsubscribe(): void {
    this.unsubscribes++;
    this.listener = undefined;
  }
}

const msg = (id: string): JsonObject => JSON.parse(commandPatch({ t: 'message', id, to: { sub: 'a' }, data: {} })) as JsonObject;
const delta = (seq: bigint, prevSeq: bigint, patch: JsonObject) => new Delta(CONTROL_DOC, seq, prevSeq, JSON.stringify(patch), patch, Date.now());

function setup() {
  const up = new FakeUpstream();
  const rec = new Recorder();
  const f = new ControlFollower(up, rec as unknown as Connections);
  return { up, rec, f };
}

test('the first base sets revocations and replays no command; deltas apply once', () => {
  const { up, rec, f } = setup();
  assert.deepEqual(up.docs, [CONTROL_DOC]);
  up.listener!.onBase(CONTROL_DOC, 10n, { revocations: { alice: 100 }, cmd: 'old' }, [delta(10n, 5n, msg('old'))]);
  assert.deepEqual(rec.applied, []);
  assert.deepEqual([...rec.revocations], [['alice', 100]]);
  up.listener!.onDelta(delta(12n, 10n, msg('m1')));
  up.listener!.onDelta(delta(12n, 10n, msg('m1'))); // a duplicate
  up.listener!.onDelta(delta(15n, 12n, { revocations: { bob: 200, alice: null } }));
  up.listener!.onDelta(delta(16n, 15n, JSON.parse(commandPatch({ t: 'disconnect', sub: 'bob', reconnect: false })) as JsonObject));
  assert.deepEqual(rec.applied, ['message:m1', 'disconnect:bob']);
  assert.deepEqual([...rec.revocations], [['bob', 200]]);
  assert.equal(f.appliedSeq, 16n);
  assert.equal(f.lost, 0);
});

test('a re-base (failover) applies exactly the commands after our seq; a base behind us is ignored', () => {
  const { up, rec, f } = setup();
  up.listener!.onBase(CONTROL_DOC, 10n, {}, []);
  up.listener!.onDelta(delta(12n, 10n, msg('m1')));
  up.listener!.onBase(CONTROL_DOC, 11n, { revocations: { x: 1 } }, []); // behind: ignored
  assert.equal(rec.resets, 1);
  up.listener!.onBase(CONTROL_DOC, 20n, { revocations: { carol: 300 } }, [delta(12n, 10n, msg('m1')), delta(14n, 12n, msg('m2')), delta(20n, 14n, msg('m3'))]);
  assert.deepEqual(rec.applied, ['message:m1', 'message:m2', 'message:m3']);
  assert.deepEqual([...rec.revocations], [['carol', 300]]);
  assert.equal(f.lost, 0);
  assert.equal(f.appliedSeq, 20n);
});

test('a re-base whose history does not reach back counts the commands lost; revocations stay exact', () => {
  const { up, rec, f } = setup();
  up.listener!.onBase(CONTROL_DOC, 10n, {}, []);
  up.listener!.onBase(CONTROL_DOC, 30n, { revocations: { dave: 400 } }, [delta(30n, 25n, msg('late'))]);
  assert.deepEqual(rec.applied, []);
  assert.equal(f.lost, 1);
  assert.deepEqual([...rec.revocations], [['dave', 400]]);
  up.listener!.onDelta(delta(31n, 30n, msg('next')));
  assert.deepEqual(rec.applied, ['message:next']);
});

test('a delta that skips one is not applied: the follower resubscribes and the re-base fills the gap', async () => {
  const { up, rec, f } = setup();
  assert.equal(f.ready, false, 'not ready before the first base: revocations unknown');
  up.listener!.onBase(CONTROL_DOC, 10n, {}, []);
  assert.equal(f.ready, true);
  const resubscribed = new Promise<void>((r) => (up.onSubscribe = r));
  up.listener!.onDelta(delta(14n, 12n, msg('after-gap'))); // 12 (a revocation) was skipped
  up.listener?.onDelta(delta(15n, 14n, msg('later'))); // still before the re-base: ignored
  assert.deepEqual(rec.applied, []);
  assert.equal(f.gaps, 1);
  await resubscribed;
  assert.equal(up.unsubscribes, 1);
  up.listener!.onBase(CONTROL_DOC, 15n, { revocations: { eve: 500 } }, [delta(12n, 10n, { revocations: { eve: 500 } }), delta(14n, 12n, msg('after-gap')), delta(15n, 14n, msg('later'))]);
  assert.deepEqual(rec.applied, ['message:after-gap', 'message:later']);
  assert.deepEqual([...rec.revocations], [['eve', 500]]);
  assert.equal(f.appliedSeq, 15n);
  up.listener!.onDelta(delta(16n, 15n, msg('next')));
  assert.deepEqual(rec.applied, ['message:after-gap', 'message:later', 'message:next']);
});

test('a subscribe that throws (at start or in a retry) is retried, never an uncaught exception', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const up = new FakeUpstream();
  up.failing = true;
  const f = new ControlFollower(up, new Recorder() as unknown as Connections);
  assert.deepEqual(up.docs, []);
  t.mock.timers.tick(1000); // first retry: still failing, backs off
  assert.deepEqual(up.docs, []);
  up.failing = false;
  t.mock.timers.tick(1999);
  assert.deepEqual(up.docs, [], 'the second retry waits twice as long');
  t.mock.timers.tick(1);
  assert.deepEqual(up.docs, [CONTROL_DOC]);
  // an error from the subscription: retried the same way
  up.listener!.onError(CONTROL_DOC, 'unavailable', 'replica shutting down');
  t.mock.timers.tick(4000);
  assert.deepEqual(up.docs, [CONTROL_DOC, CONTROL_DOC]);
  f.close();
});
