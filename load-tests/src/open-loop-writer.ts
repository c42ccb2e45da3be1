/**
 * The benchmarks' writer: open loop (write i is sent at t0 + i/rate whatever the server's latency),
 * each patch carrying the writer's wall-clock timestamp `t` and index `n` for the receivers'
 * latency measurement, over one keep-alive agent. Shared by bench.ts and bench-cluster.ts; its
 * `post` is also bench-writes' (closed-loop) write and the peer tests'.
 * Where the write goes is a `Publisher`: Replicant's `POST /v1/docs/{doc}` by default, or a peer's
 * own API (Centrifugo's `/api/publish`) with the same patch as its payload.
 */
import * as http from 'node:http';
import { Histogram, wallMs } from './histogram.js';
import { round } from './report.js';

export interface WriteResult {
  sent: number;
  acked: number;
  failed: number;
  /** not sent because maxInflight writes were already waiting (the server fell behind) */
  skipped: number;
  firstError: string | null;
  ack: Histogram;
  elapsedS: number;
}

export const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** How one write of patch `{"t":…,"n":…}` reaches a server under test. */
export interface Publisher {
  port: number;
  /** request path of a write to `doc` */
  path(doc: string): string;
  /** the request body carrying `patchJson` (write index `n`) for `doc` */
  body(doc: string, patchJson: string, n: number): string;
  /** extra request headers (e.g. an API key) */
  headers?: Record<string, string>;
  /** true when the response acknowledges the write */
  acked(status: number, body: string): boolean;
}

/** Replicant's write contract (also served by the bare ceiling and the Node peers) */
export function replicantPublisher(port: number): Publisher {
  return {
    port,
    path: (doc) => `/v1/docs/${doc}`,
    body: (_doc, patchJson) => patchJson,
    acked: (status, body) => status === 200 && /^\{"seq":"\d+"\}$/.test(body.trim()),
  };
}

/** one write through `p` (`n`: its write index, for publishers that route by it) */
export function publish(p: Publisher, doc: string, patchJson: string, n = 0, via: http.Agent = agent): Promise<{ status: number; body: string }> {
  return post(p.port, p.path(doc), p.body(doc, patchJson, n), p.headers, via);
}

/** The one HTTP write of the benches: POST `body` to 127.0.0.1:`port``path` over `via` (keep-alive), 30 s timeout. */
export function post(port: number, path: string, body: string, headers: Record<string, string> = {}, via: http.Agent = agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: via,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(30000, () => req.destroy(new Error('write timed out after 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

export interface WriteOptions {
  /** writes in flight (sent or queued in the agent) at most; past it a due write is skipped (default 256) */
  maxInflight?: number;
  /** keep-alive agent (default `agent`: 64 sockets) */
  via?: http.Agent;
}

/** `target`: a port speaking Replicant's write contract, or any Publisher */
export async function writeAtRate(target: number | Publisher, doc: string, rate: number, durationS: number, firstN: number, o: WriteOptions = {}): Promise<WriteResult> {
  const pub = typeof target === 'number' ? replicantPublisher(target) : target;
  const total = Math.round(rate * durationS);
  const interval = 1000 / rate;
  const maxInflight = o.maxInflight ?? 256;
  const via = o.via ?? agent;
  const r: WriteResult = { sent: 0, acked: 0, failed: 0, skipped: 0, firstError: null, ack: new Histogram(), elapsedS: 0 };
  let inflight = 0;
  const pending = new Set<Promise<void>>();
  const send = (n: number): void => {
    const t = wallMs();
    inflight++;
    r.sent++;
    const p = publish(pub, doc, `{"t":${t.toFixed(3)},"n":${n}}`, n, via).then(
      (res) => {
        if (pub.acked(res.status, res.body)) {
          r.acked++;
          r.ack.record(wallMs() - t);
        } else {
          r.failed++;
          r.firstError ??= `HTTP ${res.status} ${res.body.slice(0, 200)}`;
        }
      },
      (err: Error) => {
        r.failed++;
        r.firstError ??= err.message;
      },
    );
    const tracked = p.finally(() => {
      inflight--;
      pending.delete(tracked);
    });
    pending.add(tracked);
  };
  const t0 = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (i < total && t0 + i * interval <= now) {
        if (inflight >= maxInflight) r.skipped++;
        else send(firstN + i);
        i++;
      }
      if (i >= total) return resolve();
      setTimeout(tick, Math.max(0, t0 + i * interval - performance.now()));
    };
    tick();
  });
  await Promise.all([...pending]);
  r.elapsedS = (performance.now() - t0) / 1000;
  return r;
}

/** A run's writes as the benches report them (flat fields of every result in BENCH_JSON). */
export interface WriteCounts {
  writeRate: number;
  durationS: number;
  writesSent: number;
  writesAcked: number;
  writesFailed: number;
  writesSkipped: number;
  firstWriteError: string | null;
  writeAckMs: { p50: number; p99: number };
}

export function writeCounts(w: WriteResult, rate: number, durationS: number): WriteCounts {
  return {
    writeRate: rate,
    durationS,
    writesSent: w.sent,
    writesAcked: w.acked,
    writesFailed: w.failed,
    writesSkipped: w.skipped,
    firstWriteError: w.firstError,
    writeAckMs: { p50: round(w.ack.quantile(0.5)), p99: round(w.ack.quantile(0.99)) },
  };
}
