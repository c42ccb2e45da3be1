/**
 * `replicant <mode>` as a child process, started the one way for the cli tests (cli/test/harness.ts)
 * and the benchmarks (load-tests): `node <cli> <mode>` through `watch`, on 127.0.0.1, resolved with
 * its main port once it printed its ready line. Whose build runs is the caller's (`cli`: the cli
 * package's own dist, or REPLICANT_CLI for a benchmark of another commit).
 */
import { watch, type Watched } from './process.js';

/** the line every replicant mode prints once it listens; group 1 is the main port */
export const READY_LINE = /\bready on (?:https?:\/\/)?127\.0\.0\.1:(\d+)/;

export interface ReplicantSpec {
  /** path of cli/dist/src/main.js (the build to run) */
  cli: string;
  mode: string;
  /** on top of this process's environment, after `scrub`; PORT defaults to 0 and HOST to 127.0.0.1 */
  env?: Record<string, string>;
  /** variables of this process's environment the child must not inherit */
  scrub?: readonly string[];
  /** for messages (default `replicant <mode>`) */
  name?: string;
  cwd?: string;
  outputLimit?: number;
}

export interface ReplicantProcess extends Watched {
  /** the main port, once the ready line is printed; rejects if the process exits first */
  readonly ready: Promise<number>;
}

/** Starts `replicant <mode>` without waiting for it to be ready. */
export function spawnReplicant(spec: ReplicantSpec): ReplicantProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of spec.scrub ?? []) delete env[k];
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1' }, spec.env);
  const w = watch({ name: spec.name ?? `replicant ${spec.mode}`, bin: process.execPath, args: [spec.cli, spec.mode], env, cwd: spec.cwd, outputLimit: spec.outputLimit });
  const ready = w.waitFor(READY_LINE).then((m) => Number(m[1]));
  ready.catch(() => {}); // observed by whoever awaits it
  return Object.assign(w, { ready });
}

/** Starts `replicant <mode>` and resolves once it is ready (SIGKILLed and rejected after `timeoutMs`). */
export async function startReplicant(spec: ReplicantSpec, timeoutMs = 60_000): Promise<ReplicantProcess & { port: number }> {
  const p = spawnReplicant(spec);
  let timer: NodeJS.Timeout | undefined;
  try {
    const port = await Promise.race([
      p.ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${p.name} not ready after ${timeoutMs} ms:\n${p.output().trim()}`)), timeoutMs);
      }),
    ]);
    return Object.assign(p, { port });
  } catch (err) {
    await p.stop('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
