import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../src/redis-server.js';

/** One command over a fresh connection (RESP2, inline-free); resolves with the raw first reply line. */
function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    sock.once('error', reject);
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      // a simple string/error/integer/nil reply is one line; a bulk string is "$n\r\n<data>\r\n"
      const lines = buf.split('\r\n');
      if (lines.length < 2) return;
      if (buf.startsWith('$') && !buf.startsWith('$-1') && lines.length < 3) return;
      sock.end();
      resolve(buf.startsWith('$') && !buf.startsWith('$-1') ? lines[1] : lines[0]);
    });
    sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

test('starts on a free 127.0.0.1 port, answers, stops, and restarts empty without persistence', async () => {
  const a = await startRedis();
  const b = await startRedis();
  try {
    assert.notEqual(a.port, b.port);
    assert.equal(a.url, `redis://127.0.0.1:${a.port}`);
    assert.equal(a.running, true);
    assert.equal(await redisCommand(a.port, 'PING'), '+PONG');
    assert.equal(await redisCommand(a.port, 'SET', 'k', 'v'), '+OK');
    assert.equal(await redisCommand(a.port, 'GET', 'k'), 'v');
    assert.equal(await redisCommand(b.port, 'GET', 'k'), '$-1', 'servers are independent');

    await a.stop();
    assert.equal(a.running, false);
    await assert.rejects(redisCommand(a.port, 'PING'), /ECONNREFUSED/);
    await a.stop(); // idempotent

    await a.restart();
    assert.equal(a.running, true);
    assert.equal(await redisCommand(a.port, 'PING'), '+PONG', 'same port after restart');
    assert.equal(await redisCommand(a.port, 'GET', 'k'), '$-1', 'nothing persisted');
    assert.deepEqual(await readdir(a.dir), [], 'no RDB or AOF files written');
  } finally {
    await a.close();
    await b.close();
  }
  assert.equal(existsSync(a.dir), false, 'close removes the temporary data directory');
});

test('with persistence, acknowledged writes survive restart() and kill9()', async () => {
  const r = await startRedis({ persistence: true });
  try {
    assert.equal(await redisCommand(r.port, 'SET', 'a', '1'), '+OK');
    await r.restart();
    assert.equal(await redisCommand(r.port, 'GET', 'a'), '1');
    assert.equal(await redisCommand(r.port, 'SET', 'b', '2'), '+OK');
    await r.kill9();
    assert.equal(r.running, false);
    await assert.rejects(redisCommand(r.port, 'PING'), /ECONNREFUSED/);
    await r.restart();
    assert.equal(await redisCommand(r.port, 'GET', 'a'), '1');
    assert.equal(await redisCommand(r.port, 'GET', 'b'), '2', 'appendfsync always: nothing lost to SIGKILL');
  } finally {
    await r.close();
  }
});

test('a caller-provided data directory is used and kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'replicant-redis-test-'));
  try {
    const r = await startRedis({ dir, persistence: true });
    assert.equal(r.dir, dir);
    assert.equal(await redisCommand(r.port, 'SET', 'x', 'y'), '+OK');
    await r.close();
    assert.ok((await readdir(dir)).length > 0, 'the append-only files are in the given directory');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing binary rejects with a clear error', async () => {
  await assert.rejects(startRedis({ bin: '/nonexistent/redis-server' }), /redis-server on port \d+ could not be started \(\/nonexistent\/redis-server\)/);
});

test('a server left running when the test process exits is killed and its directory removed', async () => {
  const mod = new URL('../src/redis-server.js', import.meta.url).href;
  const script = `const { startRedis } = await import(${JSON.stringify(mod)}); const r = await startRedis(); console.log(JSON.stringify({ port: r.port, dir: r.dir }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, 'the process ends on its own: the server does not hold its event loop');
  const { port, dir } = JSON.parse(out) as { port: number; dir: string };
  // SIGKILL was sent at exit; its delivery is asynchronous, so allow the kernel a moment (bounded)
  const deadline = Date.now() + 3_000;
  let refused = false;
  while (!refused && Date.now() < deadline) {
    refused = await redisCommand(port, 'PING').then(
      () => false,
      (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED',
    );
    if (!refused) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(refused, 'the orphaned server was killed');
  assert.equal(existsSync(dir), false);
});
