/**
 * Command-line flags of the benchmarks: `--flag value` or `--flag=value`, read with `node:util`
 * parseArgs. Each lookup declares only the flag it asks for (non-strict), so the benches can keep
 * asking by name without a central option list.
 */
import { parseArgs } from 'node:util';

export interface Args {
  has(flag: string): boolean;
  val(flag: string): string | undefined;
  /** a positive number, `def` when the flag is absent; a clear error otherwise */
  num(flag: string, def: number): number;
}

export function readArgs(argv: string[]): Args {
  const read = (flag: string, type: 'string' | 'boolean') => {
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
