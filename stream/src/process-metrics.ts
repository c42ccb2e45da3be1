/**
 * The one way to register metrics. Each tier declares its metric set with `defineMetrics`; the set
 * is created in the process registry (`processMetrics`) the first time a tier instance asks for it
 * (in its constructor), so a process exposes only the tiers it runs: a gateway shows no replica or
 * origin series, and never a tier's metrics as zeros it does not run. Several instances of a tier
 * in one process (tests, `dev`) share the same set.
 *
 * Hot paths count with plain numbers and publish at scrape time (a gauge's `collect`, or a counter
 * advanced by the difference since the last scrape), so recording costs nothing per message.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from 'prom-client';

/** the registry `/metrics` renders: this process's tiers plus process metrics (`replicant_process_`) */
export const processMetrics = new Registry();
let defaultsOn = false;

/** process CPU, memory, event-loop lag and GC, once per process */
export function enableProcessMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  collectDefaultMetrics({ register: processMetrics, prefix: 'replicant_process_' });
}

export interface MetricFactory {
  counter<L extends string>(c: Omit<CounterConfiguration<L>, 'registers'>): Counter<L>;
  gauge<L extends string>(c: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L>;
  histogram<L extends string>(c: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L>;
}

/** latency buckets in seconds, 0.5 ms to 10 s */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Declares a tier's metric set. The returned function creates it in `registry` (default: the
 * process registry) on first call and returns the same set afterwards.
 */
export function defineMetrics<M>(build: (f: MetricFactory) => M): (registry?: Registry) => M {
  const made = new WeakMap<Registry, M>();
  return (registry = processMetrics) => {
    let m = made.get(registry);
    if (m === undefined) {
      const registers = [registry];
      m = build({
        counter: (c) => new Counter({ ...c, registers }),
        gauge: (c) => new Gauge({ ...c, registers }),
        histogram: (c) => new Histogram({ ...c, registers }),
      });
      made.set(registry, m);
    }
    return m;
  };
}
