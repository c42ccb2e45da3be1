/**
 * Linux /proc readings for a server under test: CPU time (utime + stime, in clock ticks) and
 * resident memory, each summed over the process and its descendants (a server that forks workers is
 * measured whole); the machine's busy time, every process's ticks (who else is busy), and the one
 * wait for a quiet machine before a measured phase.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck: number | undefined;
/** clock ticks per second (`getconf CLK_TCK`, normally 100) */
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

interface StatFields {
  ppid: number;
  ticks: number;
}

/** Fields of /proc/<pid>/stat after the `(comm)` (which may contain spaces and parentheses). */
function readStat(pid: number): StatFields | undefined {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** pid and all its descendants */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st === undefined) continue;
    const list = children.get(st.ppid);
    if (list === undefined) children.set(st.ppid, [Number(name)]);
    else list.push(Number(name));
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return out;
}

/** CPU seconds (user + system) consumed so far by pid and its descendants */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) ticks += readStat(p)?.ticks ?? 0;
  return ticks / clockTicks();
}

/** VmRSS in bytes of pid and its descendants */
export function rssBytes(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m !== null) total += Number(m[1]) * 1024;
    } catch {
      // exited
    }
  }
  return total;
}

/** CPU seconds the whole machine spent busy so far (all cores; /proc/stat minus idle and iowait) */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    // cpu user nice system idle iowait irq softirq steal guest guest_nice
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    return busy / clockTicks();
  } catch {
    return NaN;
  }
}

export interface ProcTicks {
  comm: string;
  ticks: number;
}

/**
 * CPU ticks and command name of every process on the box: utime + stime (threads summed in) plus
 * cutime + cstime, so a short-lived process that exits inside a window still shows up, in its
 * parent (a test runner, npm, a shell), once it has been reaped
 */
export function allProcessTicks(): Map<number, ProcTicks> {
  const out = new Map<number, ProcTicks>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = readFileSync(`/proc/${name}/stat`, 'utf8');
      const open = st.indexOf('(');
      const close = st.lastIndexOf(')');
      const f = st.slice(close + 2).split(' ');
      out.set(Number(name), { comm: st.slice(open + 1, close), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** the busiest processes outside this process's tree between two snapshots (who "the rest of the machine" is) */
export function topOthers(before: Map<number, ProcTicks>, after: Map<number, ProcTicks>, seconds: number, top = 5): { pid: number; comm: string; cores: number }[] {
  const ours = new Set(processTree(process.pid));
  const rows: { pid: number; comm: string; cores: number }[] = [];
  for (const [pid, a] of after) {
    if (ours.has(pid)) continue;
    const d = a.ticks - (before.get(pid)?.ticks ?? 0);
    if (d > 0) rows.push({ pid, comm: a.comm, cores: Math.round((d / clockTicks() / seconds) * 1000) / 1000 });
  }
  return rows.sort((x, y) => y.cores - x.cores).slice(0, top);
}

/** below this many cores busy the machine counts as quiet */
export const QUIET_CORES = 0.25;

/**
 * On a shared box: wait (at most `maxS` seconds, 0 = don't) until the machine is nearly idle before
 * a measured phase. Resolves with the cores busy in the last 1 s probe (NaN when not probed); says
 * so on stderr when it gives up.
 */
export async function waitQuiet(maxS: number, label: string): Promise<number> {
  let busy = NaN;
  if (maxS <= 0) return busy;
  const until = Date.now() + maxS * 1000;
  while (Date.now() < until) {
    const b0 = machineBusySeconds();
    await new Promise((r) => setTimeout(r, 1000));
    busy = machineBusySeconds() - b0;
    if (busy < QUIET_CORES) return busy;
  }
  process.stderr.write(`[${label}] machine still busy (${busy.toFixed(2)} cores) after ${maxS} s: measuring anyway\n`);
  return busy;
}
