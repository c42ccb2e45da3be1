/**
 * Docs and dashboard match the code: every `replicant_*` name the Grafana dashboard
 * (deploy/grafana/replicant.json) queries is defined by a tier or is a process metric, and
 * docs/operations.md lists every setting of the config table and every metric.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { SETTINGS, flagOf } from '../src/config.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

function definedNames(): Set<string> {
  const out = new Set<string>();
  for (const dir of ['stream/src', 'stream/src/kafka', 'origin/src', 'fanout/src', 'gateway/src'].map((d) => join(ROOT, d))) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/name: '(replicant_[a-z0-9_]+)'/g)) out.add(m[1]);
    }
  }
  return out;
}

test('every metric the dashboard queries is defined', async () => {
  const dash = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'replicant.json'), 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const defined = definedNames();
  const r = new Registry();
  collectDefaultMetrics({ register: r, prefix: 'replicant_process_' });
  for (const m of await r.getMetricsAsJSON()) defined.add(m.name);
  let queried = 0;
  for (const p of dash.panels) {
    for (const t of p.targets ?? []) {
      for (const [name] of t.expr.matchAll(/replicant_[a-z0-9_]+/g)) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        assert.ok(defined.has(name) || defined.has(base), `panel "${p.title}" queries ${name}, which no tier defines`);
        queried++;
      }
    }
  }
  assert.ok(queried >= 25, `the dashboard queries ${queried} metrics`);
});

test('docs/operations.md lists every setting of the config table and every metric a tier defines', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
  for (const [k, s] of Object.entries(SETTINGS)) {
    assert.ok(doc.includes(`| \`${s.env}\` | \`--${flagOf(k as keyof typeof SETTINGS)}\` |`), `${s.env} is missing from the settings table`);
  }
  for (const name of definedNames()) assert.ok(doc.includes(name), `metric ${name} is not documented`);
});
