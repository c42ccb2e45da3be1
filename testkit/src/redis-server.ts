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
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, halt as haltProcess, launch as launchProcess, ownDir, PortInUseError, releaseDir } from './process.js';

export { freePort } from './process.js';

export interface RedisServerOptions {
  /** append-only file, fsynced on every write (default false: nothing is persisted) */
  persistence?: boolean;
  /** data directory (default: a fresh temporary directory, removed by close() or at process exit) */
  dir?: string;
  /** redis-server binary (default $REDIS_SERVER_BIN or `redis-server` on PATH) */
  bin?: string;
  /** how long to wait for "Ready to accept connections" (default 10 000 ms) */
  startTimeoutMs?: number;
  /** serve TLS only (`rediss://`), with this certificate (testkit's makeTestCertificates) */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** an ACL user with every permission; the `default` user is then off and `url` carries this user */
  user?: { name: string; password: string };
  /** a replica of the master on this port of 127.0.0.1 */
  replicaOf?: number;
  /** a Redis Cluster node (cluster-enabled, its nodes.conf in the data directory) */
  cluster?: boolean;
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>`; `rediss://` with `tls`, `<user>:<password>@` with `user` */
  readonly url: string;
  readonly port: number;
  /** the server's data directory */
  readonly dir: string;
  /** whether the process is running */
  readonly running: boolean;
  /** the redis-server process id while it runs (for /proc CPU readings) */
  readonly pid: number | undefined;
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

interface Launch {
  bin: string;
  port: number;
  dir: string;
  persistence: boolean;
  startTimeoutMs: number;
  opts: RedisServerOptions;
}

/** Spawns redis-server and resolves once it accepts connections; rejects with its output otherwise. */
function launch(l: Launch): Promise<ChildProcess> {
  const o = l.opts;
  const args = o.tls
    ? ['--port', '0', '--tls-port', String(l.port), '--tls-cert-file', o.tls.certFile, '--tls-key-file', o.tls.keyFile, '--tls-ca-cert-file', o.tls.caFile, '--tls-auth-clients', 'no']
    : ['--port', String(l.port)];
  args.push('--bind', '127.0.0.1', '--save', '', '--dir', l.dir);
  if (l.persistence) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  else args.push('--appendonly', 'no');
  if (o.user) {
    args.push('--user', 'default', 'off', '--user', o.user.name, 'on', `>${o.user.password}`, '~*', '&*', '+@all');
    // a replica logs in to its master as this user too
    args.push('--masteruser', o.user.name, '--masterauth', o.user.password);
  }
  if (o.replicaOf !== undefined) args.push('--replicaof', '127.0.0.1', String(o.replicaOf));
  if (o.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000');
  return launchProcess({
    name: `redis-server on port ${l.port}`,
    bin: l.bin,
    args,
    ready: READY,
    startTimeoutMs: l.startTimeoutMs,
    portInUse: /address already in use/i,
  });
}

/** Starts a redis-server on a free port of 127.0.0.1 and resolves once it accepts connections. */
export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const owned = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'replicant-redis-'));
  if (owned) ownDir(dir);
  const base = {
    bin: opts.bin ?? process.env.REDIS_SERVER_BIN ?? 'redis-server',
    dir,
    persistence: opts.persistence ?? false,
    startTimeoutMs: opts.startTimeoutMs ?? 10_000,
    opts,
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
      if (owned) releaseDir(dir);
      throw err;
    }
  }

  let current: ChildProcess | undefined = child;
  const halt = async (signal: NodeJS.Signals) => {
    const c = current;
    if (!c) return;
    current = undefined;
    await haltProcess(c, signal);
  };
  const server: RedisServer = {
    url: `${opts.tls ? 'rediss' : 'redis'}://${opts.user ? `${encodeURIComponent(opts.user.name)}:${encodeURIComponent(opts.user.password)}@` : ''}127.0.0.1:${port}`,
    port,
    dir,
    get running() {
      return current !== undefined;
    },
    get pid() {
      return current?.pid;
    },
    stop: () => halt('SIGTERM'),
    kill9: () => halt('SIGKILL'),
    async restart() {
      await halt('SIGTERM');
      current = await launch({ ...base, port });
    },
    async close() {
      await halt('SIGTERM');
      if (owned) releaseDir(dir);
    },
  };
  return server;
}
