/**
 * Acceptance: a client POSTing a body over MAX_BODY_BYTES (default 1 MiB) to `replicant dev` sees
 * the 413 and its JSON error, never a reset or a broken pipe: the server reads and drops the body
 * (up to its discard bound) before answering. Against a separate process, as a user's client is:
 * the answer-then-close it replaces broke the streamed uploads within a few tries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getDoc, post, startDevProcess, tempDir } from './harness.js';

test('fetch POSTing 2 MiB gets 413 with the JSON error body, every time', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const MiB = 1024 * 1024;
  const expected = { error: { code: 'payload_too_large', message: `body larger than ${MiB} bytes` } };
  for (let i = 0; i < 8; i++) {
    // with a Content-Length
    const sized = await fetch(`${dev.url}/v1/docs/big`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array(2 * MiB).fill(0x20),
    });
    assert.equal(sized.status, 413);
    assert.deepEqual(await sized.json(), expected);
    // streamed (chunked, no length): the limit is found while reading
    const streamed = await fetch(`${dev.url}/v1/docs/big`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream<Uint8Array>({
        start(c) {
          for (let k = 0; k < 32; k++) c.enqueue(new Uint8Array(64 * 1024).fill(0x20));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
    assert.deepEqual(await streamed.json(), expected);
  }
  // nothing was written and the server carries on
  assert.deepEqual(await getDoc(dev.url, 'big'), { seq: '0', state: {} });
  assert.equal((await post(dev.url, 'big', { ok: true })).status, 200);
});
