/**
 * The one launcher of every long-running process the tests and benchmarks start: the test kit's
 * servers (redis-server, Kafka brokers), the `replicant` processes of cli/test/harness.ts and the
 * load-tests' servers and clusters. `watch` spawns, keeps draining the output without holding the
 * event loop, lets a caller await a line, and stops with a signal; `launch` is `watch` plus "resolve
 * once ready". Nothing outlives the test process.
 *
 * Bounds: at most `OUTPUT_TAIL` characters of a process's output are kept (or the spec's
 * `outputLimit`), for error messages and `waitFor`. A process still running when the test process
 * exits is SIGKILLed, and directories registered with `ownDir` are removed, so a failing test leaks
 * neither processes nor data.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';

/** characters of output kept per process for error messages */
export const OUTPUT_TAIL = 8192;

const children = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL'); // SIGKILL ends a SIGSTOPped process too
    for (const d of ownedDirs) rmSync(d, { recursive: true, force: true });
  });
}

/** Registers a directory for removal at process exit (removed earlier by `releaseDir`). */
export function ownDir(dir: string): void {
  installExitHook();
  ownedDirs.add(dir);
}

/** Removes a directory registered with `ownDir` now. */
export function releaseDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  ownedDirs.delete(dir);
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

/** The server could not bind its port (taken between freePort() and its bind): pick another. */
export class PortInUseError extends Error {}

export interface LaunchSpec {
  /** what the process is, for messages ("redis-server on port 1234") */
  name: string;
  bin: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** the process is ready once its output (stdout + stderr) contains this */
  ready: string | RegExp;
  startTimeoutMs: number;
  /** output meaning the port was taken (rejects with PortInUseError) */
  portInUse?: RegExp;
  /**
   * SIGKILL the process when the test process dies, whatever the cause (a runner killing it by a
   * signal skips 'exit' handlers): Linux's parent-death signal, set by util-linux `setpriv`.
   */
  dieWithParent?: boolean;
}

const SETPRIV = '/usr/bin/setpriv';

/** the command line, wrapped so that the process gets SIGKILL when its parent dies (when possible) */
export function orphanSafe(bin: string, args: string[]): [string, string[]] {
  return existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', bin, ...args]] : [bin, args];
}

export interface WatchSpec {
  /** what the process is, for messages ("replicant gateway gateway-1") */
  name: string;
  bin: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** see LaunchSpec.dieWithParent */
  dieWithParent?: boolean;
  /** characters of output kept (the tail; default OUTPUT_TAIL): what `output()` and `waitFor` see */
  outputLimit?: number;
  /** give the child a stdin pipe (`child.stdin`) instead of none, for interactive programs */
  stdin?: boolean;
}

/** A running child whose output is drained for its whole life and can be awaited. */
export interface Watched {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** true once the process has exited (or could not be started) */
  readonly exited: boolean;
  /** resolves with [code, signal] when the process has exited (or could not be started) */
  readonly exit: Promise<[number | null, NodeJS.Signals | null]>;
  /** the last `outputLimit` characters of stdout and stderr, interleaved as received */
  output(): string;
  /**
   * The first match of `pattern` in the output kept (already printed or future). Rejects with the
   * output when the process exits first or after `timeoutMs` (default: no timeout).
   */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** `signal` (default SIGTERM), SIGKILL after `graceMs`, and wait for the exit (see halt) */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Spawns a process and keeps draining both pipes for its whole life (a full pipe would block it),
 * keeping only the tail of its output. The one spawn of every long-running process the tests and
 * benchmarks start; it is killed at test-process exit like every other child of this module.
 */
export function watch(spec: WatchSpec): Watched {
  installExitHook();
  const limit = spec.outputLimit ?? OUTPUT_TAIL;
  const [bin, args] = spec.dieWithParent ? orphanSafe(spec.bin, spec.args) : [spec.bin, spec.args];
  const child = spawn(bin, args, { stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: spec.env ?? process.env, cwd: spec.cwd });
  children.add(child);
  let out = '';
  let ended: string | undefined; // why no future output will come
  let exited = false;
  let waiters: { re: RegExp; resolve(m: RegExpExecArray): void; reject(e: Error): void }[] = [];
  const check = (): void => {
    if (waiters.length === 0) return;
    waiters = waiters.filter((w) => {
      const m = w.re.exec(out);
      if (m) w.resolve(m);
      return !m;
    });
  };
  const onData = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    if (out.length > limit) out = out.slice(-limit);
    check();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const failure = (re: RegExp): Error =>
    new Error(ended!.startsWith('could not') ? `${spec.name} ${ended}` : `${spec.name} ${ended} before printing ${re}:\n${out.trim()}`);
  const end = (why: string): void => {
    ended ??= why;
    for (const w of waiters) w.reject(failure(w.re));
    waiters = [];
  };
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    // a command that cannot start (ENOENT, EACCES) emits 'error' and may never emit 'exit'
    child.once('error', (err) => {
      if (child.pid !== undefined) return;
      exited = true;
      children.delete(child);
      end(`could not be started (${spec.bin}): ${err.message}`);
      resolve([null, null]);
    });
    child.once('exit', (code, signal) => {
      exited = true;
      children.delete(child);
      end(`exited (${signal ?? code})`);
      resolve([code, signal]);
    });
  });
  return {
    name: spec.name,
    child,
    pid: child.pid ?? 0,
    get exited() {
      return exited;
    },
    exit,
    output: () => out,
    waitFor(pattern, timeoutMs) {
      const re = typeof pattern === 'string' ? new RegExp(escapeRe(pattern)) : pattern;
      const m = re.exec(out);
      if (m) return Promise.resolve(m);
      if (ended !== undefined) return Promise.reject(failure(re));
      return new Promise((resolve, reject) => {
        const timer =
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                waiters = waiters.filter((w) => w !== waiter);
                reject(new Error(`${spec.name} did not print ${re} within ${timeoutMs} ms:\n${out.trim()}`));
              }, timeoutMs);
        const waiter = {
          re,
          resolve: (x: RegExpExecArray) => {
            clearTimeout(timer);
            resolve(x);
          },
          reject: (e: Error) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        waiters.push(waiter);
      });
    },
    stop: (signal = 'SIGTERM', graceMs) => (exited ? Promise.resolve() : halt(child, signal, graceMs)),
  };
}

/** Spawns a server process and resolves once it printed its ready line; rejects with its output otherwise. */
export async function launch(spec: LaunchSpec): Promise<ChildProcess> {
  const w = watch(spec);
  try {
    await w.waitFor(spec.ready, spec.startTimeoutMs);
  } catch (err) {
    await w.stop('SIGKILL');
    throw spec.portInUse?.test(w.output()) ? new PortInUseError((err as Error).message) : err;
  }
  // the pipes stay drained, but neither the child nor its pipes hold the test process's event loop
  w.child.unref();
  for (const s of [w.child.stdout, w.child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  return w.child;
}

/** Runs a command to completion (e.g. a storage formatter); rejects with its output on failure. */
export function run(name: string, bin: string, args: string[], timeoutMs: number): Promise<string> {
  installExitHook();
  return new Promise((resolve, reject) => {
    const child = spawn(...orphanSafe(bin, args), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    const onData = (chunk: Buffer) => (out = (out + chunk.toString('utf8')).slice(-OUTPUT_TAIL));
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${name} could not be started (${bin}): ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${name} failed (${signal ?? code}):\n${out.trim()}`));
    });
  });
}

export function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Stops a process with `signal` and waits for its exit. A graceful signal is followed by SIGKILL
 * after `graceMs`, so a test never hangs on a shutdown.
 */
export async function halt(child: ChildProcess, signal: NodeJS.Signals, graceMs = 5_000): Promise<void> {
  child.ref(); // an unref'd child would let the event loop end before its exit is seen
  const exited = waitExit(child);
  child.kill('SIGCONT'); // a stopped process handles no signal but SIGKILL
  child.kill(signal);
  if (signal !== 'SIGKILL') {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  } else {
    await exited;
  }
}
