/**
 * Servers under test as child processes, launched the one way for every target (targets.ts):
 * `replicant dev`, the bare uWS ceiling, and the peers (Centrifugo, Socket.IO, ws). The launcher
 * waits for the target's ready line, keeps draining its output, and knows its pid (for /proc CPU and
 * RSS), its subscribe endpoint and its publisher. Shared by the bench, the k6 smoke test and the
 * peer tests.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ownDir, releaseDir, watch } from '@replicant/testkit';
import { REPO_ROOT } from './paths.js';
import { TARGETS, type StreamEndpoint, type TargetName } from './targets.js';
import type { Publisher } from './open-loop-writer.js';

export { REPO_ROOT, CLI_MAIN, BARE_MAIN, replicantBuilt } from './paths.js';
export { freePort } from '@replicant/testkit';

export type ServerKind = TargetName;

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
  /** user connections' credentials and the per-user message publisher (Launch; messages phase) */
  userTokens?: (subs: string[]) => Promise<string[]>;
  messages?: (users: number) => Publisher;
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
export const SCRUB = ['KAFKA_BROKERS', 'REDIS_URL', 'AUTH_JWT_SECRET', 'AUTH_JWT_PUBLIC_KEY', 'AUTH_JWKS_URL', 'API_KEYS', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'ADMIN_PORT', 'NODE_ID'] as const;

/** A temporary directory removed at process exit at the latest (testkit's ownDir). */
export function benchDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  ownDir(dir);
  return { dir, remove: () => releaseDir(dir) };
}

export async function startServer(kind: ServerKind, opts: StartOptions = {}): Promise<ServerProc> {
  const target = TARGETS[kind];
  target.prepare();
  const port = opts.port ?? (await freePort());
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of SCRUB) delete env[k];
  env.PORT = String(port);
  env.HOST = '127.0.0.1';
  const tmp = target.needsDir ? benchDir(`replicant-bench-${kind}-`) : undefined;
  let launch;
  try {
    launch = target.launch(port, tmp?.dir);
  } catch (err) {
    tmp?.remove();
    throw err;
  }
  Object.assign(env, launch.env, opts.env ?? {});
  const w = watch({ name: kind, bin: launch.command, args: launch.args, env, cwd: REPO_ROOT });
  const proc: ServerProc = {
    kind,
    pid: w.pid,
    port,
    dataDir: tmp?.dir,
    stream: launch.stream,
    publisher: launch.publisher,
    tokens: launch.tokens,
    userTokens: launch.userTokens,
    messages: launch.messages,
    child: w.child,
    get exited() {
      return w.exited;
    },
    output: w.output,
    stop: async (graceMs = 10000) => {
      await w.stop('SIGTERM', graceMs);
      tmp?.remove();
    },
  };
  try {
    await w.waitFor(launch.ready, opts.readyTimeoutMs ?? 30000);
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
  return proc;
}
