/**
 * Dependencies point one way: no import cycle among the modules of any package (e.g. fanout's
 * delta.ts <-> link-codec.ts, which there was), and no package imports one above it
 * (protocol <- origin <- fanout <- gateway <- cli).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;
const ORDER = ['protocol', 'origin', 'fanout', 'gateway', 'cli'];

function sources(pkg: string): string[] {
  const dir = join(ROOT, pkg, 'src');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.includes('generated'))
    .map((f) => join(dir, f));
}

const IMPORT = /^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm;

test('no import cycle inside a package', () => {
  for (const pkg of [...ORDER, 'sdk']) {
    const graph = new Map<string, string[]>();
    for (const f of sources(pkg)) {
      const deps: string[] = [];
      for (const m of readFileSync(f, 'utf8').matchAll(IMPORT)) {
        if (m[0].startsWith('import type') || m[0].startsWith('export type')) continue; // erased at compile time
        if (m[1].startsWith('.')) deps.push(resolve(dirname(f), m[1].replace(/\.js$/, '.ts')));
      }
      graph.set(f, deps);
    }
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') assert.fail(`import cycle in ${pkg}: ${[...path.slice(path.indexOf(f)), f].map((p) => p.slice(ROOT.length)).join(' -> ')}`);
      state.set(f, 'open');
      for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
  }
});

test('no package imports a package above it', () => {
  for (const [i, pkg] of ORDER.entries()) {
    const above = ORDER.slice(i + 1);
    for (const f of sources(pkg)) {
      for (const m of readFileSync(f, 'utf8').matchAll(IMPORT)) {
        const target = /^@replicant\/([a-z-]+)/.exec(m[1])?.[1];
        assert.ok(!target || !above.includes(target), `${f.slice(ROOT.length)} imports @replicant/${target}, which depends on ${pkg}`);
      }
    }
  }
});
