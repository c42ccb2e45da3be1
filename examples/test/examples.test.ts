/**
 * Every example runs as a user would run it, against a real `replicant dev` process: the Node
 * watcher prints the states a document reaches, the token backend's tokens (signed with `jose`)
 * are accepted by the gateway, the browser page shows a live document and publishes to it, and the
 * k6 script runs to the end with every check and threshold passed (under the repo's k6 shim, which
 * is what `npm run k6` runs), and two terminal chat users see each other (presence), each other's
 * typing flag, messages and direct messages, and one kicks the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { chromium } from 'playwright-core';
import { watch } from '@replicant/testkit';

const ROOT = new URL('../../../', import.meta.url).pathname;
const EXAMPLES = join(ROOT, 'examples');
const SECRET = 'examples-test-secret-0123456789';

/** a running child whose output lines can be awaited */
interface Child {
  proc: ChildProcess;
  /** resolves with the first line (printed so far or later) matching `re`; rejects if the child exits first */
  line(re: RegExp): Promise<string>;
  /** resolves with the exit code once the child has exited on its own */
  exit: Promise<number | null>;
  output(): string;
  stop(): Promise<void>;
  /** writes a line to its stdin (with `stdin: true`) */
  send(line: string): void;
}

/** `node <args>` from the repo root, through the test kit's one launcher */
function run(args: string[], env: Record<string, string> = {}, stdin = false): Child {
  const w = watch({ name: `node ${args[0].slice(ROOT.length)}`, bin: process.execPath, args, cwd: ROOT, env: { ...process.env, ...env }, outputLimit: 1 << 20, stdin });
  return {
    proc: w.child,
    // the whole line around the first match
    line: (re) => w.waitFor(new RegExp(`^.*(?:${re.source}).*$`, 'm')).then((m) => m[0]),
    exit: w.exit.then(([code]) => code),
    output: w.output,
    stop: () => w.stop('SIGTERM'),
    send: (line) => void w.child.stdin!.write(`${line}\n`),
  };
}

/** `replicant dev` on a free port with a temp DATA_DIR; its base URL */
async function dev(t: { after(fn: () => unknown): void }, env: Record<string, string> = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'replicant-examples-'));
  const c = run([join(ROOT, 'cli', 'bin', 'replicant.js'), 'dev'], { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, ...env });
  t.after(async () => {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const ready = await c.line(/ready on http:\/\/127\.0\.0\.1:\d+/);
  return /http:\/\/127\.0\.0\.1:\d+/.exec(ready)![0];
}

async function write(base: string, doc: string, patch: unknown, token?: string): Promise<string> {
  const headers: Record<string, string> = { 'content-type': 'application/merge-patch+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(`${base}/v1/docs/${doc}`, { method: 'POST', headers, body: JSON.stringify(patch) });
  assert.equal(r.status, 200, await r.clone().text());
  return ((await r.json()) as { seq: string }).seq;
}

test('node-watcher prints every state the document reaches', async (t) => {
  const base = await dev(t);
  const ws = `${base.replace('http', 'ws')}/v1/stream`;
  const watcher = run([join(EXAMPLES, 'node-watcher', 'watch.mjs'), 'board', '--url', ws]);
  t.after(() => watcher.stop());
  assert.deepEqual(JSON.parse(await watcher.line(/"seq":"0"/)), { doc: 'board', seq: '0', state: {} });
  await write(base, 'board', { title: 'hello' });
  const seq = await write(base, 'board', { done: true });
  assert.deepEqual(JSON.parse(await watcher.line(new RegExp(`"seq":"${seq}"`))), { doc: 'board', seq, state: { title: 'hello', done: true } });
});

test('token-backend issues scoped jose tokens the gateway accepts', async (t) => {
  const backend = run([join(EXAMPLES, 'token-backend', 'server.mjs')], { AUTH_JWT_SECRET: SECRET, PORT: '0' });
  t.after(() => backend.stop());
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(await backend.line(/token-backend ready on/))![0];
  const res = await fetch(`${url}/token?user=alice`);
  assert.equal(res.status, 200);
  const { token, expiresIn } = (await res.json()) as { token: string; expiresIn: number };
  assert.equal(expiresIn, 600);
  const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(SECRET));
  assert.equal(protectedHeader.alg, 'HS256');
  assert.equal(payload.sub, 'alice');
  assert.deepEqual(payload.read, ['lobby', 'user:{sub}:*']);
  assert.deepEqual(payload.write, ['user:{sub}:*']);
  assert.ok(payload.exp! - payload.iat! === 600);
  assert.equal((await fetch(`${url}/token?user=bad%20name`)).status, 400);

  // the gateway of a `replicant dev` with the same secret lets the watcher in with that token
  const base = await dev(t, { AUTH_JWT_SECRET: SECRET });
  const watcher = run([join(EXAMPLES, 'node-watcher', 'watch.mjs'), 'user:alice:notes', '--url', `${base.replace('http', 'ws')}/v1/stream`, '--token', token]);
  t.after(() => watcher.stop());
  await watcher.line(/"doc":"user:alice:notes","seq":"0"/);
  const seq = await write(base, 'user:alice:notes', { n: 1 }, token);
  assert.deepEqual(JSON.parse(await watcher.line(new RegExp(`"seq":"${seq}"`))).state, { n: 1 });
});

test('the browser page shows the live document and publishes to it', async (t) => {
  const base = await dev(t);
  // serve examples/browser from another origin, as an app would be
  const page = readFileSync(join(EXAMPLES, 'browser', 'index.html'));
  const http = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => http.close(r)));
  const addr = http.address() as { port: number };
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  t.after(() => browser.close());
  const tab = await browser.newPage();
  const errors: string[] = [];
  tab.on('pageerror', (e) => errors.push(String(e)));
  const seq = await write(base, 'counter', { count: 41 });
  await tab.goto(`http://127.0.0.1:${addr.port}/?server=${encodeURIComponent(base)}&doc=counter`);
  await tab.waitForFunction((s) => document.getElementById('seq')!.textContent === s, seq);
  assert.deepEqual(JSON.parse((await tab.textContent('#state'))!), { count: 41 });
  await tab.click('#inc');
  // the view shows 42 at once (the optimistic view); the server has it once the page's seq moves
  await tab.waitForFunction(() => document.getElementById('state')!.textContent!.includes('42'));
  await tab.waitForFunction((s) => document.getElementById('seq')!.textContent !== s, seq);
  const r = (await (await fetch(`${base}/v1/docs/counter`)).json()) as { state: unknown };
  assert.deepEqual(r.state, { count: 42 });
  assert.deepEqual(errors, []);
});

test('the k6 example runs under `npm run k6` (the shim) with every check and threshold passed', async (t) => {
  const base = await dev(t);
  const k6 = run(
    [join(ROOT, 'load-tests', 'dist', 'src', 'k6-shim.js'), join(EXAMPLES, 'k6', 'watch-and-write.js')].concat(
      ...Object.entries({ BASE_URL: base, DOC: 'k6-example', VIEWERS: '3', WRITES_PER_S: '10', DURATION: '3s', SESSION_MS: '1500' }).map(([k, v]) => ['-e', `${k}=${v}`]),
    ),
  );
  t.after(() => k6.stop());
  assert.equal(await k6.exit, 0, k6.output());
  const out = k6.output();
  for (const check of ['stream opened (101)', 'delta follows the seq the viewer holds', 'write acknowledged (200)']) assert.match(out, new RegExp(`✓ ${check.replace(/[()]/g, '\\$&')}`), out);
  assert.doesNotMatch(out, /✗/, out);
  // the viewers saw the writes: the server holds the last one, and views_updated counted deltas
  const r = (await (await fetch(`${base}/v1/docs/k6-example`)).json()) as { state: { sentAt?: number } };
  assert.equal(typeof r.state.sentAt, 'number');
  assert.match(out, /✓ views_updated: count>0 \([1-9]/, out);
});

test('chat: who is here and typing (presence), messages, direct messages, kick', async (t) => {
  const apiKey = 'examples-chat-api-key-0123456789';
  const base = await dev(t, { AUTH_JWT_SECRET: SECRET, API_KEYS: apiKey, PRESENCE_INTERVAL_MS: '100' });
  const backend = run([join(EXAMPLES, 'chat', 'backend.mjs')], { AUTH_JWT_SECRET: SECRET, REPLICANT_API_KEY: apiKey, REPLICANT_URL: base, PORT: '0' });
  t.after(() => backend.stop());
  const backendUrl = /http:\/\/127\.0\.0\.1:\d+/.exec(await backend.line(/chat backend ready on/))![0];
  const chat = (user: string) => {
    const c = run([join(EXAMPLES, 'chat', 'chat.mjs'), user, '--url', `${base.replace('http', 'ws')}/v1/stream`, '--backend', backendUrl], {}, true);
    t.after(() => c.stop());
    return c;
  };
  const ann = chat('ann');
  await ann.line(/^here: ann$/);
  const bob = chat('bob');
  await ann.line(/^here: ann, bob$/);
  bob.send('/typing');
  await ann.line(/^here: ann, bob\*$/);
  ann.send('hello there');
  await bob.line(/^ann: hello there$/);
  ann.send('/dm bob psst');
  await bob.line(/^dm from ann: psst$/);
  ann.send('/kick bob');
  await bob.line(/^kicked$/);
  assert.equal(await bob.exit, 0);
  // bob left: ann's presence shows ann alone again
  await ann.line(/here: ann, bob\*\n(?:.*\n)*here: ann$/);
});
