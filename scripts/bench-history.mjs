// What a history read costs on the embedded file log (docs/architecture.md, "History and time
// travel"): N records in one partition (default 200,000; every 100th is the doc `target`), then
// `?at=<end>` with no snapshot (a scan from offset 0, from disk) twice, and paging target's whole
// history; then 1,000-op pages of a doc alone in its partition (20,000 ops), twice. Run alone, after `npm run build`: flock /tmp/replicant-load.lock node scripts/bench-history.mjs [N]
import { FileLog, MemorySnapshotStore, encodeOp } from '../stream/dist/src/index.js';
import { History } from '../origin/dist/src/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const dir = mkdtempSync(join(tmpdir(), 'replicant-bench-history-'));
const log = await FileLog.open({ dir, partitions: 1 });
const N = Number(process.argv[2] ?? 200000);
const patch = JSON.stringify({ k: 'v'.repeat(60), n: 1 });
let t0 = performance.now();
const batch = [];
for (let i = 0; i < N; i++) {
  batch.push(log.append(i % 100 === 0 ? 'target' : `d${i % 997}`, encodeOp(patch, '', Date.now())));
  if (batch.length >= 2000) { await Promise.all(batch); batch.length = 0; }
}
await Promise.all(batch);
console.log(`appended ${N} records in ${Math.round(performance.now() - t0)} ms`);
// a fresh log handle: reads go to disk, not the recent window
await log.close();
const log2 = await FileLog.open({ dir, partitions: 1 });
const h = new History(log2, new MemorySnapshotStore());
for (const run of [1, 2]) {
  t0 = performance.now();
  const s = await h.stateAt('target', BigInt(N));
  const dt = performance.now() - t0;
  console.log(`run ${run}: ?at=end (scan ${N} records from 0): ${Math.round(dt)} ms, ${Math.round(N / (dt / 1000))} records/s, seq ${s.seq}`);
}
t0 = performance.now();
let after = 0n, pages = 0, ops = 0;
for (;;) { const p = await h.page('target', after, 1000); pages++; ops += p.ops.length; if (p.next === null) break; after = p.next; }
console.log(`history of target (${ops} ops, ${pages} pages): ${Math.round(performance.now() - t0)} ms`);
await log2.close();
rmSync(dir, { recursive: true, force: true });

// GET /history's own cost: 1,000-op pages of a doc that has its partition to itself (20,000 ops),
// every page read from disk, run twice
const dir2 = mkdtempSync(join(tmpdir(), 'replicant-bench-history-'));
const solo = await FileLog.open({ dir: dir2, partitions: 1 });
const M = 20000;
for (let i = 0; i < M; i += 2000) await Promise.all(Array.from({ length: 2000 }, () => solo.append('solo', encodeOp(patch, '', Date.now()))));
await solo.close();
const solo2 = await FileLog.open({ dir: dir2, partitions: 1 });
const hs = new History(solo2, new MemorySnapshotStore());
for (const run of [1, 2]) {
  t0 = performance.now();
  let a = 0n, n = 0, got = 0;
  for (;;) { const p = await hs.page('solo', a, 1000); n++; got += p.ops.length; if (p.next === null) break; a = p.next; }
  const dt = performance.now() - t0;
  console.log(`run ${run}: history of solo (${got} ops, ${n} pages of 1,000): ${Math.round(dt)} ms, ${Math.round(n / (dt / 1000))} pages/s, ${Math.round(got / (dt / 1000))} ops/s`);
}
await solo2.close();
rmSync(dir2, { recursive: true, force: true });
