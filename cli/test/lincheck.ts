/**
 * The linearizability checker under test: tools/lincheck (Porcupine, built once and cached by
 * scripts/install-go-tool.sh lincheck) fed a history as JSON on stdin; its JSON verdict.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;

export interface HistoryOp {
  client: number;
  doc: string;
  op: 'get' | 'post' | 'cas';
  patch?: Record<string, unknown>;
  ifSeq?: string;
  call: number;
  return?: number;
  status: 'ok' | 'conflict' | 'unknown';
  seq?: string;
  state?: Record<string, unknown>;
  /** for the report only */
  origin?: string;
}

export interface Verdict {
  result: 'linearizable' | 'not_linearizable' | 'unknown';
  ops: number;
  docs: number;
  illegalDocs?: string[];
}

let lincheckBin: string | undefined;
/** Porcupine's verdict on a history (tools/lincheck) */
export function lincheck(ops: HistoryOp[]): Verdict {
  return runLincheck({ timeoutMs: 60_000, ops }).verdict!;
}

/** the raw run: exit code, verdict (when it printed one) and stderr */
export function runLincheck(input: unknown): { status: number | null; verdict?: Verdict; stderr: string } {
  lincheckBin ??= execFileSync('bash', [join(ROOT, 'scripts', 'install-go-tool.sh'), 'lincheck'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const r = spawnSync(lincheckBin, [], { input: typeof input === 'string' ? input : JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status === 2) return { status: r.status, stderr: r.stderr };
  assert.ok(r.status === 0 || r.status === 1 || r.status === 3, `lincheck exit ${r.status}: ${r.stderr}`);
  return { status: r.status, verdict: JSON.parse(r.stdout) as Verdict, stderr: r.stderr };
}

