/**
 * LinkFrameReader at its edges: empty frames, prefixes ending exactly at a chunk boundary, and the
 * bytes it keeps referenced while a frame streams in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeLinkFrame, LinkFrameError, LinkFrameReader } from '../src/link-codec.js';

test('a zero-length frame is a LinkFrameError, whether its prefix ends a chunk or not', () => {
  // the prefix is the last buffered data: skip(4) empties the chunk list
  assert.throws(() => new LinkFrameReader().push(Buffer.from([0, 0, 0, 0])), LinkFrameError);
  // the prefix is followed by more data in the same chunk
  const next = encodeLinkFrame({ credit: { n: 1 } });
  assert.throws(() => new LinkFrameReader().push(Buffer.concat([Buffer.from([0, 0, 0, 0]), next])), LinkFrameError);
  // after a whole frame, split across chunks
  const r = new LinkFrameReader();
  assert.equal(r.push(next.subarray(0, 3)).length, 0);
  assert.equal(r.push(Buffer.concat([next.subarray(3), Buffer.from([0, 0])])).length, 1);
  assert.throws(() => r.push(Buffer.from([0, 0])), LinkFrameError);
});

test('a prefix ending exactly at a chunk boundary: the body in the next chunk(s) decodes', () => {
  const f = encodeLinkFrame({ hello: { nodeId: 'n'.repeat(300), window: 7 } });
  const r = new LinkFrameReader();
  assert.deepEqual(r.push(f.subarray(0, 4)), []);
  assert.equal(r.buffered, 4);
  assert.deepEqual(r.push(f.subarray(4, 100)), []);
  const out = r.push(f.subarray(100));
  assert.equal(out.length, 1);
  assert.equal(out[0].hello!.nodeId, 'n'.repeat(300));
  assert.equal(out[0].hello!.window, 7);
  assert.equal(r.buffered, 0);
  assert.equal(r.retained, 0);
});

test('while always partway through a frame, the reader retains at most 4 + the frame bound + one chunk', () => {
  const bound = 64 * 1024;
  const chunk = 1000; // not a divisor of the frame size: frames start and end mid-chunk
  const frame = encodeLinkFrame({ hello: { nodeId: 'x'.repeat(bound - 16), window: 1 } });
  assert.ok(frame.length - 4 <= bound);
  const r = new LinkFrameReader(bound);
  // a stream of frames where no chunk ends a frame: the reader is never empty
  const stream = Buffer.concat(Array.from({ length: 64 }, () => frame));
  let frames = 0;
  let maxRetained = 0;
  for (let off = 0; off + chunk <= stream.length; off += chunk) {
    frames += r.push(stream.subarray(off, off + chunk)).length;
    maxRetained = Math.max(maxRetained, r.retained);
    assert.ok(r.buffered > 0);
  }
  assert.ok(frames >= 60, `${frames} frames`);
  assert.ok(maxRetained <= 4 + bound + chunk, `retained ${maxRetained} bytes, bound ${4 + bound + chunk}`);
});
