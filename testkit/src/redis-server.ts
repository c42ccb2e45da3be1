/**
 * Throwaway redis-server instances for tests: each on its own free port on 127.0.0.1 with its own
 * data directory, started and stopped by the test (the system service is never used).
 *
 * Without `persistence` the server keeps nothing on disk (`--save "" --appendonly no`), so a restart
 * starts empty. With `persistence` every write is appended and fsynced before it is answered
 * (`--appendonly yes --appendfsync always`), so data survives `restart()` and even `kill9()`.
 *
 * A server still running when the test process exits is killed (SIGKILL) and the data directories
 * this module created are removed, so a failing test leaks nothing.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** append-only file, fsynced on every write (default false: nothing is persisted) */
  persistence?: boolean;
  /** data directory (default: a fresh temporary directory, removed by close() or at process exit) */
  dir?: string;
  /** redis-server binary (default $REDIS_SERVER_BIN or `redis-server` on PATH) */
  bin?: string;
  /** how long to wait for "Ready to accept connections" (default 10 000 ms) */
  startTimeoutMs?: number;
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** the server's data directory */
  readonly dir: string;
  /** whether the process is running */
  readonly running: boolean;
  /** SIGTERM and wait for the exit; the port and the data directory are kept for restart() */
  stop(): Promise<void>;
  /** stops the server if it runs, then starts it again on the same port with the same data directory */
  restart(): Promise<void>;
  /** SIGKILL (a crash: no shutdown work) and wait for the exit; restart() brings it back */
  kill9(): Promise<void>;
  /** stop() and remove the data directory if this module created it */
  close(): Promise<void>;
}

const READY = 'Ready to accept connections';
const PORT_ATTEMPTS = 5;

const children = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of ownedDirs) rmSync(d, { recursive: true, force: true });
  });
}

/** A port that was free a moment ago (listen on 0, read it, close). The caller retries on a race. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

class PortInUseError extends Error {}

interface Launch {
  bin: string;
  port: number;
  dir: string;
  persistence: boolean;
  startTimeoutMs: number;
}

/** Spawns redis-server and resolves once it accepts connections; rejects with its output otherwise. */
function launch(l: Launch): Promise<ChildProcess> {
  const args = ['--port', String(l.port), '--bind', '127.0.0.1', '--save', '', '--dir', l.dir];
  if (l.persistence) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  else args.push('--appendonly', 'no');
  return new Promise((resolve, reject) => {
    const child = spawn(l.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
        return;
      }
      // keep draining the pipes (a full pipe would block the server) without keeping the test
      // process alive: the child and its pipes no longer hold the event loop
      out = '';
      child.unref();
      for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
      resolve(child);
    };
    const onData = (chunk: Buffer) => {
      if (settled) return;
      out = (out + chunk.toString('utf8')).slice(-8192);
      if (out.includes(READY)) finish();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => finish(new Error(`redis-server could not be started (${l.bin}): ${err.message}`)));
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (settled) return;
      const msg = `redis-server on port ${l.port} exited (${signal ?? code}) before it was ready:\n${out.trim()}`;
      finish(/address already in use/i.test(out) ? new PortInUseError(msg) : new Error(msg));
    });
    const timer = setTimeout(
      () => finish(new Error(`redis-server on port ${l.port} not ready after ${l.startTimeoutMs} ms:\n${out.trim()}`)),
      l.startTimeoutMs,
    );
  });
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a redis-server on a free port of 127.0.0.1 and resolves once it accepts connections. */
export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  installExitHook();
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'replicant-redis-'));
  if (ownDir) ownedDirs.add(dir);
  const base = {
    bin: opts.bin ?? process.env.REDIS_SERVER_BIN ?? 'redis-server',
    dir,
    persistence: opts.persistence ?? false,
    startTimeoutMs: opts.startTimeoutMs ?? 10_000,
  };
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      child = await launch({ ...base, port });
      break;
    } catch (err) {
      // another process took the port between freePort() and redis-server's bind: pick another
      if (err instanceof PortInUseError && attempt < PORT_ATTEMPTS) continue;
      if (ownDir) {
        rmSync(dir, { recursive: true, force: true });
        ownedDirs.delete(dir);
      }
      throw err;
    }
  }

  let current: ChildProcess | undefined = child;
  const halt = async (signal: NodeJS.Signals) => {
    const c = current;
    if (!c) return;
    current = undefined;
    c.ref(); // an unref'd child would let the event loop end before its exit is seen
    const exited = waitExit(c);
    c.kill(signal);
    if (signal !== 'SIGKILL') {
      // a clean shutdown takes milliseconds; never hang a test on it
      const t = setTimeout(() => c.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    } else {
      await exited;
    }
  };
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get running() {
      return current !== undefined;
    },
    stop: () => halt('SIGTERM'),
    kill9: () => halt('SIGKILL'),
    async restart() {
      await halt('SIGTERM');
      current = await launch({ ...base, port });
    },
    async close() {
      await halt('SIGTERM');
      if (ownDir) {
        rmSync(dir, { recursive: true, force: true });
        ownedDirs.delete(dir);
      }
    },
  };
  return server;
}
