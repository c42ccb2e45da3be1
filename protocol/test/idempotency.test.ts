import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSequencedKey, isMalformedSequencedKey, parseSequencedKey, DEDUPE_WINDOW, SEND_SPAN } from '../src/index.js';

test('sequenced keys: ~<client>.<n>.<base> round-trips; other keys are not sequenced; bad ~ keys are malformed', () => {
  const k = formatSequencedKey('Ab_-9', 17, 12345678901234567890n);
  assert.equal(k, '~Ab_-9.17.12345678901234567890');
  assert.deepEqual(parseSequencedKey(k), { client: 'Ab_-9', n: 17, base: 12345678901234567890n });
  for (const plain of ['order:123', 'uuid-0f3a', '', 'a.1.2']) {
    assert.equal(parseSequencedKey(plain), undefined, plain);
    assert.equal(isMalformedSequencedKey(plain), false, plain);
  }
  for (const bad of ['~', '~c.0.0', '~c.1', '~c.01.0', '~c.1.01', '~c d.1.0', `~${'x'.repeat(65)}.1.0`, '~c.99999999999999999.0', '~c.1.18446744073709551616']) {
    assert.equal(parseSequencedKey(bad), undefined, bad);
    assert.equal(isMalformedSequencedKey(bad), true, bad);
  }
  assert.ok(SEND_SPAN < DEDUPE_WINDOW, 'writers stay inside the window the fold remembers');
});
