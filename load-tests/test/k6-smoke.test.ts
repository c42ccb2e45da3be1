/**
 * Runs the real k6 scripts (load-tests/k6/*.js) under the Node k6 shim for a few seconds with a few
 * VUs: against the bare uWS ceiling and against `replicant dev` (the built CLI). Every check and
 * threshold of the scripts must pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runK6, parseDuration, type K6RunResult } from '../src/k6-shim.js';
import { startBareServer } from '../src/bare-uws.js';
import { replicantBuilt, startServer, CLI_MAIN } from '../src/servers.js';

const K6_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'k6');

function assertPassed(name: string, r: K6RunResult): void {
  const detail = `${name}:\n${r.summary()}`;
  assert.deepEqual(r.errors, [], detail);
  for (const [check, c] of Object.entries(r.checks)) assert.equal(c.fails, 0, `check "${check}" failed ${c.fails}x\n${detail}`);
  for (const t of r.thresholds) assert.ok(t.ok, `threshold ${t.metric}: ${t.expr} failed (${t.value})\n${detail}`);
  assert.ok(r.ok, detail);
}

async function smoke(baseUrl: string): Promise<void> {
  const [fanout, writes] = await Promise.all([
    runK6({
      script: join(K6_DIR, 'fanout.js'),
      env: { BASE_URL: baseUrl, SUBSCRIBERS: '4', WRITE_RATE: '10', RAMP: '500ms', HOLD: '2500ms', SESSION_MS: '1200' },
      maxDurationMs: 15000,
    }),
    runK6({
      script: join(K6_DIR, 'writes.js'),
      env: { BASE_URL: baseUrl, RATE: '20', DOCS: '5', RAMP: '500ms', HOLD: '2s', BAD_RATE: '3' },
      maxDurationMs: 15000,
    }),
  ]);
  assertPassed('fanout.js', fanout);
  assertPassed('writes.js', writes);
  // the scenarios really ran: deltas flowed through resubscribes, writes were acknowledged
  assert.ok(fanout.metric('replicant_deltas', 'count') >= 4 * 10, fanout.summary());
  // sessions last 1.2 s of ~3 s: every VU reconnected (resuming from lastSeq) at least once
  assert.ok(fanout.metric('ws_sessions', 'count') >= 4 * 2, fanout.summary());
  assert.ok(fanout.metric('replicant_snapshots', 'count') >= 4, fanout.summary());
  assert.ok(fanout.iterations.writer >= 20, fanout.summary());
  assert.ok(writes.metric('replicant_writes_acked', 'count') >= 20, writes.summary());
  assert.ok(writes.iterations.bad_input >= 3, writes.summary());
}

test('k6 scripts against the bare uWS server', async () => {
  const bare = await startBareServer({ port: 0 });
  try {
    await smoke(`http://127.0.0.1:${bare.port}`);
  } finally {
    bare.close();
  }
});

test('k6 scripts against replicant dev', async () => {
  assert.ok(replicantBuilt(), `${CLI_MAIN} is not built: run npm run build`);
  const server = await startServer('replicant', { readyTimeoutMs: 15000 });
  try {
    await smoke(`http://127.0.0.1:${server.port}`);
    assert.equal(server.exited, false, 'replicant dev stayed up');
  } finally {
    await server.stop(5000);
  }
});

test('k6 shim: what it does not support is refused, not run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k6-shim-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = (text: string): string => {
    const file = join(dir, `s${Math.random().toString(36).slice(2)}.js`);
    writeFileSync(file, text);
    return file;
  };
  // a module outside the supported subset: the run does not start
  await assert.rejects(runK6({ script: script("import exec from 'k6/execution';\nexport default function () {}\n") }), /module k6\/execution is not supported/);
  // an executor outside it: the run reports the error and fails without iterating
  const r = await runK6({
    script: script("export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 1, iterations: 1 } } };\nexport default function () {}\n"),
    maxDurationMs: 10000,
  });
  assert.equal(r.ok, false);
  assert.deepEqual(r.errors, ['k6-shim: executor per-vu-iterations is not supported'], r.summary());
  assert.deepEqual(r.iterations, { s: 0 });
});

test('k6 shim: durations', () => {
  assert.equal(parseDuration('1m30s'), 90000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('2h'), 7200000);
  assert.equal(parseDuration(undefined, 7), 7);
  assert.throws(() => parseDuration('soon'));
});
