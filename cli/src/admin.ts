/**
 * Operational endpoints: `/metrics` (Prometheus text of this process's registry: the tiers it runs
 * plus `replicant_process_*`), `/healthz` (the process is alive) and `/readyz` (it can serve:
 * backends reachable, not draining).
 *
 * A public port (gateway, origin) serves `/metrics` only when the process has no `ADMIN_PORT`: with
 * one, metrics (node ids, counts, topology) stay on the admin port, which operators keep private.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import { enableProcessMetrics, processMetrics as register } from '@replicant/stream';

export interface AdminHooks {
  ready: () => boolean;
  /** refresh scrape-time metrics before rendering */
  beforeScrape?: () => void;
}

export function registerAdmin(app: TemplatedApp, hooks: AdminHooks, o: { metrics: boolean } = { metrics: true }): void {
  enableProcessMetrics();
  app.get('/healthz', (res) => {
    res.writeHeader('Content-Type', 'application/json').end('{"status":"ok"}');
  });
  app.get('/readyz', (res) => {
    const ok = hooks.ready();
    res.writeStatus(ok ? '200 OK' : '503 Service Unavailable').writeHeader('Content-Type', 'application/json').end(ok ? '{"ready":true}' : '{"ready":false}');
  });
  if (!o.metrics) return;
  app.get('/metrics', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    hooks.beforeScrape?.();
    void register.metrics().then(
      (text) => {
        if (aborted) return;
        res.cork(() => {
          res.writeHeader('Content-Type', register.contentType).end(text);
        });
      },
      (err: Error) => {
        if (aborted) return;
        res.cork(() => {
          res.writeStatus('500 Internal Server Error').end(String(err.message));
        });
      },
    );
  });
}
