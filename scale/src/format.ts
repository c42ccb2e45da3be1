/** Number and table formatting for the scale command's output (plain text, also pasted into docs/scale.md). */

/** 1234567 -> "1.23 M"; keeps three significant digits */
export function si(x: number, unit = ''): string {
  const abs = Math.abs(x);
  const u = unit ? ` ${unit}` : '';
  if (!Number.isFinite(x)) return String(x);
  if (abs < 0.005) return `0${u}`;
  if (abs >= 1e12) return `${(x / 1e12).toPrecision(3)} T${unit}`;
  if (abs >= 1e9) return `${(x / 1e9).toPrecision(3)} G${unit}`;
  if (abs >= 1e6) return `${(x / 1e6).toPrecision(3)} M${unit}`;
  if (abs >= 1e4) return `${(x / 1e3).toPrecision(3)} k${unit}`;
  if (abs >= 100 || x === Math.round(x)) return `${Math.round(x)}${u}`;
  return `${x.toPrecision(3)}${u}`;
}

export function bytes(x: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(x) : x.toPrecision(3)} ${units[i]}`;
}

export function bitsPerS(bytesPerS: number): string {
  return si(bytesPerS * 8, 'bit/s').replace(/ ([kMGT]?)bit\/s$/, ' $1bit/s');
}

/** markdown table: first row is the header; columns after the first are right-aligned */
export function mdTable(rows: string[][]): string {
  const [head, ...body] = rows;
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [line(head), `| --- | ${head.slice(1).map(() => '---:').join(' | ')} |`, ...body.map(line)].join('\n');
}
