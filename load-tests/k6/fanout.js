/* global __ENV, __VU, __ITER */
/**
 * k6 fan-out scenario for Replicant: many WebSocket subscribers of ONE document while a writer
 * POSTs merge patches at a constant rate. Every subscriber checks the stream invariants:
 *   - seq strictly increases (decimal strings, compared without losing 64-bit precision);
 *   - every delta's prevSeq is the seq of the frame before it (snapshot or delta): no gap, no duplicate;
 *   - sessions end after SESSION_MS and the VU resubscribes with `lastSeq` (resume), so the chain is
 *     checked across reconnects too;
 * and records write→receive latency from the writer's timestamp embedded in the patch (`t`).
 *
 *   k6 run load-tests/k6/fanout.js
 *   k6 run -e BASE_URL=http://127.0.0.1:8080 -e SUBSCRIBERS=500 -e WRITE_RATE=20 -e HOLD=2m load-tests/k6/fanout.js
 *
 * Env: BASE_URL (http://127.0.0.1:8080), WS_URL (derived), DOC (default: a fresh doc per run),
 * SUBSCRIBERS (100), WRITE_RATE writes/s (10), RAMP (10s), HOLD (60s), SESSION_MS (20000), TOKEN.
 */
import http from 'k6/http';
import ws from 'k6/ws';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { DECIMAL, parseJson, seqGt } from './lib.js';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const WS_URL = __ENV.WS_URL || `${BASE_URL.replace(/^http/, 'ws')}/v1/stream`;
const SUBSCRIBERS = parseInt(__ENV.SUBSCRIBERS || '100', 10);
const WRITE_RATE = parseInt(__ENV.WRITE_RATE || '10', 10);
const RAMP = __ENV.RAMP || '10s';
const HOLD = __ENV.HOLD || '60s';
const SESSION_MS = parseInt(__ENV.SESSION_MS || '20000', 10);
const TOKEN = __ENV.TOKEN || '';

export const options = {
  scenarios: {
    subscribers: {
      executor: 'ramping-vus',
      exec: 'subscriber',
      startVUs: 0,
      stages: [
        { duration: RAMP, target: SUBSCRIBERS },
        { duration: HOLD, target: SUBSCRIBERS },
      ],
      gracefulRampDown: '5s',
      gracefulStop: '5s',
    },
    writer: {
      executor: 'constant-arrival-rate',
      exec: 'writer',
      startTime: RAMP,
      duration: HOLD,
      rate: WRITE_RATE,
      timeUnit: '1s',
      preAllocatedVUs: Math.max(2, Math.ceil(WRITE_RATE / 20)),
      maxVUs: Math.max(10, WRITE_RATE),
    },
  },
  thresholds: {
    checks: ['rate>0.999'],
    replicant_seq_regressions: ['count==0'],
    replicant_gaps: ['count==0'],
    replicant_deltas: ['count>0'],
    replicant_delta_latency: ['p(50)<200', 'p(99)<2000'],
    'http_req_duration{scenario:writer}': ['p(99)<1000'],
    'http_req_failed{scenario:writer}': ['rate<0.01'],
  },
};

const deltas = new Counter('replicant_deltas');
const snapshots = new Counter('replicant_snapshots');
const seqRegressions = new Counter('replicant_seq_regressions');
const gaps = new Counter('replicant_gaps');
const goaways = new Counter('replicant_goaways');
const errorFrames = new Counter('replicant_error_frames');
const latency = new Trend('replicant_delta_latency', true);

/** @typedef {{ doc: string }} Data what setup() returns to every VU */

/** @returns {Data} */
export function setup() {
  const doc = __ENV.DOC || `k6-fanout-${Date.now()}`;
  const res = http.get(`${BASE_URL}/v1/docs/${doc}`);
  check(res, { 'GET doc answers 200': (r) => r.status === 200 });
  return { doc };
}

// per-VU state: it survives iterations, so a reconnecting subscriber resumes from its last seq
/** @type {string | null} */
let lastSeq = null;

/** @param {Data} data */
export function subscriber(data) {
  const url = TOKEN ? `${WS_URL}?token=${encodeURIComponent(TOKEN)}` : WS_URL;
  const params = { headers: { 'Sec-WebSocket-Protocol': 'replicant.v1.json' }, tags: { name: 'stream' } };
  const res = ws.connect(url, params, (socket) => {
    socket.on('open', () => {
      /** @type {{ type: 'subscribe', doc: string, lastSeq?: string }} */
      const sub = { type: 'subscribe', doc: data.doc };
      if (lastSeq !== null) sub.lastSeq = lastSeq;
      socket.send(JSON.stringify(sub));
    });
    socket.on('message', (text) => {
      const parsed = parseJson(text);
      if (!parsed.ok) {
        check(text, { 'frame is JSON': () => false });
        return;
      }
      const f = parsed.value;
      if (f.doc !== undefined && f.doc !== data.doc) return;
      if (f.type === 'snapshot') {
        snapshots.add(1);
        check(f, {
          'snapshot seq is decimal': (x) => typeof x.seq === 'string' && DECIMAL.test(x.seq),
          'snapshot is not behind the last seq': (x) => lastSeq === null || !seqGt(lastSeq, x.seq),
        });
        lastSeq = f.seq;
      } else if (f.type === 'delta') {
        deltas.add(1);
        const increases = lastSeq === null || seqGt(f.seq, lastSeq);
        const chains = lastSeq === null || f.prevSeq === lastSeq;
        if (!increases) seqRegressions.add(1);
        else if (!chains) gaps.add(1);
        check(f, {
          'delta seq increases': () => increases,
          'delta prevSeq chains to the previous seq': () => chains,
        });
        if (f.patch && typeof f.patch.t === 'number') latency.add(Date.now() - f.patch.t);
        lastSeq = f.seq;
      } else if (f.type === 'goaway') {
        goaways.add(1);
        socket.close();
      } else if (f.type === 'error') {
        errorFrames.add(1);
        check(f, { 'no error frame': () => false });
      }
    });
    socket.setTimeout(() => socket.close(), SESSION_MS);
  });
  check(res, { 'WebSocket handshake 101': (r) => r && r.status === 101 });
}

// per writer VU: its writes are sequential, so their seqs must increase
/** @type {string | null} */
let lastWriteSeq = null;

/** @param {Data} data */
export function writer(data) {
  const body = JSON.stringify({ t: Date.now(), n: __ITER, vu: __VU });
  const res = http.post(`${BASE_URL}/v1/docs/${data.doc}`, body, {
    headers: { 'Content-Type': 'application/merge-patch+json' },
    tags: { name: 'POST /v1/docs/:doc' },
  });
  const parsed = parseJson(res.body);
  const seq = parsed.ok && parsed.value !== null ? parsed.value.seq : undefined;
  check(res, {
    'write answers 200': (r) => r.status === 200,
    'write returns a decimal seq': () => typeof seq === 'string' && DECIMAL.test(seq),
  });
  if (typeof seq === 'string') {
    check(seq, { 'write seq increases per writer': (s) => lastWriteSeq === null || seqGt(s, lastWriteSeq) });
    lastWriteSeq = seq;
  }
}
