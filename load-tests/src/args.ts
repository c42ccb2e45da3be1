/** Command-line flags of the benchmarks: `--flag value` or `--flag=value`. */
export interface Args {
  has(flag: string): boolean;
  val(flag: string): string | undefined;
  /** a positive number, `def` when the flag is absent; a clear error otherwise */
  num(flag: string, def: number): number;
}

export function readArgs(argv: string[]): Args {
  const val = (f: string): string | undefined => {
    const i = argv.findIndex((a) => a === f || a.startsWith(`${f}=`));
    if (i < 0) return undefined;
    return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
  };
  return {
    has: (f) => argv.includes(f),
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
