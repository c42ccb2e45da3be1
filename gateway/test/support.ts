/** What the gateway's tests share: folding a doc's frames with the chain checked, waiting for a condition. */
import assert from 'node:assert/strict';
import { applyMergePatch } from '@replicant/protocol';

/**
 * Folds one doc's snapshot/delta frames as a client would, asserting that every delta chains on
 * the seq held (no gap) and no snapshot goes back; `noRepeat`: not even to the same seq (no duplicate).
 */
export function foldFrames(frames: any[], o: { noRepeat?: boolean } = {}): { seq: string; state: any } {
  let seq: string | undefined;
  let state: any;
  for (const f of frames) {
    if (f.type === 'snapshot') {
      if (seq !== undefined) {
        const ok = o.noRepeat ? BigInt(f.seq) > BigInt(seq) : BigInt(f.seq) >= BigInt(seq);
        assert.ok(ok, `snapshot at ${f.seq} after ${seq}: ${o.noRepeat ? 'back or duplicate' : 'back'}`);
      }
      seq = f.seq;
      state = f.state;
    } else {
      assert.equal(f.prevSeq, seq, `delta ${f.prevSeq}->${f.seq} does not chain on ${seq}`);
      seq = f.seq;
      state = applyMergePatch(state, f.patch);
    }
  }
  return { seq: seq!, state };
}

/** polls `pred` every `stepMs` until it holds; fails naming `what` after `ms` (for state no event reports) */
export async function waitFor(pred: () => boolean, what: string, ms = 20_000, stepMs = 5): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    assert.ok(Date.now() - t0 < ms, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
