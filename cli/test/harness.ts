/**
 * Test harness: runs the real `replicant` CLI as a child process on a free port with a temp
 * DATA_DIR, waits for its `ready` line, and offers small WebSocket/HTTP helpers.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import WebSocket from 'ws';
import { spawnReplicant } from '@replicant/testkit';

const MAIN = new URL('../src/main.js', import.meta.url).pathname;

export interface DevProcess {
  proc: ChildProcess;
  port: number;
  url: string;
  wsUrl: string;
  dataDir: string;
  output: () => string;
  /** SIGTERM and wait for exit */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit */
  kill9(): Promise<void>;
}

export function tempDir(prefix = 'replicant-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startDevProcess(opts: { dataDir: string; env?: Record<string, string> }): Promise<DevProcess> {
  return startProcess('dev', { DATA_DIR: opts.dataDir, ...opts.env }, opts.dataDir);
}

/** `replicant dev` on a fresh data dir, stopped and the dir removed when the test ends */
export async function startDevFor(t: { after(fn: () => Promise<void>): void }, env?: Record<string, string>): Promise<DevProcess> {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir, env });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  return dev;
}

/**
 * `replicant dev` on a fixed port below the kernel's ephemeral range (32768+), for tests that stop
 * the server and start it again on the same port: a port in the ephemeral range can be taken as the
 * source port of any outgoing connection on the machine while the server is down.
 */
export async function startDevOnFixedPort(opts: { dataDir: string; env?: Record<string, string> }): Promise<DevProcess> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      return await startDevProcess({ dataDir: opts.dataDir, env: { ...opts.env, PORT: String(port) } });
    } catch (err) {
      if (attempt >= 20 || !/cannot listen/.test(String(err))) throw err;
    }
  }
}

/** a `replicant <mode>` child that may not be ready (yet): its output, and a wait for patterns in it */
export interface SpawnedProcess {
  proc: ChildProcess;
  /** stdout and stderr so far, interleaved as received (the last OUTPUT_LIMIT characters) */
  output: () => string;
  /** resolves with the first match of `re` in the output (already printed or future); rejects if the process exits first */
  waitFor(re: RegExp): Promise<RegExpExecArray>;
  /** resolves with the main port once the ready line is printed */
  ready: Promise<number>;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** output kept per process: enough for every line a test waits for */
const OUTPUT_LIMIT = 1 << 20;

/** starts `replicant <mode>` with PORT=0 and the given env, without waiting for it to be ready */
export function spawnProcess(mode: string, env: Record<string, string>): SpawnedProcess {
  const p = spawnReplicant({ cli: MAIN, mode, env, outputLimit: OUTPUT_LIMIT });
  return { proc: p.child, output: p.output, waitFor: (re) => p.waitFor(re), ready: p.ready, exited: p.exit };
}

/** runs `replicant <mode>` with PORT=0 and the given env; resolves once it printed its ready line */
export async function startProcess(mode: string, env: Record<string, string>, dataDir = ''): Promise<DevProcess> {
  const sp = spawnProcess(mode, env);
  return asDevProcess(sp, await sp.ready, dataDir);
}

/** the DevProcess of a spawned process that is ready on `port` */
export function asDevProcess(sp: SpawnedProcess, port: number, dataDir = ''): DevProcess {
  const { proc, exited } = sp;
  return {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/v1/stream`,
    dataDir,
    output: sp.output,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
    async kill9() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

export async function post(base: string, doc: string, patch: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const r = await fetch(`${base}/v1/docs/${doc}`, {
    method: 'POST',
    headers: { 'content-type': 'application/merge-patch+json', ...headers },
    body: typeof patch === 'string' ? patch : JSON.stringify(patch),
  });
  const text = await r.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: r.status, body };
}

export async function getDoc(base: string, doc: string, headers: Record<string, string> = {}): Promise<{ seq: string; state: any }> {
  const r = await fetch(`${base}/v1/docs/${doc}`, { headers });
  if (r.status !== 200) throw new Error(`GET ${doc}: ${r.status} ${await r.text()}`);
  return (await r.json()) as { seq: string; state: any };
}

/** A raw JSON-subprotocol client that records every frame and lets a test await specific ones. */
export class RawClient {
  readonly frames: any[] = [];
  private waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const f = isBinary ? { binary: data } : JSON.parse(data.toString());
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(f)) return true;
        w.resolve(f);
        return false;
      });
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve((this.closeCode = code))));
  }

  static async open(url: string, protocol: string | undefined = 'replicant.v1.json'): Promise<RawClient> {
    const ws = new WebSocket(url, protocol ? [protocol] : []);
    const c = new RawClient(ws);
    await once(ws, 'open');
    return c;
  }

  send(f: unknown): void {
    this.ws.send(typeof f === 'string' ? f : JSON.stringify(f));
  }

  /** resolves with the first frame (already received or future) matching `pred` after index `from` */
  next(pred: (f: any) => boolean, from = 0): Promise<any> {
    for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i])) return Promise.resolve(this.frames[i]);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  close(): void {
    this.ws.close();
  }
}
