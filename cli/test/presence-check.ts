/**
 * Shared by the presence tests (embedded and cluster): a watcher of `d~presence` that folds what
 * it receives and checks every delta's prevSeq against the seq it holds (no gap, no duplicate),
 * and members that join with `presence: true`.
 */
import assert from 'node:assert/strict';
import { applyMergePatch } from '@replicant/protocol';
import { RawClient } from './harness.js';
import { sign } from './tokens.js';

export const SECRET = 'hs256-presence-secret-0123456789abcdef';
export const API_KEY = 'presence-api-key-0123456789';
export const token = (sub: string, read: string[] = ['room*', 'hall*']) => sign({ sub, read, write: ['room*'], exp: Math.floor(Date.now() / 1000) + 600 }, SECRET);

export class PresenceWatcher {
  state: any = undefined;
  seq: bigint | undefined;
  frames = 0;
  private waiters: { pred: (s: any) => boolean; resolve: () => void }[] = [];

  private constructor(
    readonly c: RawClient,
    readonly doc: string,
  ) {
    c.ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.doc !== doc) return;
      if (f.type === 'snapshot') {
        assert.ok(this.seq === undefined || BigInt(f.seq) >= this.seq, 'a snapshot never goes back');
        this.state = f.state;
        this.seq = BigInt(f.seq);
      } else if (f.type === 'delta') {
        assert.equal(f.prevSeq, String(this.seq), `delta ${f.seq} follows the seq held (no gap)`);
        this.state = applyMergePatch(this.state, f.patch);
        this.seq = BigInt(f.seq);
      } else if (f.type === 'error') {
        throw new Error(`watcher got an error: ${JSON.stringify(f)}`);
      } else return;
      this.frames++;
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(this.state)) return true;
        w.resolve();
        return false;
      });
    });
  }

  static async open(wsUrl: string, doc: string): Promise<PresenceWatcher> {
    const c = await RawClient.open(`${wsUrl}?token=${await token('watcher')}`);
    const w = new PresenceWatcher(c, doc);
    c.send({ type: 'subscribe', doc });
    await w.until((s) => s !== undefined);
    return w;
  }

  /** resolves once the folded state satisfies `pred` (checked on every frame) */
  until(pred: (s: any) => boolean): Promise<void> {
    if (this.state !== undefined && pred(this.state)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  /** until(pred), failing after `ms` with the state seen */
  async within(ms: number, what: string, pred: (s: any) => boolean): Promise<number> {
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.until(pred),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms; state ${summary(this.state)}`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
    return Date.now() - t0;
  }
}

export function summary(s: any): string {
  return JSON.stringify({ connections: s?.connections, users: s?.users ? Object.keys(s.users).length : undefined });
}

export const usersOf = (s: any) => (s?.users ? Object.keys(s.users).length : 0);

/** `n` members of `doc` on `wsUrl`, subs `${prefix}${i}`, each with info {name} */
export async function join(wsUrl: string, doc: string, prefix: string, n: number): Promise<RawClient[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const c = await RawClient.open(`${wsUrl}?token=${await token(`${prefix}${i}`)}`);
      c.send({ type: 'subscribe', doc, presence: true, info: { name: `${prefix}${i}` } });
      await c.next((f) => f.type === 'snapshot' && f.doc === doc);
      return c;
    }),
  );
}
