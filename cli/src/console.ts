/**
 * The console (docs/operations.md "The console"): `/console/` on every role's admin port and on
 * `replicant dev`'s port. Static parts (the page, its Preact + uPlot bundle built by
 * scripts/bundle-console.mjs, the browser SDK) are public; the data endpoints under /console/api/
 * take an API key when client auth is on (401 without one, 403 with a JWT) and are open otherwise.
 *
 *   GET  /console/api/nodes                  nodes (node directory) with health, last stats and charts
 *   GET  /console/api/doc?id=                origin's state + recent ops (history), subscribers per gateway
 *   GET  /console/api/connections?sub=&limit=&after=   the server API's GET /v1/connections
 *   POST /console/api/disconnect?sub=        the server API's POST /v1/users/{sub}/disconnect
 *
 * No cost when nobody looks: the sampler (every CONSOLE_SAMPLE_MS, one /stats + /readyz request per
 * node) starts on the first data request and stops CONSOLE_IDLE_MS after the last one; nothing is
 * done per connection or per message for the console.
 * Bounds: one ring of CONSOLE_RING_POINTS samples per node (5 Float64Arrays: 7.2 KB), at most
 * MAX_LISTED_NODES nodes; rings of nodes that left the directory are dropped at the next sample.
 * Probes time out after PROBE_TIMEOUT_MS; proxied answers are read whole (origin bounds them).
 */
import { readFileSync } from 'node:fs';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { AuthError, FULL_ACCESS, type HttpAuthenticator } from '@replicant/auth';
import { answerJson, errorBody, ErrorCode, type HttpExchange } from '@replicant/protocol';
import type { NodeInfo } from '@replicant/stream';

export const CONSOLE_SAMPLE_MS = 5000;
/** 15 minutes at CONSOLE_SAMPLE_MS */
export const CONSOLE_RING_POINTS = 180;
export const CONSOLE_IDLE_MS = 60_000;
const PROBE_TIMEOUT_MS = 2000;
/** ops the inspector shows */
const RECENT_OPS = 20;

/** what a node's /stats says, normalized across roles */
export interface NodeSample {
  connections: number;
  docs: number;
  /** cumulative messages handed to sockets (gateways) */
  deliveries: number;
  /** log records behind (fanout replicas) */
  lag: number;
}

export interface ConsoleSource {
  /** the cluster's nodes (the node directory; dev: itself) */
  nodes(): Promise<NodeInfo[]>;
  /** this process's own node id and in-process stats (no HTTP to itself) */
  self?: { id: string; stats: (doc?: string) => Promise<unknown> | unknown; ready: () => boolean };
}

export interface ConsoleOptions {
  auth: HttpAuthenticator;
  source: ConsoleSource;
  /** test seam: sampling interval (default CONSOLE_SAMPLE_MS) */
  sampleMs?: number;
}

const SERIES = ['t', 'connections', 'docs', 'deliveriesPerSec', 'lag'] as const;
type Series = (typeof SERIES)[number];

/** a bounded ring of samples of one node */
class NodeRing {
  readonly cols: Record<Series, Float64Array>;
  private head = 0;
  len = 0;
  lastDeliveries = -1;
  lastAt = 0;
  constructor(readonly cap: number) {
    this.cols = Object.fromEntries(SERIES.map((s) => [s, new Float64Array(cap)])) as Record<Series, Float64Array>;
  }
  push(v: Record<Series, number>): void {
    for (const s of SERIES) this.cols[s][this.head] = v[s];
    this.head = (this.head + 1) % this.cap;
    if (this.len < this.cap) this.len++;
  }
  /** oldest first */
  toJSON(): Record<Series, number[]> {
    const out = {} as Record<Series, number[]>;
    const start = (this.head - this.len + this.cap) % this.cap;
    for (const s of SERIES) {
      const a: number[] = new Array(this.len);
      for (let i = 0; i < this.len; i++) a[i] = this.cols[s][(start + i) % this.cap];
      out[s] = a;
    }
    return out;
  }
}

/** normalizes any role's /stats body */
export function sampleOf(stats: any): NodeSample {
  const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  if (stats?.replica !== undefined || stats?.links !== undefined) {
    // fanout: connections = gateway links
    return { connections: Array.isArray(stats.links) ? stats.links.length : 0, docs: n(stats.replica?.docs), deliveries: n(stats.deliveries), lag: n(stats.lag) };
  }
  return { connections: n(stats?.connections), docs: n(stats?.docs), deliveries: n(stats?.deliveries), lag: n(stats?.lag) };
}

interface NodeView extends NodeInfo {
  ready: boolean;
  error?: string;
  last?: NodeSample & { deliveriesPerSec: number };
}

/** samples every node while someone looks */
export class ConsoleSampler {
  private timer: NodeJS.Timeout | undefined;
  private lastLook = 0;
  private readonly rings = new Map<string, NodeRing>();
  private views: NodeView[] = [];
  private sampling: Promise<void> | undefined;
  /** samples taken (tests: sampling stops when nobody looks) */
  samples = 0;

  constructor(
    private readonly source: ConsoleSource,
    readonly sampleMs = CONSOLE_SAMPLE_MS,
    private readonly idleMs = CONSOLE_IDLE_MS,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** a console request: starts sampling (first sample now) and keeps it going */
  async look(): Promise<void> {
    this.lastLook = Date.now();
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        if (Date.now() - this.lastLook > this.idleMs) this.stop();
        else void this.sample();
      }, this.sampleMs);
      this.timer.unref();
      await this.sample();
    } else if (this.sampling) await this.sampling;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  nodes(): unknown[] {
    return this.views.map((v) => ({ ...v, series: this.rings.get(v.id)?.toJSON() ?? null }));
  }

  private sample(): Promise<void> {
    return (this.sampling ??= this.sampleOnce().finally(() => (this.sampling = undefined)));
  }

  private async sampleOnce(): Promise<void> {
    let list: NodeInfo[];
    try {
      list = await this.source.nodes();
    } catch {
      return; // directory unreachable: keep the last view
    }
    const now = Date.now();
    const views = await Promise.all(list.map((n) => this.probe(n)));
    const seen = new Set<string>();
    for (const v of views) {
      seen.add(v.id);
      if (!v.last) continue;
      let ring = this.rings.get(v.id);
      if (!ring) this.rings.set(v.id, (ring = new NodeRing(CONSOLE_RING_POINTS)));
      const dt = (now - ring.lastAt) / 1000;
      v.last.deliveriesPerSec = ring.lastDeliveries >= 0 && dt > 0 ? Math.max(0, (v.last.deliveries - ring.lastDeliveries) / dt) : 0;
      ring.lastDeliveries = v.last.deliveries;
      ring.lastAt = now;
      ring.push({ t: Math.round(now / 1000), connections: v.last.connections, docs: v.last.docs, deliveriesPerSec: v.last.deliveriesPerSec, lag: v.last.lag });
    }
    for (const id of this.rings.keys()) if (!seen.has(id)) this.rings.delete(id);
    this.views = views;
    this.samples++;
  }

  private async probe(n: NodeInfo): Promise<NodeView> {
    const self = this.source.self;
    try {
      let stats: unknown;
      let ready: boolean;
      if (self && self.id === n.id) {
        stats = await self.stats();
        ready = self.ready();
      } else if (n.admin === '') {
        return { ...n, ready: false, error: 'no ADMIN_PORT' };
      } else {
        const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
        const [s, r] = await Promise.all([fetch(`${n.admin}/stats?lag=1`, { signal }), fetch(`${n.admin}/readyz`, { signal })]);
        stats = s.ok ? await s.json() : {};
        await r.body?.cancel();
        ready = r.ok;
      }
      return { ...n, ready, last: { ...sampleOf(stats), deliveriesPerSec: 0 } };
    } catch (err) {
      return { ...n, ready: false, error: (err as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable' };
    }
  }
}

// ---------------------------------------------------------------------------------------------

function loadAsset(rel: string): Buffer | undefined {
  try {
    return readFileSync(new URL(rel, import.meta.url));
  } catch {
    return undefined;
  }
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Replicant console</title><link rel="stylesheet" href="/console/app.css"></head>
<body><div id="app"></div><script type="module" src="/console/app.js"></script></body></html>`;

/** registers /console/ and /console/api/* on `app` */
export function registerConsole(app: TemplatedApp, opts: ConsoleOptions): ConsoleSampler {
  const sampler = new ConsoleSampler(opts.source, opts.sampleMs);
  // built by scripts/bundle-console.mjs (npm run build) into cli/dist/console/
  const assets: Record<string, [string, Buffer | undefined]> = {
    'app.js': ['text/javascript; charset=utf-8', loadAsset('../console/app.js')],
    'app.css': ['text/css; charset=utf-8', loadAsset('../console/app.css')],
    'sdk.js': ['text/javascript; charset=utf-8', loadAsset('../../../sdk/dist/browser/replicant-sdk.js')],
  };
  const page = (res: HttpResponse) => {
    res.writeHeader('Content-Type', 'text/html; charset=utf-8').writeHeader('Cache-Control', 'no-cache').end(PAGE);
  };
  app.get('/console', (res) => {
    res.writeStatus('302 Found').writeHeader('Location', '/console/').end();
  });
  app.get('/console/', page);
  for (const [name, [type, body]] of Object.entries(assets)) {
    app.get(`/console/${name}`, (res) => {
      if (body) res.writeHeader('Content-Type', type).writeHeader('Cache-Control', 'no-cache').end(body);
      else res.writeStatus('404 Not Found').end('console bundle missing: run `npm run build`');
    });
  }

  /** authenticates, then runs `handle`; answers errors as JSON */
  const api = (method: 'get' | 'post', path: string, handle: (q: URLSearchParams, authorization: string) => Promise<[number, string]>) => {
    app[method](path, (res: HttpResponse, req: HttpRequest) => {
      const x: HttpExchange = { done: false };
      res.onAborted(() => {
        x.done = true;
      });
      const authorization = req.getHeader('authorization');
      const q = new URLSearchParams(req.getQuery() ?? '');
      void (async () => {
        try {
          const p = await opts.auth.authenticate(authorization);
          if (p !== FULL_ACCESS) {
            answerJson(res, x, 403, errorBody(ErrorCode.Forbidden, 'the console takes API keys only'));
            return;
          }
        } catch (err) {
          if (err instanceof AuthError) answerJson(res, x, 401, errorBody(ErrorCode.Unauthorized, err.message));
          else answerJson(res, x, 503, errorBody(ErrorCode.Unavailable, 'cannot check the credential now'));
          return;
        }
        try {
          await sampler.look();
          const [status, body] = await handle(q, authorization);
          answerJson(res, x, status, body);
        } catch {
          answerJson(res, x, 502, errorBody(ErrorCode.Unavailable, 'a node did not answer'));
        }
      })();
    });
  };

  const originUrl = async (): Promise<string> => {
    const nodes = await opts.source.nodes();
    const o = nodes.find((n) => (n.role === 'origin' || n.role === 'dev') && n.public);
    if (!o) throw new Error('no origin');
    return o.public!;
  };
  const proxy = async (url: string, authorization: string, method = 'GET', body?: string): Promise<[number, string]> => {
    const headers: Record<string, string> = {};
    if (authorization) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(10_000) });
    return [r.status, await r.text()];
  };

  api('get', '/console/api/nodes', async () => [200, JSON.stringify({ sampleMs: sampler.sampleMs, ringPoints: CONSOLE_RING_POINTS, nodes: sampler.nodes() })]);

  api('get', '/console/api/doc', async (q, authorization) => {
    const id = q.get('id') ?? '';
    if (id === '') return [400, errorBody(ErrorCode.BadRequest, 'id is required')];
    const base = await originUrl();
    const enc = encodeURIComponent(id);
    const [ss, state] = await proxy(`${base}/v1/docs/${enc}`, authorization);
    // history pages go forward from `after`: the ops after (seq - RECENT_OPS)
    let after = 0n;
    try {
      const seq = BigInt(JSON.parse(state).seq as string);
      after = seq > BigInt(RECENT_OPS) ? seq - BigInt(RECENT_OPS) : 0n;
    } catch {
      // no state: from the start
    }
    const [hs, history] = await proxy(`${base}/v1/docs/${enc}/history?limit=${RECENT_OPS}&after=${after}`, authorization);
    const parse = (status: number, text: string) => {
      try {
        return status === 200 ? JSON.parse(text) : { error: JSON.parse(text).error ?? { code: String(status) } };
      } catch {
        return { error: { code: String(status) } };
      }
    };
    const gateways = (await opts.source.nodes()).filter((n) => n.role === 'gateway' || n.role === 'dev');
    const subscribers = await Promise.all(
      gateways.map(async (g) => {
        try {
          const self = opts.source.self;
          const s: any = self && self.id === g.id ? await self.stats(id) : await (await fetch(`${g.admin}/stats?doc=${enc}`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })).json();
          return { gateway: g.id, public: g.public ?? null, subscribers: typeof s.subscribers === 'number' ? s.subscribers : null };
        } catch {
          return { gateway: g.id, public: g.public ?? null, subscribers: null };
        }
      }),
    );
    return [200, JSON.stringify({ doc: id, current: parse(ss, state), history: parse(hs, history), subscribers })];
  });

  api('get', '/console/api/connections', async (q, authorization) => {
    const p = new URLSearchParams();
    for (const [k, v] of q) if (k === 'sub' || k === 'limit' || k === 'after' || k.startsWith('meta.')) p.set(k, v);
    return proxy(`${await originUrl()}/v1/connections?${p}`, authorization);
  });

  api('post', '/console/api/disconnect', async (q, authorization) => {
    const sub = q.get('sub') ?? '';
    if (sub === '') return [400, errorBody(ErrorCode.BadRequest, 'sub is required')];
    return proxy(`${await originUrl()}/v1/users/${encodeURIComponent(sub)}/disconnect`, authorization, 'POST', '{}');
  });
  return sampler;
}
