/**
 * A small k6 emulator for Node, so the k6 scripts in load-tests/k6/ can be smoke-tested where no k6
 * binary exists. It keeps k6's execution model: every VU is a worker thread running the script's
 * init code in its own module instance, and VU code is SYNCHRONOUS as in k6 (`http.post` returns the
 * response, `sleep` blocks, `ws.connect` runs the socket's event loop until it closes). The main
 * thread does the real I/O (node:http, the load-tests WsClient) and answers over a MessagePort; a VU
 * blocks on Atomics.wait and reads answers with receiveMessageOnPort.
 *
 * Supported surface (what the scripts use, plus the obvious neighbours):
 *  - `k6`: check, sleep, group, fail;  `k6/metrics`: Counter, Gauge, Rate, Trend;
 *  - `k6/http`: request, get, post, put, patch, del, head (string or form bodies; params.headers,
 *    params.tags, params.timeout); responses: status, body, headers, timings.duration, error, json();
 *  - `k6/ws`: connect(url, params, fn) with socket.on(open|message|binaryMessage|ping|pong|close|error),
 *    send, sendBinary, ping, close, setTimeout, setInterval;  `k6/execution`: vu, scenario;
 *  - options.scenarios with executors constant-vus, ramping-vus, constant-arrival-rate,
 *    ramping-arrival-rate, per-vu-iterations, shared-iterations (startTime, gracefulStop,
 *    gracefulRampDown, exec), or top-level vus/duration/iterations/stages;
 *  - setup()/teardown(), __ENV (only what the caller passes), __VU, __ITER;
 *  - thresholds: `metric` or `metric{tag:value,...}` with avg|min|max|med|p(N)|count|rate|value and
 *    < <= > >= == === !=, evaluated at the end like k6; built-in metrics checks, iterations,
 *    iteration_duration, dropped_iterations, http_reqs, http_req_duration, http_req_failed (status
 *    outside 200-399), ws_sessions, ws_connecting, ws_session_duration, ws_msgs_sent, ws_msgs_received.
 * Not supported: open(), k6/crypto, k6/encoding, TLS, cookies, redirects, http.batch, abortOnFail.
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

type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';
type Tags = Record<string, string>;

// messages VU -> host
type VuMsg =
  | { kind: 'ready'; options?: unknown; exports: string[] }
  | { kind: 'fatal'; error: string }
  | { kind: 'setupDone'; data: unknown; error?: string }
  | { kind: 'teardownDone'; error?: string }
  | { kind: 'iterDone'; error?: string; interrupted: boolean; durationMs: number }
  | { kind: 'metricDef'; name: string; type: MetricType; isTime: boolean }
  | { kind: 'sample'; name: string; value: number; tags: Tags }
  | { kind: 'http'; id: number; method: string; url: string; body: string | null; headers: Record<string, string>; tags: Tags; timeoutMs: number }
  | { kind: 'ws.open'; id: number; url: string; headers: Record<string, string>; tags: Tags }
  | { kind: 'ws.send'; id: number; data: string | ArrayBuffer; binary: boolean }
  | { kind: 'ws.ping'; id: number }
  | { kind: 'ws.close'; id: number; code: number };

// messages host -> VU
type HostMsg =
  | { kind: 'iterate'; iter: number; scenarioIter: number }
  | { kind: 'stop' }
  | { kind: 'teardown'; data: unknown }
  | { kind: 'http.res'; id: number; status: number; body: string; headers: Record<string, string>; durationMs: number; error: string }
  | { kind: 'ws.opened'; id: number; status: number; headers: Record<string, string> }
  | { kind: 'ws.failed'; id: number; status: number; error: string }
  | { kind: 'ws.msg'; id: number; data: string | ArrayBuffer; binary: boolean }
  | { kind: 'ws.ping'; id: number }
  | { kind: 'ws.pong'; id: number }
  | { kind: 'ws.error'; id: number; error: string }
  | { kind: 'ws.closed'; id: number; code: number };

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

// ================================================================================================
// VU side (worker thread)
// ================================================================================================

class Interrupt extends Error {}

function vuMain(wd: VuWorkerData): Promise<void> {
  const port = wd.port;
  const sig = new Int32Array(wd.signal);
  const inbox: HostMsg[] = [];
  const post = (m: VuMsg): void => port.postMessage(m);
  const stopped = (): boolean => Atomics.load(sig, 1) !== 0;
  let currentTags: Tags = { scenario: wd.scenario };
  let iter = 0;
  let scenarioIter = 0;

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

  // ---- metrics ----
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
      post({ kind: 'sample', name: this.name, value: typeof value === 'boolean' ? (value ? 1 : 0) : Number(value), tags: { ...currentTags, ...(tags ?? {}) } });
    }
  }
  // k6's four metric classes differ only in their type (`isTime` matters for Gauge and Trend)
  const metricClass = (type: MetricType) =>
    class extends Metric {
      constructor(name: string, isTime = false) {
        super(name, type, isTime);
      }
    };
  const Counter = metricClass('counter');
  const Gauge = metricClass('gauge');
  const Rate = metricClass('rate');
  const Trend = metricClass('trend');
  const checksMetric = new Rate('checks');

  // ---- k6 ----
  const check = (val: unknown, sets: Record<string, unknown>, tags?: Tags): boolean => {
    let all = true;
    for (const [name, pred] of Object.entries(sets)) {
      let ok: boolean;
      try {
        ok = typeof pred === 'function' ? Boolean(pred(val)) : Boolean(pred);
      } catch {
        ok = false;
      }
      checksMetric.add(ok, { ...(tags ?? {}), check: name });
      all &&= ok;
    }
    return all;
  };
  const sleep = (seconds: number): void => {
    if (stopped()) throw new Interrupt('stopped');
    Atomics.wait(sig, 1, 0, Math.max(0, seconds * 1000));
    if (stopped()) throw new Interrupt('stopped');
  };
  const group = <T>(name: string, fn: () => T): T => {
    const prev = currentTags;
    currentTags = { ...currentTags, group: `${prev.group ?? ''}::${name}` };
    try {
      return fn();
    } finally {
      currentTags = prev;
    }
  };
  const fail = (msg?: string): never => {
    throw new Error(msg ?? 'fail()');
  };

  // ---- k6/http ----
  let nextId = 1;
  interface Params {
    headers?: Record<string, string>;
    tags?: Tags;
    timeout?: string | number;
  }
  const encodeBody = (body: unknown): string | null => {
    if (body === undefined || body === null) return null;
    if (typeof body === 'string') return body;
    if (body instanceof ArrayBuffer) return Buffer.from(body).toString('latin1');
    if (typeof body === 'object') {
      return Object.entries(body as Record<string, unknown>)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&');
    }
    return String(body);
  };
  const request = (method: string, url: string, body?: unknown, params?: Params): unknown => {
    const id = nextId++;
    const headers: Record<string, string> = { ...(params?.headers ?? {}) };
    if (body !== null && typeof body === 'object' && !(body instanceof ArrayBuffer)) {
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    post({
      kind: 'http',
      id,
      method: method.toUpperCase(),
      url,
      body: encodeBody(body),
      headers,
      tags: { ...currentTags, ...(params?.tags ?? {}) },
      timeoutMs: parseDuration(params?.timeout, 60000),
    });
    const m = nextMsg(Infinity, (x) => x.kind === 'http.res' && x.id === id) as Extract<HostMsg, { kind: 'http.res' }>;
    return {
      status: m.status,
      body: m.body,
      headers: m.headers,
      error: m.error,
      url,
      request: { method, url, body, headers },
      timings: { duration: m.durationMs },
      json(selector?: string): unknown {
        const v = JSON.parse(m.body);
        if (selector === undefined) return v;
        return selector.split('.').reduce<any>((o, k) => (o == null ? undefined : o[k]), v);
      },
    };
  };
  const httpModule = {
    request,
    get: (url: string, params?: Params) => request('GET', url, null, params),
    head: (url: string, params?: Params) => request('HEAD', url, null, params),
    del: (url: string, body?: unknown, params?: Params) => request('DELETE', url, body, params),
    post: (url: string, body?: unknown, params?: Params) => request('POST', url, body, params),
    put: (url: string, body?: unknown, params?: Params) => request('PUT', url, body, params),
    patch: (url: string, body?: unknown, params?: Params) => request('PATCH', url, body, params),
  };

  // ---- k6/ws ----
  const wsConnect = (url: string, paramsOrFn: Params | ((s: unknown) => void), maybeFn?: (s: unknown) => void): unknown => {
    const params: Params = typeof paramsOrFn === 'function' ? {} : (paramsOrFn ?? {});
    const fn = typeof paramsOrFn === 'function' ? paramsOrFn : maybeFn;
    if (typeof fn !== 'function') throw new Error('ws.connect needs a callback');
    const id = nextId++;
    post({ kind: 'ws.open', id, url, headers: params.headers ?? {}, tags: { ...currentTags, ...(params.tags ?? {}) } });
    const mine = (x: HostMsg): boolean => 'id' in x && x.id === id;
    const first = nextMsg(Infinity, mine)!;
    if (first.kind !== 'ws.opened') {
      const f = first as Extract<HostMsg, { kind: 'ws.failed' }>;
      return { url, status: f.status, error: f.error, headers: {} };
    }
    const handlers = new Map<string, ((...a: unknown[]) => void)[]>();
    const emit = (ev: string, ...args: unknown[]): void => {
      for (const h of handlers.get(ev) ?? []) h(...args);
    };
    interface Timer {
      at: number;
      every: number;
      fn: () => void;
      id: number;
    }
    let timers: Timer[] = [];
    let timerId = 0;
    let closing = false;
    let closed = false;
    const socket = {
      on(ev: string, h: (...a: unknown[]) => void) {
        const l = handlers.get(ev) ?? [];
        l.push(h);
        handlers.set(ev, l);
      },
      send(data: string) {
        if (!closed) post({ kind: 'ws.send', id, data: String(data), binary: false });
      },
      sendBinary(data: ArrayBuffer) {
        if (!closed) post({ kind: 'ws.send', id, data, binary: true });
      },
      ping() {
        if (!closed) post({ kind: 'ws.ping', id });
      },
      close(code?: number) {
        if (closed || closing) return;
        closing = true;
        post({ kind: 'ws.close', id, code: code ?? 1000 });
      },
      setTimeout(f: () => void, ms: number) {
        timers.push({ at: performance.now() + ms, every: 0, fn: f, id: ++timerId });
        return timerId;
      },
      setInterval(f: () => void, ms: number) {
        timers.push({ at: performance.now() + ms, every: Math.max(1, ms), fn: f, id: ++timerId });
        return timerId;
      },
      clearTimeout(tid: number) {
        timers = timers.filter((t) => t.id !== tid);
      },
      clearInterval(tid: number) {
        timers = timers.filter((t) => t.id !== tid);
      },
    };
    const opened = first as Extract<HostMsg, { kind: 'ws.opened' }>;
    let interrupted = false;
    try {
      fn(socket);
      emit('open');
      wsLoop();
    } finally {
      // an exception out of a handler (or an interrupt) must not leave the socket open
      if (!closed && !closing) post({ kind: 'ws.close', id, code: 1001 });
    }
    if (interrupted) throw new Interrupt('stopped');
    return { url, status: opened.status, headers: opened.headers, error: '' };

    function wsLoop(): void {
      while (!closed) {
        if (stopped() && !closing) {
          interrupted = true;
          socket.close(1001);
        }
        const now = performance.now();
        const due = timers.filter((t) => t.at <= now);
        for (const t of due) {
          if (closed) break;
          if (t.every > 0) t.at = now + t.every;
          else timers = timers.filter((x) => x !== t);
          t.fn();
        }
        const nextAt = timers.length > 0 ? Math.min(...timers.map((t) => t.at)) : Infinity;
        const m = nextMsg(Math.max(0, Math.min(nextAt - performance.now(), stopped() ? 100 : 250)), mine);
        if (m === undefined) continue;
        switch (m.kind) {
          case 'ws.msg':
            emit(m.binary ? 'binaryMessage' : 'message', m.data);
            break;
          case 'ws.ping':
            emit('ping');
            break;
          case 'ws.pong':
            emit('pong');
            break;
          case 'ws.error':
            emit('error', { error: () => m.error });
            break;
          case 'ws.closed':
            closed = true;
            emit('close', m.code);
            break;
          default:
            break;
        }
      }
    }
  };

  const execution = {
    vu: {
      get idInTest() {
        return wd.vuId;
      },
      get iterationInScenario() {
        return scenarioIter;
      },
      get iterationInInstance() {
        return iter;
      },
    },
    scenario: {
      name: wd.scenario,
      get iterationInTest() {
        return scenarioIter;
      },
    },
  };

  const g = globalThis as any;
  g.__k6shim = {
    k6: { check, sleep, group, fail },
    'k6/metrics': { Counter, Gauge, Rate, Trend },
    'k6/http': httpModule,
    'k6/ws': { connect: wsConnect },
    'k6/execution': execution,
  };
  g.__ENV = { ...wd.env };
  g.__VU = wd.role === 'setup' ? 0 : wd.vuId;
  g.__ITER = 0;

  const iterationsMetric = new Counter('iterations');
  const iterationDuration = new Trend('iteration_duration', true);

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
        const m = nextMsg(Infinity, (x) => x.kind === 'teardown' || x.kind === 'stop');
        if (m?.kind === 'teardown') {
          currentTags = { scenario: 'teardown' };
          let terr: string | undefined;
          try {
            if (typeof mod.teardown === 'function') mod.teardown(m.data);
          } catch (err) {
            terr = String((err as Error)?.stack ?? err);
          }
          post({ kind: 'teardownDone', error: terr });
        }
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
        if (m === undefined || m.kind === 'stop') return;
        if (m.kind !== 'iterate') continue;
        iter = m.iter;
        scenarioIter = m.scenarioIter;
        g.__ITER = iter;
        const t0 = performance.now();
        let error: string | undefined;
        let interrupted = false;
        try {
          (fn as (d: unknown) => void)(wd.setupData);
        } catch (err) {
          if (err instanceof Interrupt) interrupted = true;
          else error = String((err as Error)?.stack ?? err);
        }
        const durationMs = performance.now() - t0;
        if (!interrupted) {
          iterationsMetric.add(1);
          iterationDuration.add(durationMs);
        }
        post({ kind: 'iterDone', error, interrupted, durationMs });
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
  k6: ['check', 'sleep', 'group', 'fail'],
  'k6/metrics': ['Counter', 'Gauge', 'Rate', 'Trend'],
  'k6/http': ['request', 'get', 'head', 'del', 'post', 'put', 'patch'],
  'k6/ws': ['connect'],
  'k6/execution': ['vu', 'scenario'],
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
    const m = metrics.get(name);
    if (m === undefined) return;
    m.samples.push({ v, tags });
  };
  for (const [n, t, time] of [
    ['checks', 'rate', false],
    ['iterations', 'counter', false],
    ['iteration_duration', 'trend', true],
    ['dropped_iterations', 'counter', false],
    ['http_reqs', 'counter', false],
    ['http_req_duration', 'trend', true],
    ['http_req_failed', 'rate', false],
    ['ws_sessions', 'counter', false],
    ['ws_connecting', 'trend', true],
    ['ws_session_duration', 'trend', true],
    ['ws_msgs_sent', 'counter', false],
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
    const finish = (status: number, body: string, headers: Record<string, string>, error: string): void => {
      const durationMs = performance.now() - t0;
      const t = { ...tags, status: String(status) };
      addSample('http_reqs', 1, t);
      addSample('http_req_duration', durationMs, t);
      addSample('http_req_failed', status >= 200 && status < 400 ? 0 : 1, t);
      toVu(vu, { kind: 'http.res', id: m.id, status, body, headers, durationMs, error });
    };
    let url: URL;
    try {
      url = new URL(m.url);
      if (url.protocol !== 'http:') throw new Error(`k6-shim supports http: URLs only (${m.url})`);
    } catch (err) {
      finish(0, '', {}, (err as Error).message);
      return;
    }
    const headers: Record<string, string | number> = { ...m.headers };
    if (m.body !== null) headers['Content-Length'] = Buffer.byteLength(m.body);
    const req = http.request(
      { host: url.hostname, port: url.port || 80, path: `${url.pathname}${url.search}`, method: m.method, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
          finish(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), h, '');
        });
        res.on('error', (err) => finish(0, '', {}, err.message));
      },
    );
    req.setTimeout(m.timeoutMs, () => req.destroy(new Error(`request timeout after ${m.timeoutMs} ms`)));
    req.on('error', (err) => finish(0, '', {}, err.message));
    req.end(m.body ?? undefined);
  };

  const doWsOpen = (vu: Vu, m: Extract<VuMsg, { kind: 'ws.open' }>): void => {
    const t0 = performance.now();
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
    const c = new WsClient({
      host: url.hostname,
      port: Number(url.port || 80),
      path: `${url.pathname}${url.search}`,
      protocols,
      headers,
    });
    vu.ws.set(m.id, c);
    let openedAt = 0;
    c.onopen = () => {
      openedAt = performance.now();
      addSample('ws_connecting', openedAt - t0, tags);
      addSample('ws_sessions', 1, tags);
      toVu(vu, { kind: 'ws.opened', id: m.id, status: 101, headers: c.responseHeaders });
    };
    c.onmessage = (data, binary) => {
      addSample('ws_msgs_received', 1, tags);
      const payload = binary ? new Uint8Array(data).slice().buffer : data.toString('utf8');
      toVu(vu, { kind: 'ws.msg', id: m.id, data: payload, binary });
    };
    c.onping = () => toVu(vu, { kind: 'ws.ping', id: m.id });
    c.onpong = () => toVu(vu, { kind: 'ws.pong', id: m.id });
    let lastError = '';
    c.onerror = (err) => {
      lastError = err.message;
      if (openedAt > 0) toVu(vu, { kind: 'ws.error', id: m.id, error: err.message });
    };
    c.onclose = (code) => {
      vu.ws.delete(m.id);
      if (openedAt === 0) {
        const status = /HTTP\/1\.[01] (\d{3})/.exec(lastError);
        toVu(vu, { kind: 'ws.failed', id: m.id, status: status ? Number(status[1]) : 0, error: lastError || `closed (${code})` });
        return;
      }
      addSample('ws_session_duration', performance.now() - t0, tags);
      toVu(vu, { kind: 'ws.closed', id: m.id, code });
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
        case 'ws.send': {
          const c = vu.ws.get(m.id);
          if (c !== undefined) {
            c.send(m.binary ? Buffer.from(m.data as ArrayBuffer) : (m.data as string), m.binary);
            addSample('ws_msgs_sent', 1, { scenario: vu.scenario });
          }
          break;
        }
        case 'ws.ping':
          vu.ws.get(m.id)?.ping();
          break;
        case 'ws.close':
          vu.ws.get(m.id)?.close(m.code);
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
    toVu(vu, { kind: 'iterate', iter: vu.iter++, scenarioIter: sc.iterations++ });
  };

  /** soft stop: let a busy VU finish within graceMs, then interrupt it */
  const hardStop = (vu: Vu): void => {
    Atomics.store(vu.sig, 1, 1);
    Atomics.notify(vu.sig, 1);
    Atomics.add(vu.sig, 0, 1);
    Atomics.notify(vu.sig, 0);
  };
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
        const stages: { durationMs: number; target: number }[] =
          sc.executor === 'constant-vus'
            ? [{ durationMs: parseDuration(raw.duration), target: raw.vus ?? 1 }]
            : (raw.stages ?? []).map((s: any) => ({ durationMs: parseDuration(s.duration), target: s.target }));
        const startVUs = sc.executor === 'constant-vus' ? (raw.vus ?? 1) : (raw.startVUs ?? 1);
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
              void waitIdle(vu, rampDownMs).then(() => {
                Atomics.store(vu.sig, 1, 0);
              });
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
        const unit = parseDuration(raw.timeUnit, 1000);
        const stages: { durationMs: number; target: number }[] =
          sc.executor === 'constant-arrival-rate'
            ? [{ durationMs: parseDuration(raw.duration), target: raw.rate }]
            : (raw.stages ?? []).map((s: any) => ({ durationMs: parseDuration(s.duration), target: s.target }));
        const startRate = sc.executor === 'constant-arrival-rate' ? raw.rate : (raw.startRate ?? 0);
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
        let started = 0;
        const maxVUs = Math.max(raw.maxVUs ?? sc.vus.length, sc.vus.length);
        let growing = 0;
        while (elapsed() < total) {
          const need = Math.floor(due(elapsed())) + 1; // iteration k starts at the k-th arrival, the first at 0
          while (started < need) {
            const vu = sc.vus.find((v) => v.state === 'idle');
            started++;
            if (vu !== undefined) {
              vu.onIdle = null;
              iterate(vu, sc);
            } else {
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
      case 'per-vu-iterations':
      case 'shared-iterations': {
        const maxMs = parseDuration(raw.maxDuration, 600000);
        let remaining = sc.executor === 'shared-iterations' ? (raw.iterations ?? 1) : Infinity;
        const perVu = raw.iterations ?? 1;
        await new Promise<void>((resolve) => {
          let live = sc.vus.length;
          const deadline = setTimeout(() => {
            for (const vu of sc.vus) hardStop(vu);
          }, maxMs);
          for (const vu of sc.vus) {
            let mine = 0;
            const next = (): void => {
              const more = sc.executor === 'shared-iterations' ? remaining > 0 : mine < perVu;
              if (more && vu.state === 'idle' && elapsed() < maxMs) {
                mine++;
                remaining--;
                iterate(vu, sc);
              } else if (vu.state !== 'busy') {
                vu.onIdle = null;
                if (--live === 0) {
                  clearTimeout(deadline);
                  resolve();
                }
              }
            };
            vu.onIdle = next;
            next();
          }
          if (live === 0) resolve();
        });
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

    // scenarios (or the top-level shortcuts)
    let rawScenarios: Record<string, any> = options.scenarios ?? {};
    if (Object.keys(rawScenarios).length === 0) {
      if (options.stages) rawScenarios = { default: { executor: 'ramping-vus', startVUs: options.vus ?? 1, stages: options.stages } };
      else if (options.duration) rawScenarios = { default: { executor: 'constant-vus', vus: options.vus ?? 1, duration: options.duration } };
      else rawScenarios = { default: { executor: 'per-vu-iterations', vus: options.vus ?? 1, iterations: options.iterations ?? 1 } };
    }
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
    // teardown
    const teardownDone = new Promise<void>((resolve) => {
      setupVu.port.on('message', (m: VuMsg) => {
        if (m.kind === 'teardownDone') {
          if (m.error !== undefined) pushError(`teardown() failed: ${m.error}`);
          resolve();
        }
      });
    });
    toVu(setupVu, { kind: 'teardown', data: setupData });
    await teardownDone;
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
      case 'value':
        return xs.length === 0 ? NaN : xs[xs.length - 1];
      case 'passes':
        return sum;
      case 'fails':
        return xs.length - sum;
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
  const thresholds: ThresholdResult[] = [];
  for (const [key, list] of Object.entries((options.thresholds ?? {}) as Record<string, unknown[]>)) {
    const { name, tags } = parseKey(key);
    for (const item of list) {
      const expr = typeof item === 'string' ? item : String((item as { threshold: string }).threshold);
      const m = /^\s*(avg|min|max|med|count|rate|value|p\(\d+(?:\.\d+)?\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(expr);
      if (m === null) {
        thresholds.push({ metric: key, expr, ok: false, value: NaN, noData: false });
        pushError(`unsupported threshold ${key}: ${expr}`);
        continue;
      }
      const sel = select(name, tags);
      const noData = sel.values.length === 0 && sel.type !== 'counter';
      const v = stat(name, m[1], tags);
      const lim = Number(m[3]);
      const cmp: Record<string, (a: number, b: number) => boolean> = {
        '<': (a, b) => a < b,
        '<=': (a, b) => a <= b,
        '>': (a, b) => a > b,
        '>=': (a, b) => a >= b,
        '==': (a, b) => a === b,
        '===': (a, b) => a === b,
        '!=': (a, b) => a !== b,
      };
      // like k6, a threshold on a metric without samples does not fail the run
      thresholds.push({ metric: key, expr, value: v, noData, ok: noData || cmp[m[2]](v, lim) });
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

  const result: K6RunResult = {
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
        else if (m.type === 'counter') text = `${stat(name, 'count')} (${stat(name, 'rate').toFixed(2)}/s)`;
        else text = String(stat(name, 'value'));
        lines.push(`  ${name.padEnd(32, '.')} ${text}`);
      }
      lines.push('');
      for (const t of thresholds) lines.push(`  ${t.ok ? '✓' : '✗'} ${t.metric}: ${t.expr} (${Number.isNaN(t.value) ? 'no data' : t.value.toFixed(3)})`);
      for (const e of errors) lines.push(`  error: ${e.split('\n')[0]}`);
      lines.push(`  iterations: ${JSON.stringify(iterations)}, dropped: ${droppedIterations}, ${(runMs / 1000).toFixed(1)} s`);
      return lines.join('\n');
    },
  };
  return result;
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
