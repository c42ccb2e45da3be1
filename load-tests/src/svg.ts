/**
 * SVG charts of the bench's results (`npm run bench -- --svg <dir>`), drawn as hand-built strings:
 * bar charts need only rects, text and a scale, so no chart library (and no DOM) is pulled into the
 * load tests. Every label is XML-escaped; a missing or non-finite value is drawn as "n/a".
 *
 * Files: peer-table.svg (one panel per column of the fan-out table: delivered/s, CPU-s per million
 * deliveries, p99 latency, bytes per delivery, RSS per idle connection), hot-doc.svg (per write
 * rate: Replicant against bare uWS), latency.svg (fan-out latency p50/p90/p99/max per target; the
 * results keep percentiles, not bucket counts, so the distribution is drawn by its quantiles),
 * views.svg when the per-user views phase ran (each run's CPU per delivery, encodes per write and
 * bytes per delivery; the placement model's cluster CPU and link bytes per write).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const ok = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const num = (x: number): string => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(Math.abs(x) >= 10 ? 1 : 2));
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];

export interface Bar {
  label: string;
  value: number | undefined;
}

/** one panel of horizontal bars at (x, y), `w` wide; returns the SVG and its height */
function panel(x: number, y: number, w: number, title: string, bars: Bar[], unit: string): { svg: string; h: number } {
  const rowH = 22;
  const labelW = 110;
  const max = Math.max(0, ...bars.map((b) => (ok(b.value) ? b.value : 0)));
  const barW = w - labelW - 70;
  let s = `<text x="${x}" y="${y + 14}" font-weight="bold">${esc(title)}${unit ? ` (${esc(unit)})` : ''}</text>`;
  bars.forEach((b, i) => {
    const ry = y + 24 + i * rowH;
    s += `<text x="${x + labelW - 6}" y="${ry + 14}" text-anchor="end">${esc(b.label)}</text>`;
    if (ok(b.value)) {
      const bw = max > 0 ? Math.max(1, (b.value / max) * barW) : 1;
      s += `<rect x="${x + labelW}" y="${ry + 3}" width="${bw.toFixed(1)}" height="${rowH - 6}" fill="${COLORS[i % COLORS.length]}"><title>${esc(b.label)}: ${num(b.value)}</title></rect>`;
      s += `<text x="${(x + labelW + bw + 4).toFixed(1)}" y="${ry + 14}">${num(b.value)}</text>`;
    } else s += `<text x="${x + labelW + 4}" y="${ry + 14}" fill="#888">n/a</text>`;
  });
  return { svg: s, h: 30 + bars.length * rowH };
}

/** a document of panels laid out in `cols` columns */
export function panels(title: string, ps: { title: string; unit: string; bars: Bar[] }[], cols = 2, panelW = 430): string {
  const drawn: string[] = [];
  let y = 34;
  let rowMax = 0;
  ps.forEach((p, i) => {
    const col = i % cols;
    if (col === 0 && i > 0) {
      y += rowMax + 16;
      rowMax = 0;
    }
    const d = panel(10 + col * panelW, y, panelW - 20, p.title, p.bars, p.unit);
    drawn.push(d.svg);
    rowMax = Math.max(rowMax, d.h);
  });
  const width = 10 + Math.min(cols, ps.length) * panelW;
  const height = y + rowMax + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="${esc(title)}">
<title>${esc(title)}</title><rect width="100%" height="100%" fill="#fff"/><text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>
${drawn.join('\n')}
</svg>
`;
}

/** the parts of BENCH_JSON the charts read */
export interface BenchJsonForSvg {
  config: { n: number; rate: number; hotN: number };
  fanout: { target: string; error?: string; deliveredPerSec?: number; cpuSPerMillion?: number; bytesPerDelivery?: number; latencyMs?: { p50: number; p90: number; p99: number; max: number } }[];
  memory: { target: string; error?: string; bytesPerConn?: number }[];
  hot: { rate: number; results: { target: string; error?: string; opsDelivered?: number; delivered?: number; windowS?: number; cpuSPerMillionOps?: number; latencyMs?: { p99: number } }[] }[];
  /** the per-user views phase (bench-views.ts), when it ran */
  views?: { runs: { mode: string; error?: string; cpuSPerMillion?: number; encodesPerWrite?: number; bytesPerDelivery?: number }[] } | null;
  viewsPlacement?: { totals: { views: number; clusterA: number; clusterB: number; linkBytesA: number; linkBytesB: number }[] } | null;
}

export function benchSvgs(j: BenchJsonForSvg): Record<string, string> {
  const fan = j.fanout.filter((f) => f.error === undefined);
  const bars = (f: (x: (typeof fan)[number]) => number | undefined): Bar[] => fan.map((x) => ({ label: x.target, value: f(x) }));
  const out: Record<string, string> = {};
  out['peer-table.svg'] = panels(`Fan-out: ${j.config.n} subscribers of one doc, ${j.config.rate} writes/s`, [
    { title: 'Delivered', unit: 'msg/s', bars: bars((x) => x.deliveredPerSec) },
    { title: 'Server CPU', unit: 'CPU-s per million deliveries', bars: bars((x) => x.cpuSPerMillion) },
    { title: 'Latency p99', unit: 'ms', bars: bars((x) => x.latencyMs?.p99) },
    { title: 'Wire bytes', unit: 'per delivery', bars: bars((x) => x.bytesPerDelivery) },
    { title: 'Memory', unit: 'RSS bytes per idle connection', bars: j.memory.filter((m) => m.error === undefined).map((m) => ({ label: m.target, value: m.bytesPerConn })) },
  ]);
  const hotPanels = j.hot.flatMap((h) => {
    const rs = h.results.filter((r) => r.error === undefined);
    return [
      { title: `${h.rate} writes/s: ops delivered`, unit: 'ops/s', bars: rs.map((r) => ({ label: r.target, value: ok(r.opsDelivered) && ok(r.windowS) && r.windowS > 0 ? r.opsDelivered / r.windowS : undefined })) },
      { title: `${h.rate} writes/s: server CPU`, unit: 'CPU-s per million ops', bars: rs.map((r) => ({ label: r.target, value: r.cpuSPerMillionOps })) },
      { title: `${h.rate} writes/s: frames per op`, unit: 'lower = more coalescing', bars: rs.map((r) => ({ label: r.target, value: ok(r.delivered) && ok(r.opsDelivered) && r.opsDelivered > 0 ? r.delivered / r.opsDelivered : undefined })) },
      { title: `${h.rate} writes/s: latency p99`, unit: 'ms', bars: rs.map((r) => ({ label: r.target, value: r.latencyMs?.p99 })) },
    ];
  });
  out['hot-doc.svg'] = panels(`Hot doc: ${j.config.hotN} subscribers of one doc`, hotPanels);
  out['latency.svg'] = panels(
    'Fan-out latency (write to receive) by quantile',
    (['p50', 'p90', 'p99', 'max'] as const).map((q) => ({ title: q, unit: 'ms', bars: bars((x) => x.latencyMs?.[q]) })),
  );
  if (j.views) {
    // runs come in [plain, views] pairs: label each with its pair
    const runs = j.views.runs.map((r, i) => ({ ...r, label: `${r.mode} #${Math.floor(i / 2) + 1}` })).filter((r) => r.error === undefined);
    const vbars = (f: (x: (typeof runs)[number]) => number | undefined): Bar[] => runs.map((x) => ({ label: x.label, value: f(x) }));
    const totals = j.viewsPlacement?.totals ?? [];
    out['views.svg'] = panels('Per-user views: 5 views vs none (pairs run side by side), and where to project in cluster mode', [
      { title: 'Server CPU', unit: 'CPU-s per million deliveries', bars: vbars((x) => x.cpuSPerMillion) },
      { title: 'Encodes', unit: 'delta frames per write', bars: vbars((x) => x.encodesPerWrite) },
      { title: 'Wire bytes', unit: 'per delivery', bars: vbars((x) => x.bytesPerDelivery) },
      {
        title: 'Cluster CPU/write, 10 gateways',
        unit: 'µs, modelled',
        bars: totals.flatMap((t) => [
          { label: `${t.views} v, gateway`, value: t.clusterA },
          { label: `${t.views} v, replica`, value: t.clusterB },
        ]),
      },
      {
        title: 'Link bytes per write per gateway (v = views)',
        unit: 'B',
        bars: totals.flatMap((t) => [
          { label: `${t.views} v, gateway`, value: t.linkBytesA },
          { label: `${t.views} v, replica`, value: t.linkBytesB },
        ]),
      },
    ]);
  }
  return out;
}

/** writes benchSvgs(j) into `dir`; returns the paths */
export function writeBenchSvgs(dir: string, j: BenchJsonForSvg): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(benchSvgs(j)).map(([name, svg]) => {
    const p = join(dir, name);
    writeFileSync(p, svg);
    return p;
  });
}
