/**
 * The one launcher of the test kit's server processes (redis-server, Kafka brokers): spawn, wait
 * for the line that says the server is ready, keep draining its output without holding the event
 * loop, stop it with a signal, and make sure nothing outlives the test process.
 *
 * Bounds: at most `OUTPUT_TAIL` characters of a process's output are kept (for error messages).
 * A process still running when the test process exits is SIGKILLed, and directories registered
 * with `ownDir` are removed, so a failing test leaks neither processes nor data.
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

/** Spawns a server process and resolves once it printed its ready line; rejects with its output otherwise. */
export function launch(spec: LaunchSpec): Promise<ChildProcess> {
  installExitHook();
  return new Promise((resolve, reject) => {
    const [bin, args] = spec.dieWithParent ? orphanSafe(spec.bin, spec.args) : [spec.bin, spec.args];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: spec.env ?? process.env });
    children.add(child);
    let out = '';
    let settled = false;
    const isReady = (s: string) => (typeof spec.ready === 'string' ? s.includes(spec.ready) : spec.ready.test(s));
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
      out = (out + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
      if (isReady(out)) finish();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => finish(new Error(`${spec.name} could not be started (${spec.bin}): ${err.message}`)));
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (settled) return;
      const msg = `${spec.name} exited (${signal ?? code}) before it was ready:\n${out.trim()}`;
      finish(spec.portInUse?.test(out) ? new PortInUseError(msg) : new Error(msg));
    });
    const timer = setTimeout(
      () => finish(new Error(`${spec.name} not ready after ${spec.startTimeoutMs} ms:\n${out.trim()}`)),
      spec.startTimeoutMs,
    );
  });
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
