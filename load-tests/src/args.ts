/**
 * Command-line flags of the benchmarks: `--flag value` or `--flag=value`, read with `node:util`
 * parseArgs. Each bench declares its flags once (`known`): an undeclared flag on the command line
 * is a clear error before anything starts (a typo must not silently run a 20-minute bench with
 * defaults), `--help` prints the flags and exits, and asking for an undeclared flag in code throws.
 */
import { parseArgs } from 'node:util';

export interface Args {
  has(flag: string): boolean;
  val(flag: string): string | undefined;
  /** a positive number, `def` when the flag is absent; a clear error otherwise */
  num(flag: string, def: number): number;
}

/**
 * Reads `argv` against the bench's declared flags: throws on an undeclared one; `--help` / `-h`
 * prints the flags and exits 0 (these are command-line programs).
 */
export function readArgs(argv: string[], known: readonly string[], program = 'this bench'): Args {
  const declared = new Set(known);
  const usage = `usage: ${program} [flags]\nflags: ${[...declared].sort().join(' ')}\n(what each does: the header of the bench's source file)`;
  for (const a of argv) {
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    if (!a.startsWith('--')) continue;
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (!declared.has(name)) throw new Error(`unknown flag ${name}\n${usage}`);
  }
  const read = (flag: string, type: 'string' | 'boolean') => {
    if (!declared.has(flag)) throw new Error(`${flag} is read but not declared in this bench's flags`);
    const name = flag.replace(/^--/, '');
    return parseArgs({ args: argv, options: { [name]: { type } }, strict: false, allowPositionals: true }).values[name];
  };
  const val = (f: string): string | undefined => {
    const v = read(f, 'string');
    return typeof v === 'string' ? v : undefined;
  };
  return {
    has: (f) => read(f, 'boolean') !== undefined,
    val,
    num(f, def) {
      const v = val(f);
      if (v === undefined) return def;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${f} must be a positive number (got ${v})`);
      return n;
    },
  };
}
