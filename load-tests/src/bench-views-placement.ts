/**
 * Where should per-user views be projected in cluster mode (issue 19)? A microbenchmark over the
 * real code, in one process, so both placements are costed with the same functions the servers run:
 *
 *  (a) gateway: the replica sends each gateway the whole-doc delta (one LinkFrame, encoded once,
 *      the same bytes to every link); each gateway decodes it and projects it once per view
 *      (`View.projectPatch` against the state before it, + the patch text), then encodes one client
 *      frame per view. This is what runs today (gateway/src/local-fanout.ts).
 *  (b) replica per view group: the replica projects once per view and sends each gateway one
 *      stream per view (one LinkFrame per view that changed); each gateway decodes those and
 *      encodes one client frame per view.
 *
 * MEASURED here (ns per write, median of ROUNDS timing rounds, after a warm-up): projection of one
 * write for one view (averaged over the views), the client-frame encode for one view
 * (`encodeServerJson` of the projected delta, what `Delta.jsonFrame` runs), the LinkFrame encode
 * (`Delta.linkFrame`) and decode (`LinkFrameReader` + `deltaFromLink`) of the whole delta and of a
 * projected one, and the LinkFrame bytes of each. MODELLED (arithmetic on those numbers, printed
 * beside them): the totals for G gateways × V views, assuming every gateway has readers in every
 * view and one write changes every view (the views phase's writes); syscalls, the kernel's and
 * the network's cost per link byte, and memory are not in the CPU figures (link bytes are shown
 * separately). Things that cost the same in both placements (applying the projected patch to each
 * view's state, the per-socket sends) are left out of both; applying the whole delta to the doc's
 * state is counted at each gateway in (a) only (the replica does it in both).
 *
 * The doc: `board` (PUBLIC_FIELDS public members) and `teams/<t>` private to `claim:team=<t>`
 * (V − 1 teams of TEAM_FIELDS members, plus the spectators' view); each write sets the public
 * `t`, `n` and one board member, and one team's `score` (the bench's write shape).
 * Run: `node load-tests/dist/src/bench-views-placement.js` (also printed by the bench's
 * views phase); under `flock /tmp/replicant-load.lock` like every benchmark.
 */
import { pathToFileURL } from 'node:url';
import { applyMergePatch, ViewRules, type JsonObject, type View } from '@replicant/protocol';
import { Delta, deltaFromLink, LinkFrameReader } from '@replicant/fanout';
import { fmt, median, round, table } from './report.js';

const PUBLIC_FIELDS = 20;
const TEAM_FIELDS = 10;
const PATCHES = 256;
const ROUNDS = 5;
/** calls per timing round (a few seconds in all) */
const ITERATIONS = 20000;
const DOC = 'game:placement';

export interface PlacementCosts {
  views: number;
  /** ns per write */
  projectPerView: number;
  encodeClientPerView: number;
  linkEncodeWhole: number;
  linkDecodeWhole: number;
  linkEncodePerView: number;
  linkDecodePerView: number;
  /** applying the whole delta to the doc's state: (a) at every gateway (it projects against it); (b) the replica alone */
  applyWhole: number;
  /** LinkFrame bytes per write */
  linkBytesWhole: number;
  linkBytesPerView: number;
}

function setup(views: number): { state: JsonObject; vs: View[]; patches: JsonObject[] } {
  const teams = Array.from({ length: views - 1 }, (_, k) => `t${k}`);
  const rules = ViewRules.parse({ views: [{ docs: DOC, private: Object.fromEntries(teams.map((t) => [`/teams/${t}`, `claim:team=${t}`])) }] });
  const dv = rules.forDoc(DOC)!;
  const vs = [...teams.map((t, k) => dv.viewFor({ sub: `u${k}`, claims: { team: t } })), dv.viewFor({ sub: 'spectator' })];
  if (new Set(vs.map((v) => v.key)).size !== views) throw new Error('views are not distinct');
  const board: JsonObject = {};
  for (let i = 0; i < PUBLIC_FIELDS; i++) board[`f${i}`] = i % 2 === 0 ? i * 1000 : `value-${i}`;
  const teamObj: JsonObject = {};
  for (const t of teams) {
    const o: JsonObject = {};
    for (let i = 0; i < TEAM_FIELDS; i++) o[`m${i}`] = i % 2 === 0 ? i : `secret-${t}-${i}`;
    teamObj[t] = o;
  }
  const state: JsonObject = { t: 0, n: 0, board, teams: teamObj };
  const patches: JsonObject[] = [];
  for (let n = 0; n < PATCHES; n++) {
    patches.push({ t: 1765000000000 + n, n, board: { [`f${n % PUBLIC_FIELDS}`]: n }, teams: { [teams[n % teams.length]]: { score: n } } });
  }
  return { state, vs, patches };
}

/** ns per call of fn(i) (i over the patches), median of ROUNDS rounds of `iters` calls after a warm-up round */
function nsPer(iters: number, fn: (i: number) => unknown): number {
  let sink = 0;
  const once = (): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) if (fn(i % PATCHES) === undefined) sink++;
    return Number(process.hrtime.bigint() - t0) / iters;
  };
  once();
  const r: number[] = [];
  for (let k = 0; k < ROUNDS; k++) r.push(once());
  if (sink < 0) throw new Error('unreachable');
  return median(r);
}

const delta = (text: string, obj: JsonObject, n: number): Delta => new Delta(DOC, BigInt(n + 2), BigInt(n + 1), text, obj, 1765000000000 + n);

function decodeLink(buf: Buffer): Delta {
  const frames = new LinkFrameReader().push(buf);
  return deltaFromLink(frames[0].delta!);
}

export function measurePlacement(views: number): PlacementCosts {
  const { state, vs, patches } = setup(views);
  // the same in --quick: fewer iterations left the JIT cold (a --quick run showed projection at 2.4 µs, not 1.0)
  const iters = ITERATIONS;
  const texts = patches.map((p) => JSON.stringify(p));
  // each view's projected patches (texts), computed once for the encode and link measurements
  const proj = vs.map((v) => patches.map((p) => v.projectPatch(p, state)));
  const projTexts = proj.map((ps) => ps.map((p) => JSON.stringify(p)));
  for (const ps of proj) for (const p of ps) if (Object.keys(p).length === 0) throw new Error('a write left a view unchanged: the model assumes every view changes');
  // projection: every view, counted per view (the gateway's onDelta loop body: project + patch text)
  const projectAll = nsPer(Math.max(1, Math.floor(iters / views)), (i) => {
    let x = 0;
    for (const v of vs) x += JSON.stringify(v.projectPatch(patches[i], state)).length;
    return x;
  });
  let vk = 0;
  const encodeClientPerView = nsPer(iters, (i) => {
    vk = (vk + 1) % views;
    return delta(projTexts[vk][i], proj[vk][i], i).jsonFrame();
  });
  const wholeLinks = patches.map((p, i) => delta(texts[i], p, i).linkFrame());
  const viewLinks = proj.map((ps, k) => ps.map((p, i) => delta(projTexts[k][i], p, i).linkFrame()));
  const linkEncodeWhole = nsPer(iters, (i) => delta(texts[i], patches[i], i).linkFrame());
  const linkDecodeWhole = nsPer(iters, (i) => decodeLink(wholeLinks[i]));
  const linkEncodePerView = nsPer(iters, (i) => {
    vk = (vk + 1) % views;
    return delta(projTexts[vk][i], proj[vk][i], i).linkFrame();
  });
  const linkDecodePerView = nsPer(iters, (i) => {
    vk = (vk + 1) % views;
    return decodeLink(viewLinks[vk][i]);
  });
  const applyWhole = nsPer(iters, (i) => applyMergePatch(state, patches[i]));
  const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    views,
    projectPerView: round(projectAll / views, 0),
    encodeClientPerView: round(encodeClientPerView, 0),
    linkEncodeWhole: round(linkEncodeWhole, 0),
    linkDecodeWhole: round(linkDecodeWhole, 0),
    linkEncodePerView: round(linkEncodePerView, 0),
    linkDecodePerView: round(linkDecodePerView, 0),
    applyWhole: round(applyWhole, 0),
    linkBytesWhole: round(avg(wholeLinks.map((b) => b.length)), 1),
    linkBytesPerView: round(avg(viewLinks.flat().map((b) => b.length)), 1),
  };
}

export interface PlacementTotals {
  gateways: number;
  views: number;
  /** µs of CPU per write */
  gatewayA: number;
  gatewayB: number;
  replicaA: number;
  replicaB: number;
  clusterA: number;
  clusterB: number;
  /** link bytes per write, per gateway */
  linkBytesA: number;
  linkBytesB: number;
}

/** the modelled totals (every gateway reads every view; every view changes) */
export function placementTotals(c: PlacementCosts, gateways: number): PlacementTotals {
  const V = c.views;
  const gatewayA = c.linkDecodeWhole + c.applyWhole + V * (c.projectPerView + c.encodeClientPerView);
  const gatewayB = V * (c.linkDecodePerView + c.encodeClientPerView);
  const replicaA = c.linkEncodeWhole;
  const replicaB = V * (c.projectPerView + c.linkEncodePerView);
  // each figure rounded on its own: the cluster totals agree with the parts to 10 × 0.005 µs
  const us = (ns: number): number => round(ns / 1000, 2);
  return {
    gateways,
    views: V,
    gatewayA: us(gatewayA),
    gatewayB: us(gatewayB),
    replicaA: us(replicaA),
    replicaB: us(replicaB),
    clusterA: us(replicaA + gateways * gatewayA),
    clusterB: us(replicaB + gateways * gatewayB),
    linkBytesA: round(c.linkBytesWhole, 0),
    linkBytesB: round(V * c.linkBytesPerView, 0),
  };
}

export function placementReport(costs: PlacementCosts[], gateways: number): string {
  const out = [
    `Projection placement (microbenchmark over protocol views.ts, the client and link encoders; node ${process.version}): measured ns per write`,
    table([
      ['views', 'project, per view', 'client encode, per view', 'link enc whole', 'link dec whole', 'apply whole', 'link enc per view', 'link dec per view', 'link B whole', 'link B per view'],
      ...costs.map((c) => [
        String(c.views),
        fmt(c.projectPerView, 0),
        fmt(c.encodeClientPerView, 0),
        fmt(c.linkEncodeWhole, 0),
        fmt(c.linkDecodeWhole, 0),
        fmt(c.applyWhole, 0),
        fmt(c.linkEncodePerView, 0),
        fmt(c.linkDecodePerView, 0),
        fmt(c.linkBytesWhole, 1),
        fmt(c.linkBytesPerView, 1),
      ]),
    ]),
    `Modelled per write, ${gateways} gateways, every gateway reading every view, every view changed: (a) projection at each gateway, (b) at the replica, one stream per view`,
    table([
      ['views', 'gateway µs (a)/(b)', 'replica µs (a)/(b)', `cluster µs, ${gateways} gw (a)/(b)`, 'link B per gateway (a)/(b)', `replica egress B (a)/(b)`],
      ...costs.map((c) => {
        const t = placementTotals(c, gateways);
        return [
          String(c.views),
          `${fmt(t.gatewayA)}/${fmt(t.gatewayB)}`,
          `${fmt(t.replicaA)}/${fmt(t.replicaB)}`,
          `${fmt(t.clusterA)}/${fmt(t.clusterB)}`,
          `${t.linkBytesA}/${t.linkBytesB}`,
          `${t.linkBytesA * gateways}/${t.linkBytesB * gateways}`,
        ];
      }),
    ]),
  ];
  return out.join('\n');
}

export const PLACEMENT_VIEWS = [5, 64] as const;
export const PLACEMENT_GATEWAYS = 10;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const costs = PLACEMENT_VIEWS.map((v) => measurePlacement(v));
  process.stdout.write(`${placementReport(costs, PLACEMENT_GATEWAYS)}\n`);
  process.stdout.write(`PLACEMENT_JSON ${JSON.stringify({ costs, totals: costs.map((c) => placementTotals(c, PLACEMENT_GATEWAYS)) })}\n`);
}
