/**
 * Server-side rendering of a useDoc component with react-dom/server: no window, no socket opened,
 * no subscription made during render; the empty never-written view is rendered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { connect } from '@replicant/sdk';
import { ReplicantProvider, useDoc } from '../src/index.js';
import { Counter } from './counter.js';

test('SSR renders a useDoc component without window and without subscribing', async () => {
  assert.equal(typeof (globalThis as { window?: unknown }).window, 'undefined');
  // a client whose server does not exist: rendering must not need it
  const client = connect('ws://127.0.0.1:9/v1/stream', { backoff: { initialMs: 10_000, maxMs: 10_000 } });
  try {
    const html = renderToString(h(ReplicantProvider, { client }, h(Counter, { doc: 'ssr-doc' })));
    assert.match(html, /<span id="count">0<\/span>/);
    assert.match(html, /<span id="seq">0<\/span>/);
    assert.match(html, /<span id="pending">0<\/span>/);
    assert.equal((client as unknown as { docs: Map<string, unknown> }).docs.size, 0, 'render subscribed to nothing');
  } finally {
    await client.close();
  }
  // without a client at all
  const html = renderToString(h(ReplicantProvider, { client: null }, h(Counter, { doc: 'x' })));
  assert.match(html, /<span id="status">connecting<\/span>/);
});

test('useDoc outside a provider with a client: publish rejects with a clear error', async () => {
  let publish: ((p: { a: number }) => Promise<bigint>) | undefined;
  function Probe() {
    publish = useDoc('d').publish;
    return null;
  }
  renderToString(h(Probe));
  await assert.rejects(publish!({ a: 1 }), /no client in ReplicantProvider/);
});
