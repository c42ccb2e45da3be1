/**
 * Servers under test as child processes, launched the one way for every target (targets.ts):
 * `replicant dev`, the bare uWS ceiling, and the peers (Centrifugo, Socket.IO, ws). The launcher
 * waits for the target's ready line, keeps draining its output, and knows its pid (for /proc CPU and
 * RSS), its subscribe endpoint and its publisher. Shared by the bench, the k6 smoke test and the
 * peer tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';
import { TARGETS, type StreamEndpoint, type TargetName } from './targets.js';
import type { Publisher } from './open-loop-writer.js';

export { REPO_ROOT, CLI_MAIN, BARE_MAIN, replicantBuilt } from './paths.js';

export type ServerKind = TargetName;

/** A free TCP port on 127.0.0.1 (bind to 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProc {
  kind: ServerKind;
  pid: number;
  port: number;
  /** the target's temporary directory (DATA_DIR, config), removed at stop */
  dataDir: string | undefined;
  /** where subscribers connect and what they speak */
  stream: StreamEndpoint;
  /** how a write reaches it */
  publisher: Publisher;
  /** subscriber credentials (Launch.tokens); undefined = open server */
  tokens?: (count: number, doc: string) => Promise<string[]>;
  child: ChildProcess;
  /** true once the process has exited */
  readonly exited: boolean;
  /** the last lines the server printed (stdout and stderr) */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; removes the temp data dir */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  port?: number;
  /** extra environment */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/** Variables that would switch `replicant dev` away from the embedded, unauthenticated setup. */
const SCRUB = ['KAFKA_BROKERS', 'REDIS_URL', 'AUTH_JWT_SECRET', 'AUTH_JWT_PUBLIC_KEY', 'AUTH_JWKS_URL', 'API_KEYS', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'ADMIN_PORT', 'NODE_ID'];

export async function startServer(kind: ServerKind, opts: StartOptions = {}): Promise<ServerProc> {
  const target = TARGETS[kind];
  target.prepare();
  const port = opts.port ?? (await freePort());
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of SCRUB) delete env[k];
  env.PORT = String(port);
  env.HOST = '127.0.0.1';
  let dataDir: string | undefined;
  if (target.needsDir) {
    dataDir = mkdtempSync(join(tmpdir(), `replicant-bench-${kind}-`));
    dataDirs.add(dataDir);
  }
  let launch;
  try {
    launch = target.launch(port, dataDir);
  } catch (err) {
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  Object.assign(env, launch.env, opts.env ?? {});
  const child = spawn(launch.command, launch.args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let exited = false;
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  // keep draining both pipes for the whole life of the server: a full pipe would block it
  const onChunk = (() => {
    let partial = '';
    return (d: Buffer): void => {
      const text = partial + d.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > 200) lines.shift();
        if (launch.ready.test(line)) readyResolve();
      }
    };
  })();
  child.stdout!.on('data', onChunk);
  child.stderr!.on('data', onChunk);
  // a command that cannot start (ENOENT, EACCES) emits 'error' and may never emit 'exit'
  child.on('error', (err) => readyReject(new Error(`${kind}: cannot start ${launch.command}: ${err.message}`)));
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = true;
      readyReject(new Error(`${kind} exited (code ${code}, signal ${signal}) before ready:\n${lines.slice(-30).join('\n')}`));
      resolve();
    });
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  const timeoutMs = opts.readyTimeoutMs ?? 30000;
  const timer = setTimeout(() => readyReject(new Error(`${kind} not ready after ${timeoutMs} ms:\n${lines.slice(-30).join('\n')}`)), timeoutMs);
  const proc: ServerProc = {
    kind,
    pid: child.pid!,
    port,
    dataDir,
    stream: launch.stream,
    publisher: launch.publisher,
    tokens: launch.tokens,
    child,
    get exited() {
      return exited;
    },
    output: () => lines.join('\n'),
    stop: async (graceMs = 10000) => {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exitPromise;
        clearTimeout(t);
      }
      if (dataDir !== undefined) {
        rmSync(dataDir, { recursive: true, force: true });
        dataDirs.delete(dataDir);
      }
    },
  };
  try {
    await ready;
  } catch (err) {
    await proc.stop(1000);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return proc;
}

// children still running when this process exits are killed
const live = new Set<ChildProcess>();
/** SIGKILLs every server this process started that is still running */
export function killAllServers(): void {
  for (const c of live) c.kill('SIGKILL');
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
}
const dataDirs = new Set<string>();
process.on('exit', killAllServers);
