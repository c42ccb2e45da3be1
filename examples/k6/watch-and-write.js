/* global __ENV, __VU */
/**
 * A k6 run to copy from: VIEWERS virtual users watch one document over the WebSocket stream while
 * a writer posts merge patches to it at WRITES_PER_S; k6 reports how long a write takes to reach
 * the viewers (`write_to_view_ms`) and fails the run when a viewer sees an error frame or a delta
 * that does not follow the seq it holds.
 *
 *   with k6:          k6 run -e BASE_URL=http://127.0.0.1:8080 examples/k6/watch-and-write.js
 *   in this repo:     npm run k6 -- examples/k6/watch-and-write.js -e BASE_URL=http://127.0.0.1:8080
 *
 * `npm run k6` is the repo's own Node emulation of k6 (load-tests/src/k6-shim.ts), which runs the
 * same script unchanged; k6 itself (AGPL) is never built or shipped here. `npm test` type-checks
 * this file against @types/k6 (tsconfig.json here); the JSDoc types are for that, k6 ignores them.
 * Start a server first: `npx replicant dev`.
 *
 * Env: BASE_URL (http://127.0.0.1:8080), DOC (k6-example), VIEWERS (10), WRITES_PER_S (5),
 * DURATION (30s), SESSION_MS (10000: each viewer reconnects after this long), TOKEN (a JWT with
 * `read` and `write` on DOC, when the server has auth on).
 */
import http from 'k6/http';
import ws from 'k6/ws';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const DOC = __ENV.DOC || 'k6-example';
const VIEWERS = Number(__ENV.VIEWERS || 10);
const WRITES_PER_S = Number(__ENV.WRITES_PER_S || 5);
const DURATION = __ENV.DURATION || '30s';
const SESSION_MS = Number(__ENV.SESSION_MS || 10000);
const TOKEN = __ENV.TOKEN || '';

export const options = {
  scenarios: {
    viewers: { executor: 'constant-vus', exec: 'view', vus: VIEWERS, duration: DURATION },
    writer: { executor: 'constant-arrival-rate', exec: 'write', rate: WRITES_PER_S, timeUnit: '1s', duration: DURATION, preAllocatedVUs: 2 },
  },
  thresholds: {
    write_to_view_ms: ['p(95)<1000'],
    views_updated: ['count>0'],
    stream_errors: ['count==0'],
    'http_req_failed{scenario:writer}': ['rate<0.01'],
  },
};

const viewsUpdated = new Counter('views_updated');
const streamErrors = new Counter('stream_errors');
const writeToView = new Trend('write_to_view_ms', true);

export function view() {
  const url = `${BASE_URL.replace(/^http/, 'ws')}/v1/stream${TOKEN ? `?token=${encodeURIComponent(TOKEN)}` : ''}`;
  const res = ws.connect(url, { headers: { 'Sec-WebSocket-Protocol': 'replicant.v1.json' } }, (socket) => {
    /** @type {string | null} */
    let held = null; // the seq of the state this viewer shows
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', doc: DOC })));
    socket.on('message', (text) => {
      const frame = JSON.parse(text);
      if (frame.type === 'snapshot') {
        held = frame.seq;
      } else if (frame.type === 'delta') {
        check(frame, { 'delta follows the seq the viewer holds': (f) => f.prevSeq === held });
        held = frame.seq;
        viewsUpdated.add(1);
        if (typeof frame.patch.sentAt === 'number') writeToView.add(Date.now() - frame.patch.sentAt);
      } else if (frame.type === 'error') {
        streamErrors.add(1);
      }
    });
    socket.setTimeout(() => socket.close(), SESSION_MS);
  });
  check(res, { 'stream opened (101)': (r) => r && r.status === 101 });
}

export function write() {
  /** @type {Record<string, string>} */
  const headers = { 'Content-Type': 'application/merge-patch+json' };
  if (TOKEN) headers.Authorization = `Bearer ${TOKEN}`;
  const res = http.post(`${BASE_URL}/v1/docs/${DOC}`, JSON.stringify({ sentAt: Date.now(), by: `vu${__VU}` }), { headers });
  check(res, { 'write acknowledged (200)': (r) => r.status === 200 });
}
