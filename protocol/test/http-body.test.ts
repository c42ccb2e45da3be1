import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyBudget, readBody, type BodyRefusal, type HttpBodySource } from '../src/index.js';

/** a body source fed by hand, as uWS feeds onData */
class Feed implements HttpBodySource {
  private handler?: (chunk: ArrayBuffer, isLast: boolean) => void;
  onData(h: (chunk: ArrayBuffer, isLast: boolean) => void): void {
    this.handler = h;
  }
  push(bytes: number, isLast: boolean): void {
    const chunk = new Uint8Array(bytes).fill(0x61).buffer;
    this.handler!(chunk, isLast);
    new Uint8Array(chunk).fill(0); // uWS reuses the chunk's memory: the reader must have copied it
  }
}

function read(contentLength: string, limits: Parameters<typeof readBody>[3]) {
  const feed = new Feed();
  const out: { body?: string; refused?: BodyRefusal; calls: number } = { calls: 0 };
  const handle = readBody(
    feed,
    { done: false },
    contentLength,
    limits,
    (b) => {
      out.calls++;
      out.body = b.toString('latin1');
    },
    (why) => {
      out.calls++;
      out.refused = why;
    },
  );
  return { feed, out, handle };
}

test('a body within the bound arrives whole, copied out of reused chunks', () => {
  const { feed, out } = read('', { maxBytes: 10 });
  feed.push(4, false);
  feed.push(6, true);
  assert.equal(out.body, 'a'.repeat(10));
  assert.equal(out.calls, 1);
});

test('over the bound: refused once; dropped bodies keep the connection up to maxDiscardBytes, then close', () => {
  const early = read('11', { maxBytes: 10 });
  assert.deepEqual(early.out.refused, { reason: 'too_large', close: true });

  const dropped = read('', { maxBytes: 10, maxDiscardBytes: 100 });
  dropped.feed.push(50, false);
  assert.equal(dropped.out.calls, 0, 'still reading the dropped body');
  dropped.feed.push(40, true);
  assert.deepEqual(dropped.out.refused, { reason: 'too_large', close: false });

  const endless = read('', { maxBytes: 10, maxDiscardBytes: 100 });
  endless.feed.push(60, false);
  endless.feed.push(60, false);
  assert.deepEqual(endless.out.refused, { reason: 'too_large', close: true });
  endless.feed.push(60, true);
  assert.equal(endless.out.calls, 1, 'nothing after the refusal');
});

test('the shared budget bounds bytes buffered by all requests: busy at the bound, bytes returned after', () => {
  const budget = new BodyBudget(100);
  const a = read('', { maxBytes: 80, budget });
  a.feed.push(70, false);
  assert.equal(budget.bytes, 70);
  const b = read('', { maxBytes: 80, budget });
  b.feed.push(40, false);
  assert.deepEqual(b.out.refused, { reason: 'busy' });
  assert.equal(budget.bytes, 70, 'a refused request holds nothing');
  a.handle.release(); // a aborted
  assert.equal(budget.bytes, 0);
  const c = read('', { maxBytes: 80, budget });
  c.feed.push(80, true);
  assert.equal(c.out.body?.length, 80);
  assert.equal(budget.bytes, 0, 'a completed body goes back to the budget');
});
