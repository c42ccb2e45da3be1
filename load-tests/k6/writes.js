/* global __ENV, __VU, __ITER */
/**
 * k6 write-path scenario for Replicant: a ramping arrival rate of merge-patch POSTs over DOCS
 * documents, plus a trickle of invalid requests that must be refused with a 4xx and an error body
 * (invariant 4: bad input never takes the process down).
 *   - every acknowledged write returns `{"seq":"<decimal>"}`;
 *   - per VU and document, acknowledged seqs strictly increase (writes of one VU are sequential);
 *   - each write carries a unique Idempotency-Key.
 *
 *   k6 run load-tests/k6/writes.js
 *   k6 run -e BASE_URL=http://127.0.0.1:8080 -e RATE=500 -e DOCS=1000 -e HOLD=2m load-tests/k6/writes.js
 *
 * Env: BASE_URL (http://127.0.0.1:8080), RATE writes/s at the plateau (100), DOCS (100),
 * RAMP (10s), HOLD (60s), BAD_RATE invalid requests/s (2).
 */
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { DECIMAL, parseJson, seconds, seqGt } from './lib.js';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const RATE = parseInt(__ENV.RATE || '100', 10);
const DOCS = parseInt(__ENV.DOCS || '100', 10);
const RAMP = __ENV.RAMP || '10s';
const HOLD = __ENV.HOLD || '60s';
const BAD_RATE = parseInt(__ENV.BAD_RATE || '2', 10);

export const options = {
  scenarios: {
    writes: {
      executor: 'ramping-arrival-rate',
      exec: 'write',
      startRate: 1,
      timeUnit: '1s',
      preAllocatedVUs: Math.max(4, Math.ceil(RATE / 10)),
      maxVUs: Math.max(20, RATE),
      stages: [
        { duration: RAMP, target: RATE },
        { duration: HOLD, target: RATE },
      ],
    },
    bad_input: {
      executor: 'constant-arrival-rate',
      exec: 'badInput',
      rate: BAD_RATE,
      timeUnit: '1s',
      duration: `${seconds(RAMP) + seconds(HOLD)}s`,
      preAllocatedVUs: 1,
      maxVUs: 4,
    },
  },
  thresholds: {
    'http_req_duration{scenario:writes}': ['p(95)<250', 'p(99)<1000'],
    'http_req_failed{scenario:writes}': ['rate<0.01'],
    'checks{scenario:writes}': ['rate>0.99'],
    'checks{scenario:bad_input}': ['rate==1'],
    replicant_write_seq_regressions: ['count==0'],
    replicant_writes_acked: ['count>0'],
  },
};

const acked = new Counter('replicant_writes_acked');
const regressions = new Counter('replicant_write_seq_regressions');
const ackLatency = new Trend('replicant_write_ack', true);

/** @typedef {{ prefix: string }} Data what setup() returns to every VU */

/** @returns {Data} */
export function setup() {
  const prefix = __ENV.DOC_PREFIX || `k6-writes-${Date.now()}`;
  const res = http.get(`${BASE_URL}/v1/docs/${prefix}-0`);
  const parsed = parseJson(res.body);
  check(res, {
    'never-written doc has seq 0': (r) => r.status === 200 && parsed.ok && parsed.value.seq === '0',
  });
  return { prefix };
}

// per VU: last acknowledged seq per doc
/** @type {Record<string, string>} */
const lastSeq = {};

/** @param {Data} data */
export function write(data) {
  const doc = `${data.prefix}-${Math.floor(Math.random() * DOCS)}`;
  const t = Date.now();
  const res = http.post(`${BASE_URL}/v1/docs/${doc}`, JSON.stringify({ t, n: __ITER, [`vu${__VU}`]: __ITER }), {
    headers: { 'Content-Type': 'application/merge-patch+json', 'Idempotency-Key': `k6-${__VU}-${__ITER}-${t}` },
    tags: { name: 'POST /v1/docs/:doc' },
  });
  const parsed = parseJson(res.body);
  const seq = parsed.ok && parsed.value !== null ? parsed.value.seq : undefined;
  const ok = check(res, {
    'write answers 200': (r) => r.status === 200,
    'write returns a decimal seq': () => typeof seq === 'string' && DECIMAL.test(seq),
  });
  if (!ok) return;
  acked.add(1);
  ackLatency.add(Date.now() - t);
  const prev = lastSeq[doc];
  const increases = prev === undefined || seqGt(seq, prev);
  if (!increases) regressions.add(1);
  check(seq, { 'acked seq increases per doc and writer': () => increases });
  lastSeq[doc] = seq;
}

const BAD = [
  { name: 'invalid JSON', doc: 'k6-bad', body: '{"t":' },
  { name: 'array patch', doc: 'k6-bad', body: '[1,2,3]' },
  { name: 'invalid doc id', doc: '-bad', body: '{"a":1}' },
];

export function badInput() {
  const b = BAD[__ITER % BAD.length];
  const res = http.post(`${BASE_URL}/v1/docs/${b.doc}`, b.body, {
    headers: { 'Content-Type': 'application/json' },
    tags: { name: `bad: ${b.name}` },
  });
  const parsed = parseJson(res.body);
  const code = parsed.ok && parsed.value !== null && parsed.value.error ? parsed.value.error.code : undefined;
  check(res, {
    [`${b.name} is refused with 4xx`]: (r) => r.status >= 400 && r.status < 500,
    [`${b.name} has an error code`]: () => typeof code === 'string' && code.length > 0,
  });
}
