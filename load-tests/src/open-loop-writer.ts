/**
 * The benchmarks' writer: open loop (write i is sent at t0 + i/rate whatever the server's latency),
 * each patch carrying the writer's wall-clock timestamp `t` and index `n` for the receivers'
 * latency measurement, over one keep-alive agent. Shared by bench.ts and bench-cluster.ts.
 */
import * as http from 'node:http';
import { Histogram, wallMs } from './histogram.js';

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

export function post(port: number, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
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

export async function writeAtRate(
  port: number,
  doc: string,
  rate: number,
  durationS: number,
  firstN: number,
  /** e.g. an Authorization header for a server with auth on */
  headers: Record<string, string> = {},
): Promise<WriteResult> {
  const total = Math.round(rate * durationS);
  const interval = 1000 / rate;
  const maxInflight = 256;
  const r: WriteResult = { sent: 0, acked: 0, failed: 0, skipped: 0, firstError: null, ack: new Histogram(), elapsedS: 0 };
  let inflight = 0;
  const pending = new Set<Promise<void>>();
  const path = `/v1/docs/${doc}`;
  const send = (n: number): void => {
    const t = wallMs();
    inflight++;
    r.sent++;
    const p = post(port, path, `{"t":${t.toFixed(3)},"n":${n}}`, headers).then(
      (res) => {
        if (res.status === 200 && /^\{"seq":"\d+"\}$/.test(res.body.trim())) {
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
