/**
 * The benches' small shared pieces of reporting: progress lines on stderr (stdout carries only the
 * tables and the `BENCH_JSON` line), rounding, number formats, a plain-text table, a median and the host line.
 */
import * as os from 'node:os';
import { clockTicks } from './procfs.js';

/** a progress line (stderr) */
export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

export const round = (x: number, d = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** an integer with thousands separators, `n/a` when not a number */
export const fmtInt = (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');

/** `d` decimals, `n/a` when not a number */
export const fmt = (x: number | undefined, d = 2): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** rows of cells as aligned columns: the first left-aligned, the others right-aligned */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ')).join('\n');
}

/** the median of the finite values, NaN when there is none */
export function median(xs: number[]): number {
  const a = xs.filter((x) => Number.isFinite(x)).sort((p, q) => p - q);
  if (a.length === 0) return NaN;
  const m = Math.floor(a.length / 2);
  return a.length % 2 === 1 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/** the machine a result was measured on, for the BENCH_JSON line */
export function hostInfo(): { cores: number; cpu: string; node: string; clkTck: number } {
  const cpus = os.cpus();
  return { cores: cpus.length, cpu: cpus[0]?.model ?? '', node: process.version, clkTck: clockTicks() };
}
