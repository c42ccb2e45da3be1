/** Reading the Prometheus text the servers under test expose on /metrics (and their JSON /stats). */

/** GET `http://127.0.0.1:<port><path>` as text (10 s timeout); an error on a non-200 answer */
export async function getText(port: number, path: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10000) });
  if (r.status !== 200) throw new Error(`GET 127.0.0.1:${port}${path}: HTTP ${r.status}`);
  return r.text();
}

/** the sum of series `name` over the samples whose labels contain `labels` (all of them when '') */
export function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const c = line[name.length];
    if (c !== ' ' && c !== '{') continue;
    if (labels !== '' && !line.includes(labels)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}
