/**
 * A small k6 emulator for Node (`npm run k6`), so the k6 scripts in load-tests/k6/ and examples/k6/
 * can be smoke-tested here: k6 itself is AGPL-licensed and is never built or shipped by this project.
 * The scripts' use of the k6 API is checked against the published types (@types/k6) by
 * load-tests/test/k6-types.test.ts; this runner only has to execute them.
 *
 * Execution model as in k6: every VU is a worker thread running the script's init code in its own
 * module instance, and VU code is SYNCHRONOUS (`http.post` returns the response, `ws.connect` runs
 * the socket's event loop until it closes). The main thread does the real I/O (node:http, the
 * load-tests WsClient) and answers over a MessagePort; a VU blocks on Atomics.wait and reads answers
 * with receiveMessageOnPort.
 *
 * Supported subset: exactly what those scripts use. An import of another module or name, another
 * executor, another socket event, check tags or a non-string body throws; other params are ignored
 * and other response fields are absent.
 *  - `k6`: check(value, { name: predicate }) (a throwing predicate fails the iteration, as in k6);
 *    `k6/metrics`: Counter, Trend (with isTime);
 *  - `k6/http`: get(url, params), post(url, stringBody, params) with params.headers and params.tags
 *    (60 s timeout, plain `http:` URLs); responses: status, body (a string), error;
 *  - `k6/ws`: connect(url, params, fn) with params.headers and params.tags; socket.on('open' |
 *    'message') (text frames), send, close, setTimeout; returns { status } (101 once it opened);
 *  - options.scenarios with executors constant-vus, ramping-vus, constant-arrival-rate and
 *    ramping-arrival-rate (exec, startTime, gracefulStop, gracefulRampDown);
 *  - setup() (its JSON-cloned result is every VU function's argument); __ENV (only what the caller
 *    passes), __VU, __ITER;
 *  - thresholds: `metric` or `metric{tag:value,...}` with count|rate|avg|min|max|med|p(N) and
 *    < <= > >= == === !=, evaluated at the end like k6 (a metric without samples does not fail);
 *    built-in metrics checks, iterations, dropped_iterations, http_reqs, http_req_duration,
 *    http_req_failed (status outside 200-399), ws_sessions, ws_msgs_received.
 * A run keeps at most 50 VU errors and is aborted after maxDurationMs (default 10 min).
 */
import { isMainThread, MessageChannel, MessagePort, receiveMessageOnPort, Worker, workerData } from 'node:worker_threads';
import * as http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WsClient } from './ws-client.js';

// ================================================================================================
// shared helpers
// ================================================================================================

/** k6 duration strings: "1m30s", "500ms", "2h", or a number of milliseconds */
export function parseDuration(d: string | number | undefined, def = 0): number {
  if (d === undefined) return def;
  if (typeof d === 'number') return d;
  let ms = 0;
  let matched = false;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(d)) !== null) {
    matched = true;
    ms += parseFloat(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  if (!matched) throw new Error(`invalid duration ${JSON.stringify(d)}`);
  return ms;
}

type MetricType = 'counter' | 'rate' | 'trend';
type Tags = Record<string, string>;

// messages VU -> host
type VuMsg =
  | { kind: 'ready'; options?: unknown; exports: string[] }
  | { kind: 'fatal'; error: string }
  | { kind: 'setupDone'; data: unknown; error?: string }
  | { kind: 'iterDone'; error?: string }
  | { kind: 'metricDef'; name: string; type: MetricType; isTime: boolean }
  | { kind: 'sample'; name: string; value: number; tags: Tags }
  | { kind: 'http'; id: number; method: 'GET' | 'POST'; url: string; body: string | null; headers: Record<string, string>; tags: Tags }
  | { kind: 'ws.open'; id: number; url: string; headers: Record<string, string>; tags: Tags }
  | { kind: 'ws.send'; id: number; data: string }
  | { kind: 'ws.close'; id: number };

// messages host -> VU
type HostMsg =
  | { kind: 'iterate'; iter: number }
  | { kind: 'stop' }
  | { kind: 'http.res'; id: number; status: number; body: string; error: string }
  | { kind: 'ws.opened'; id: number }
  | { kind: 'ws.failed'; id: number; status: number; error: string }
  | { kind: 'ws.msg'; id: number; data: string }
  | { kind: 'ws.closed'; id: number };

interface VuWorkerData {
  k6shimVu: true;
  scriptUrl: string;
  env: Record<string, string>;
  vuId: number;
  scenario: string;
  exec: string;
  role: 'setup' | 'vu';
  setupData: unknown;
  port: MessagePort;
  /** Int32Array view: [0] = message counter (notified on every host message), [1] = hard stop flag */
  signal: SharedArrayBuffer;
}

/** k6's default request timeout */
const HTTP_TIMEOUT_MS = 60000;

// ================================================================================================
// VU side (worker thread)
// ================================================================================================

class Interrupt extends Error {}

interface Params {
  headers?: Record<string, string>;
  tags?: Tags;
}

function vuMain(wd: VuWorkerData): Promise<void> {
  const port = wd.port;
  const sig = new Int32Array(wd.signal);
  const inbox: HostMsg[] = [];
  const post = (m: VuMsg): void => port.postMessage(m);
  const stopped = (): boolean => Atomics.load(sig, 1) !== 0;
  let currentTags: Tags = { scenario: wd.scenario };

  /** next host message; undefined on timeout. Messages stashed in the inbox come first. */
  const nextMsg = (timeoutMs: number, accept?: (m: HostMsg) => boolean): HostMsg | undefined => {
    for (let i = 0; i < inbox.length; i++) {
      if (accept === undefined || accept(inbox[i])) return inbox.splice(i, 1)[0];
    }
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const seen = Atomics.load(sig, 0);
      const r = receiveMessageOnPort(port);
      if (r !== undefined) {
        const m = r.message as HostMsg;
        if (accept === undefined || accept(m)) return m;
        inbox.push(m);
        continue;
      }
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      Atomics.wait(sig, 0, seen, Number.isFinite(left) ? left : undefined);
    }
  };

  // ---- k6/metrics ----
  const defined = new Set<string>();
  class Metric {
    constructor(
      readonly name: string,
      type: MetricType,
      isTime = false,
    ) {
      if (!/^[A-Za-z0-9_]{1,128}$/.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
      if (!defined.has(name)) {
        defined.add(name);
        post({ kind: 'metricDef', name, type, isTime });
      }
    }
    add(value: number | boolean, tags?: Tags): void {
      post({ kind: 'sample', name: this.name, value: Number(value), tags: { ...currentTags, ...tags } });
    }
  }
  class Counter extends Metric {
    constructor(name: string) {
      super(name, 'counter');
    }
  }
  class Trend extends Metric {
    constructor(name: string, isTime = false) {
      super(name, 'trend', isTime);
    }
  }
  const checksMetric = new Metric('checks', 'rate');

  // ---- k6 ----
  const check = (val: unknown, sets: Record<string, (v: unknown) => unknown>, tags?: unknown): boolean => {
    if (tags !== undefined) throw new Error('k6-shim: check tags are not supported');
    let all = true;
    for (const [name, pred] of Object.entries(sets)) {
      if (typeof pred !== 'function') throw new Error(`k6-shim: check ${JSON.stringify(name)} is not a function`);
      const ok = Boolean(pred(val));
      checksMetric.add(ok, { check: name });
      all &&= ok;
    }
    return all;
  };

  // ---- k6/http ----
  let nextId = 1;
  const request = (method: 'GET' | 'POST', url: string, body: unknown, params: Params | undefined): unknown => {
    if (body !== null && typeof body !== 'string') throw new Error('k6-shim: http bodies must be strings');
    const id = nextId++;
    post({ kind: 'http', id, method, url, body, headers: { ...params?.headers }, tags: { ...currentTags, ...params?.tags } });
    const m = nextMsg(Infinity, (x) => x.kind === 'http.res' && x.id === id) as Extract<HostMsg, { kind: 'http.res' }>;
    return { status: m.status, body: m.body, error: m.error };
  };
  const httpModule = {
    get: (url: string, params?: Params) => request('GET', url, null, params),
    post: (url: string, body: unknown, params?: Params) => request('POST', url, body, params),
  };

  // ---- k6/ws ----
  const wsConnect = (url: string, params: Params, fn: (socket: unknown) => void): unknown => {
    if (typeof fn !== 'function') throw new Error('k6-shim: ws.connect(url, params, fn) needs the callback');
    const id = nextId++;
    post({ kind: 'ws.open', id, url, headers: { ...params?.headers }, tags: { ...currentTags, ...params?.tags } });
    const mine = (x: HostMsg): boolean => 'id' in x && x.id === id;
    const first = nextMsg(Infinity, mine)!;
    if (first.kind === 'ws.failed') return { status: first.status, error: first.error };
    const handlers: Record<'open' | 'message', ((data?: string) => void)[]> = { open: [], message: [] };
    const timers: { at: number; fn: () => void }[] = [];
    let closing = false;
    let closed = false;
    const socket = {
      on(ev: string, h: (data?: string) => void) {
        if (ev !== 'open' && ev !== 'message') throw new Error(`k6-shim: socket.on(${JSON.stringify(ev)}) is not supported`);
        handlers[ev].push(h);
      },
      send(data: string) {
        if (!closed) post({ kind: 'ws.send', id, data: String(data) });
      },
      close() {
        if (closed || closing) return;
        closing = true;
        post({ kind: 'ws.close', id });
      },
      setTimeout(f: () => void, ms: number) {
        timers.push({ at: performance.now() + ms, fn: f });
      },
    };
    let interrupted = false;
    try {
      fn(socket);
      for (const h of handlers.open) h();
      while (!closed) {
        if (stopped() && !closing) {
          interrupted = true;
          socket.close();
        }
        const now = performance.now();
        for (let i = 0; i < timers.length && !closed; ) {
          if (timers[i].at <= now) timers.splice(i, 1)[0].fn();
          else i++;
        }
        const nextAt = Math.min(Infinity, ...timers.map((t) => t.at));
        const m = nextMsg(Math.max(0, Math.min(nextAt - performance.now(), stopped() ? 100 : 250)), mine);
        if (m?.kind === 'ws.msg') for (const h of handlers.message) h(m.data);
        else if (m?.kind === 'ws.closed') closed = true;
      }
    } finally {
      // an exception out of a handler (or an interrupt) must not leave the socket open
      if (!closed && !closing) post({ kind: 'ws.close', id });
    }
    if (interrupted) throw new Interrupt('stopped');
    return { status: 101, error: '' };
  };

  const g = globalThis as any;
  g.__k6shim = {
    k6: { check },
    'k6/metrics': { Counter, Trend },
    'k6/http': httpModule,
    'k6/ws': { connect: wsConnect },
  };
  g.__ENV = { ...wd.env };
  g.__VU = wd.role === 'setup' ? 0 : wd.vuId;
  g.__ITER = 0;

  const iterationsMetric = new Counter('iterations');

  return import(wd.scriptUrl).then(
    (mod: Record<string, unknown>) => {
      const exportsList = Object.keys(mod);
      if (wd.role === 'setup') {
        post({ kind: 'ready', options: JSON.parse(JSON.stringify(mod.options ?? {})), exports: exportsList });
        let data: unknown = undefined;
        let error: string | undefined;
        currentTags = { scenario: 'setup' };
        try {
          if (typeof mod.setup === 'function') data = mod.setup();
          data = data === undefined ? undefined : JSON.parse(JSON.stringify(data));
        } catch (err) {
          error = String((err as Error)?.stack ?? err);
        }
        post({ kind: 'setupDone', data, error });
        nextMsg(Infinity, (x) => x.kind === 'stop');
        return;
      }
      const fn = mod[wd.exec];
      if (typeof fn !== 'function') {
        post({ kind: 'fatal', error: `the script has no exported function ${JSON.stringify(wd.exec)}` });
        return;
      }
      post({ kind: 'ready', exports: exportsList });
      while (true) {
        const m = nextMsg(Infinity, (x) => x.kind === 'iterate' || x.kind === 'stop');
        if (m === undefined || m.kind !== 'iterate') return;
        g.__ITER = m.iter;
        let error: string | undefined;
        let interrupted = false;
        try {
          (fn as (d: unknown) => void)(wd.setupData);
        } catch (err) {
          if (err instanceof Interrupt) interrupted = true;
          else error = String((err as Error)?.stack ?? err);
        }
        if (!interrupted) iterationsMetric.add(1);
        post({ kind: 'iterDone', error });
      }
    },
    (err: unknown) => {
      post({ kind: 'fatal', error: String((err as Error)?.stack ?? err) });
    },
  );
}

if (!isMainThread && (workerData as VuWorkerData | undefined)?.k6shimVu === true) {
  void vuMain(workerData as VuWorkerData);
}

// ================================================================================================
// host side (main thread)
// ================================================================================================

export interface K6RunOptions {
  /** path to the k6 script */
  script: string;
  /** the script's __ENV (process.env is NOT passed through) */
  env?: Record<string, string>;
  /** safety net: the whole run is aborted after this long (default 10 min) */
  maxDurationMs?: number;
  /** log VU exceptions as they happen */
  verbose?: boolean;
}

interface MetricData {
  type: MetricType;
  isTime: boolean;
  samples: { v: number; tags: Tags }[];
}

export interface ThresholdResult {
  metric: string;
  expr: string;
  ok: boolean;
  value: number;
  noData: boolean;
}

export interface K6RunResult {
  ok: boolean;
  thresholds: ThresholdResult[];
  checks: Record<string, { passes: number; fails: number }>;
  /** aggregated value of a metric (optionally filtered by tags): count/rate/avg/p(N)/... */
  metric(name: string, stat: string, tags?: Tags): number;
  iterations: Record<string, number>;
  droppedIterations: number;
  /** exceptions thrown by VU code (first 50) */
  errors: string[];
  durationMs: number;
  summary(): string;
}

interface Vu {
  id: number;
  worker: Worker;
  port: MessagePort;
  sig: Int32Array;
  state: 'init' | 'idle' | 'busy' | 'dead';
  ready: Promise<void>;
  scenario: string;
  iter: number;
  onIdle: (() => void) | null;
  ws: Map<number, WsClient>;
}

interface Scenario {
  name: string;
  executor: string;
  exec: string;
  startTimeMs: number;
  gracefulStopMs: number;
  raw: Record<string, any>;
  vus: Vu[];
  iterations: number;
}

const FACADE_NAMES: Record<string, string[]> = {
  k6: ['check'],
  'k6/metrics': ['Counter', 'Trend'],
  'k6/http': ['get', 'post'],
  'k6/ws': ['connect'],
};

/** Writes facade modules and the script with rewritten imports into a temp dir; returns its URL. */
function prepareScript(scriptPath: string, dir: string): string {
  const abs = resolvePath(scriptPath);
  const src = readFileSync(abs, 'utf8');
  const facadeUrl = (spec: string): string => {
    const names = FACADE_NAMES[spec];
    if (names === undefined) throw new Error(`k6-shim: module ${spec} is not supported`);
    const file = join(dir, `${spec.replace(/\//g, '_')}.mjs`);
    writeFileSync(
      file,
      `const m = globalThis.__k6shim[${JSON.stringify(spec)}];\nexport default m;\n` +
        names.map((n) => `export const ${n} = m.${n};\n`).join(''),
    );
    return pathToFileURL(file).href;
  };
  const rewritten = src.replace(/(\bfrom\s*|\bimport\s*)(['"])([^'"]+)\2/g, (whole, kw: string, q: string, spec: string) => {
    if (spec === 'k6' || spec.startsWith('k6/')) return `${kw}${q}${facadeUrl(spec)}${q}`;
    if (spec.startsWith('./') || spec.startsWith('../')) return `${kw}${q}${pathToFileURL(resolvePath(dirname(abs), spec)).href}${q}`;
    return whole;
  });
  const out = join(dir, 'script.mjs');
  writeFileSync(out, rewritten);
  return pathToFileURL(out).href;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (idx - lo);
}

export async function runK6(opts: K6RunOptions): Promise<K6RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'k6-shim-'));
  const scriptUrl = prepareScript(opts.script, dir);
  const env = opts.env ?? {};
  const metrics = new Map<string, MetricData>();
  const errors: string[] = [];
  const vus: Vu[] = [];
  let droppedIterations = 0;
  let nextVuId = 1;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const started = performance.now();

  const defineMetric = (name: string, type: MetricType, isTime: boolean): void => {
    const m = metrics.get(name);
    if (m === undefined) metrics.set(name, { type, isTime, samples: [] });
    else if (m.type !== type) errors.push(`metric ${name} redefined as ${type} (was ${m.type})`);
  };
  const addSample = (name: string, v: number, tags: Tags): void => {
    metrics.get(name)?.samples.push({ v, tags });
  };
  for (const [n, t, time] of [
    ['checks', 'rate', false],
    ['iterations', 'counter', false],
    ['dropped_iterations', 'counter', false],
    ['http_reqs', 'counter', false],
    ['http_req_duration', 'trend', true],
    ['http_req_failed', 'rate', false],
    ['ws_sessions', 'counter', false],
    ['ws_msgs_received', 'counter', false],
  ] as [string, MetricType, boolean][]) {
    defineMetric(n, t, time);
  }
  const pushError = (e: string): void => {
    if (opts.verbose) console.error(`[k6-shim] ${e}`);
    if (errors.length < 50) errors.push(e);
  };

  const toVu = (vu: Vu, m: HostMsg): void => {
    if (vu.state === 'dead') return;
    vu.port.postMessage(m);
    Atomics.add(vu.sig, 0, 1);
    Atomics.notify(vu.sig, 0);
  };

  // ---- I/O on behalf of VUs ----
  const doHttp = (vu: Vu, m: Extract<VuMsg, { kind: 'http' }>): void => {
    const t0 = performance.now();
    const tags: Tags = { ...m.tags, method: m.method, name: m.tags.name ?? m.url };
    const finish = (status: number, body: string, error: string): void => {
      const t = { ...tags, status: String(status) };
      addSample('http_reqs', 1, t);
      addSample('http_req_duration', performance.now() - t0, t);
      addSample('http_req_failed', status >= 200 && status < 400 ? 0 : 1, t);
      toVu(vu, { kind: 'http.res', id: m.id, status, body, error });
    };
    let url: URL;
    try {
      url = new URL(m.url);
      if (url.protocol !== 'http:') throw new Error(`k6-shim supports http: URLs only (${m.url})`);
    } catch (err) {
      finish(0, '', (err as Error).message);
      return;
    }
    const headers: Record<string, string | number> = { ...m.headers };
    if (m.body !== null) headers['Content-Length'] = Buffer.byteLength(m.body);
    const req = http.request(
      { host: url.hostname, port: url.port || 80, path: `${url.pathname}${url.search}`, method: m.method, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), ''));
        res.on('error', (err) => finish(0, '', err.message));
      },
    );
    req.setTimeout(HTTP_TIMEOUT_MS, () => req.destroy(new Error(`request timeout after ${HTTP_TIMEOUT_MS} ms`)));
    req.on('error', (err) => finish(0, '', err.message));
    req.end(m.body ?? undefined);
  };

  const doWsOpen = (vu: Vu, m: Extract<VuMsg, { kind: 'ws.open' }>): void => {
    let url: URL;
    try {
      url = new URL(m.url);
      if (url.protocol !== 'ws:') throw new Error(`k6-shim supports ws: URLs only (${m.url})`);
    } catch (err) {
      toVu(vu, { kind: 'ws.failed', id: m.id, status: 0, error: (err as Error).message });
      return;
    }
    const headers: Record<string, string> = {};
    let protocols: string[] = [];
    for (const [k, v] of Object.entries(m.headers)) {
      if (k.toLowerCase() === 'sec-websocket-protocol') protocols = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
      else headers[k] = v;
    }
    const tags: Tags = { ...m.tags, url: m.url };
    const c = new WsClient({ host: url.hostname, port: Number(url.port || 80), path: `${url.pathname}${url.search}`, protocols, headers });
    vu.ws.set(m.id, c);
    let opened = false;
    c.onopen = () => {
      opened = true;
      addSample('ws_sessions', 1, tags);
      toVu(vu, { kind: 'ws.opened', id: m.id });
    };
    c.onmessage = (data, binary) => {
      addSample('ws_msgs_received', 1, tags);
      if (binary) pushError(`VU ${vu.id}: binary WebSocket message from ${m.url}: k6-shim delivers text frames only`);
      else toVu(vu, { kind: 'ws.msg', id: m.id, data: data.toString('utf8') });
    };
    let lastError = '';
    c.onerror = (err) => {
      lastError = err.message;
    };
    c.onclose = (code) => {
      vu.ws.delete(m.id);
      if (opened) {
        toVu(vu, { kind: 'ws.closed', id: m.id });
        return;
      }
      const status = /HTTP\/1\.[01] (\d{3})/.exec(lastError);
      toVu(vu, { kind: 'ws.failed', id: m.id, status: status ? Number(status[1]) : 0, error: lastError || `closed (${code})` });
    };
  };

  // ---- VUs ----
  const spawnVu = (role: 'setup' | 'vu', scenario: string, exec: string, setupData: unknown, onReady?: (m: Extract<VuMsg, { kind: 'ready' }>) => void): Vu => {
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(8);
    const id = role === 'setup' ? 0 : nextVuId++;
    const data: VuWorkerData = { k6shimVu: true, scriptUrl, env, vuId: id, scenario, exec, role, setupData, port: port2, signal };
    const worker = new Worker(new URL(import.meta.url), { workerData: data, transferList: [port2] });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const vu: Vu = {
      id,
      worker,
      port: port1,
      sig: new Int32Array(signal),
      state: 'init',
      ready: new Promise<void>((res, rej) => {
        readyResolve = res;
        readyReject = rej;
      }),
      scenario,
      iter: 0,
      onIdle: null,
      ws: new Map(),
    };
    vu.ready.catch(() => undefined);
    port1.on('message', (m: VuMsg) => {
      switch (m.kind) {
        case 'ready':
          vu.state = 'idle';
          onReady?.(m);
          readyResolve();
          break;
        case 'fatal':
          pushError(`VU ${id}: ${m.error}`);
          vu.state = 'dead';
          readyReject(new Error(m.error));
          break;
        case 'metricDef':
          defineMetric(m.name, m.type, m.isTime);
          break;
        case 'sample':
          addSample(m.name, m.value, m.tags);
          break;
        case 'http':
          doHttp(vu, m);
          break;
        case 'ws.open':
          doWsOpen(vu, m);
          break;
        case 'ws.send':
          vu.ws.get(m.id)?.send(m.data);
          break;
        case 'ws.close':
          vu.ws.get(m.id)?.close(1000);
          break;
        case 'iterDone':
          if (m.error !== undefined) pushError(`VU ${id} (${vu.scenario}): ${m.error}`);
          vu.state = 'idle';
          vu.onIdle?.();
          break;
        default:
          break;
      }
    });
    worker.on('error', (err) => {
      pushError(`VU ${id} crashed: ${err.message}`);
      vu.state = 'dead';
      readyReject(err);
      vu.onIdle?.();
    });
    worker.on('exit', () => {
      vu.state = 'dead';
      vu.onIdle?.();
    });
    vus.push(vu);
    return vu;
  };

  const killVu = async (vu: Vu): Promise<void> => {
    for (const c of vu.ws.values()) c.terminate();
    vu.ws.clear();
    if (vu.state !== 'dead') {
      Atomics.store(vu.sig, 1, 1);
      Atomics.notify(vu.sig, 1);
      toVu(vu, { kind: 'stop' });
      vu.state = 'dead';
    }
    await vu.worker.terminate();
  };

  const iterate = (vu: Vu, sc: Scenario): void => {
    vu.state = 'busy';
    sc.iterations++;
    toVu(vu, { kind: 'iterate', iter: vu.iter++ });
  };

  /** interrupt a busy VU: its ws.connect closes the socket and the iteration ends as interrupted */
  const hardStop = (vu: Vu): void => {
    Atomics.store(vu.sig, 1, 1);
    Atomics.add(vu.sig, 0, 1);
    Atomics.notify(vu.sig, 0);
  };
  /** soft stop: let a busy VU finish within graceMs, then interrupt it */
  const waitIdle = (vu: Vu, graceMs: number): Promise<void> =>
    new Promise((resolve) => {
      if (vu.state !== 'busy') return resolve();
      const t = setTimeout(() => hardStop(vu), graceMs);
      vu.onIdle = () => {
        clearTimeout(t);
        vu.onIdle = null;
        resolve();
      };
    });

  const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const stagesOf = (raw: Record<string, any>): { durationMs: number; target: number }[] =>
    (raw.stages ?? []).map((s: any) => ({ durationMs: parseDuration(s.duration), target: s.target }));

  const runScenario = async (sc: Scenario, t0: number): Promise<void> => {
    const raw = sc.raw;
    const wait = t0 + sc.startTimeMs - performance.now();
    if (wait > 0) await sleepMs(wait);
    const begin = performance.now();
    const elapsed = (): number => performance.now() - begin;
    const tick = 20;
    switch (sc.executor) {
      case 'constant-vus':
      case 'ramping-vus': {
        const constant = sc.executor === 'constant-vus';
        const stages = constant ? [{ durationMs: parseDuration(raw.duration), target: raw.vus ?? 1 }] : stagesOf(raw);
        const startVUs = constant ? (raw.vus ?? 1) : (raw.startVUs ?? 1);
        const total = stages.reduce((a, s) => a + s.durationMs, 0);
        const rampDownMs = parseDuration(raw.gracefulRampDown, 30000);
        const target = (t: number): number => {
          let from = startVUs;
          let acc = 0;
          for (const s of stages) {
            if (t < acc + s.durationMs) return Math.round(from + ((s.target - from) * (t - acc)) / s.durationMs);
            acc += s.durationMs;
            from = s.target;
          }
          return from;
        };
        const active = new Set<Vu>();
        const loop = (vu: Vu): void => {
          vu.onIdle = () => {
            if (active.has(vu) && elapsed() < total && vu.state === 'idle') iterate(vu, sc);
          };
          iterate(vu, sc);
        };
        while (elapsed() < total) {
          const want = Math.min(target(elapsed()), sc.vus.length);
          for (const vu of sc.vus) {
            if (active.size >= want) break;
            if (!active.has(vu) && vu.state === 'idle') {
              active.add(vu);
              loop(vu);
            }
          }
          if (active.size > want) {
            for (const vu of [...active].reverse()) {
              if (active.size <= want) break;
              active.delete(vu);
              // ramped down: it may finish its iteration within gracefulRampDown, then it may be reused
              void waitIdle(vu, rampDownMs).then(() => Atomics.store(vu.sig, 1, 0));
            }
          }
          await sleepMs(tick);
        }
        active.clear();
        await Promise.all(sc.vus.map((vu) => waitIdle(vu, sc.gracefulStopMs)));
        break;
      }
      case 'constant-arrival-rate':
      case 'ramping-arrival-rate': {
        const constant = sc.executor === 'constant-arrival-rate';
        const unit = parseDuration(raw.timeUnit, 1000);
        const stages = constant ? [{ durationMs: parseDuration(raw.duration), target: raw.rate }] : stagesOf(raw);
        const startRate = constant ? raw.rate : (raw.startRate ?? 0);
        const total = stages.reduce((a, s) => a + s.durationMs, 0);
        /** iterations due by time t: the integral of the (piecewise linear) rate */
        const due = (t: number): number => {
          let acc = 0;
          let from = startRate;
          let n = 0;
          for (const s of stages) {
            const dt = Math.min(Math.max(0, t - acc), s.durationMs);
            const rateAt = from + ((s.target - from) * dt) / s.durationMs;
            n += ((from + rateAt) / 2) * (dt / unit);
            acc += s.durationMs;
            from = s.target;
            if (t < acc) break;
          }
          return n;
        };
        let begun = 0;
        const maxVUs = Math.max(raw.maxVUs ?? sc.vus.length, sc.vus.length);
        let growing = 0;
        while (elapsed() < total) {
          const need = Math.floor(due(elapsed())) + 1; // iteration k starts at the k-th arrival, the first at 0
          while (begun < need) {
            const vu = sc.vus.find((v) => v.state === 'idle');
            begun++;
            if (vu !== undefined) {
              vu.onIdle = null;
              iterate(vu, sc);
            } else {
              // like k6: no free VU means a dropped iteration, and a new VU up to maxVUs
              droppedIterations++;
              addSample('dropped_iterations', 1, { scenario: sc.name });
              if (sc.vus.length + growing < maxVUs) {
                growing++;
                const nv = spawnVu('vu', sc.name, sc.exec, setupData);
                nv.ready.then(
                  () => {
                    growing--;
                    sc.vus.push(nv);
                  },
                  () => {
                    growing--;
                  },
                );
              }
            }
          }
          await sleepMs(Math.min(tick, 5));
        }
        await Promise.all(sc.vus.map((vu) => waitIdle(vu, sc.gracefulStopMs)));
        break;
      }
      default:
        throw new Error(`k6-shim: executor ${sc.executor} is not supported`);
    }
  };

  // ---- the run ----
  let setupData: unknown = undefined;
  let options: Record<string, any> = {};
  let exportsList: string[] = [];
  const overall = setTimeout(() => {
    pushError('k6-shim: maxDurationMs reached, aborting');
    for (const vu of vus) hardStop(vu);
  }, opts.maxDurationMs ?? 600000);
  const setupVu = spawnVu('setup', 'setup', 'setup', undefined, (m) => {
    options = (m.options ?? {}) as Record<string, any>;
    exportsList = m.exports;
  });
  const scenarios: Scenario[] = [];
  const t0run = performance.now();
  try {
    const setupDone = new Promise<void>((resolve, reject) => {
      setupVu.port.on('message', (m: VuMsg) => {
        if (m.kind === 'setupDone') {
          if (m.error !== undefined) reject(new Error(`setup() failed: ${m.error}`));
          setupData = m.data;
          resolve();
        }
      });
    });
    await setupVu.ready;
    await setupDone;

    const rawScenarios: Record<string, any> = options.scenarios ?? {};
    if (Object.keys(rawScenarios).length === 0) throw new Error('k6-shim: the script must define options.scenarios');
    for (const [name, raw] of Object.entries(rawScenarios)) {
      const exec = raw.exec ?? 'default';
      if (!exportsList.includes(exec)) throw new Error(`scenario ${name}: the script exports no ${exec}`);
      let nVus: number;
      switch (raw.executor) {
        case 'ramping-vus':
          nVus = Math.max(raw.startVUs ?? 1, ...(raw.stages ?? []).map((s: any) => s.target));
          break;
        case 'constant-arrival-rate':
        case 'ramping-arrival-rate':
          nVus = raw.preAllocatedVUs ?? 1;
          break;
        default:
          nVus = raw.vus ?? 1;
      }
      const sc: Scenario = {
        name,
        executor: raw.executor,
        exec,
        startTimeMs: parseDuration(raw.startTime, 0),
        gracefulStopMs: parseDuration(raw.gracefulStop, 30000),
        raw,
        vus: [],
        iterations: 0,
      };
      for (let i = 0; i < nVus; i++) sc.vus.push(spawnVu('vu', name, exec, setupData));
      scenarios.push(sc);
    }
    await Promise.all(vus.map((v) => v.ready));
    const t0 = performance.now();
    await Promise.all(scenarios.map((sc) => runScenario(sc, t0)));
  } catch (err) {
    pushError(String((err as Error)?.message ?? err));
  } finally {
    clearTimeout(overall);
    await Promise.all(vus.map((v) => killVu(v)));
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const runMs = performance.now() - t0run;

  // ---- aggregation and thresholds ----
  const select = (name: string, tags?: Tags): MetricData & { values: number[] } => {
    const m = metrics.get(name);
    if (m === undefined) return { type: 'counter', isTime: false, samples: [], values: [] };
    const match = (t: Tags): boolean => tags === undefined || Object.entries(tags).every(([k, v]) => t[k] === v);
    const values = m.samples.filter((s) => match(s.tags)).map((s) => s.v);
    return { ...m, values };
  };
  const stat = (name: string, st: string, tags?: Tags): number => {
    const m = select(name, tags);
    const xs = m.values;
    const sum = xs.reduce((a, b) => a + b, 0);
    const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(st);
    if (p !== null) return percentile([...xs].sort((a, b) => a - b), Number(p[1]));
    switch (st) {
      case 'count':
        return m.type === 'counter' ? sum : xs.length;
      case 'rate':
        return m.type === 'rate' ? (xs.length === 0 ? NaN : sum / xs.length) : sum / (runMs / 1000);
      case 'avg':
        return xs.length === 0 ? NaN : sum / xs.length;
      case 'min':
        return xs.length === 0 ? NaN : Math.min(...xs);
      case 'max':
        return xs.length === 0 ? NaN : Math.max(...xs);
      case 'med':
        return percentile([...xs].sort((a, b) => a - b), 50);
      case 'passes':
        return sum;
      default:
        throw new Error(`unknown stat ${st}`);
    }
  };
  const parseKey = (key: string): { name: string; tags?: Tags } => {
    const m = /^([A-Za-z0-9_]+)(?:\{(.*)\})?$/.exec(key.trim());
    if (m === null) throw new Error(`bad threshold key ${key}`);
    if (m[2] === undefined) return { name: m[1] };
    const tags: Tags = {};
    for (const part of m[2].split(',')) {
      const i = part.indexOf(':');
      tags[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    }
    return { name: m[1], tags };
  };
  const cmp: Record<string, (a: number, b: number) => boolean> = {
    '<': (a, b) => a < b,
    '<=': (a, b) => a <= b,
    '>': (a, b) => a > b,
    '>=': (a, b) => a >= b,
    '==': (a, b) => a === b,
    '===': (a, b) => a === b,
    '!=': (a, b) => a !== b,
  };
  const thresholds: ThresholdResult[] = [];
  for (const [key, list] of Object.entries((options.thresholds ?? {}) as Record<string, unknown[]>)) {
    const { name, tags } = parseKey(key);
    for (const expr of list) {
      const m = typeof expr === 'string' ? /^\s*(avg|min|max|med|count|rate|p\(\d+(?:\.\d+)?\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(expr) : null;
      if (m === null) {
        thresholds.push({ metric: key, expr: String(expr), ok: false, value: NaN, noData: false });
        pushError(`unsupported threshold ${key}: ${JSON.stringify(expr)}`);
        continue;
      }
      const sel = select(name, tags);
      const noData = sel.values.length === 0 && sel.type !== 'counter';
      const v = stat(name, m[1], tags);
      // like k6, a threshold on a metric without samples does not fail the run
      thresholds.push({ metric: key, expr: expr as string, value: v, noData, ok: noData || cmp[m[2]](v, Number(m[3])) });
    }
  }
  const checks: Record<string, { passes: number; fails: number }> = {};
  for (const s of metrics.get('checks')?.samples ?? []) {
    const c = (checks[s.tags.check] ??= { passes: 0, fails: 0 });
    if (s.v) c.passes++;
    else c.fails++;
  }
  const iterations: Record<string, number> = {};
  for (const sc of scenarios) iterations[sc.name] = sc.iterations;

  return {
    ok: thresholds.every((t) => t.ok) && errors.length === 0,
    thresholds,
    checks,
    metric: stat,
    iterations,
    droppedIterations,
    errors,
    durationMs: performance.now() - started,
    summary: () => {
      const lines: string[] = [];
      for (const [name, c] of Object.entries(checks)) lines.push(`  ${c.fails === 0 ? '✓' : '✗'} ${name} (${c.passes} passed, ${c.fails} failed)`);
      lines.push('');
      for (const [name, m] of [...metrics.entries()].sort()) {
        if (m.samples.length === 0) continue;
        const unit = m.isTime ? 'ms' : '';
        let text: string;
        if (m.type === 'trend') {
          text = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'].map((s) => `${s}=${stat(name, s).toFixed(2)}${unit}`).join(' ');
        } else if (m.type === 'rate') text = `${(stat(name, 'rate') * 100).toFixed(2)}% (${stat(name, 'passes')} of ${m.samples.length})`;
        else text = `${stat(name, 'count')} (${stat(name, 'rate').toFixed(2)}/s)`;
        lines.push(`  ${name.padEnd(32, '.')} ${text}`);
      }
      lines.push('');
      for (const t of thresholds) lines.push(`  ${t.ok ? '✓' : '✗'} ${t.metric}: ${t.expr} (${Number.isNaN(t.value) ? 'no data' : t.value.toFixed(3)})`);
      for (const e of errors) lines.push(`  error: ${e.split('\n')[0]}`);
      lines.push(`  iterations: ${JSON.stringify(iterations)}, dropped: ${droppedIterations}, ${(runMs / 1000).toFixed(1)} s`);
      return lines.join('\n');
    },
  };
}

// `node load-tests/dist/src/k6-shim.js <script.js> [-e KEY=VALUE ...]`: run a k6 script under the shim
if (isMainThread && process.argv[1] !== undefined && resolvePath(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const env: Record<string, string> = {};
  let script: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-e' || args[i] === '--env') {
      const [k, ...v] = args[++i].split('=');
      env[k] = v.join('=');
    } else script = args[i];
  }
  if (script === undefined) {
    console.error('usage: node load-tests/dist/src/k6-shim.js <script.js> [-e KEY=VALUE ...]');
    process.exit(2);
  }
  runK6({ script, env, verbose: true }).then(
    (r) => {
      console.log(r.summary());
      process.exit(r.ok ? 0 : 99);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
