/**
 * A child process holding many presence members (the test process's fd limit cannot hold 20,000
 * sockets): `node presence-members.js` with env WS_URL, DOC, PREFIX, SECRET reads commands on
 * stdin — `join <n>` opens n more connections (subs PREFIX<i>, each joining DOC's presence with
 * info) and prints `joined <total>` once each has its snapshot — and exits when stdin ends.
 */
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { sign } from './tokens.js';

const { WS_URL, DOC, PREFIX, SECRET } = process.env as Record<string, string>;
const sockets: WebSocket[] = [];
let next = 0;
const CONCURRENCY = 200;

async function open(i: number): Promise<void> {
  const token = await sign({ sub: `${PREFIX}${i}`, read: [DOC], exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET);
  for (let attempt = 0; ; attempt++) {
    try {
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`${WS_URL}?token=${token}`, ['replicant.v1.json'], { perMessageDeflate: false });
        ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', doc: DOC, presence: true, info: { name: `${PREFIX}${i}` } })));
        ws.on('message', (data) => {
          const f = JSON.parse(data.toString());
          if (f.type === 'snapshot' && f.doc === DOC) {
            sockets.push(ws);
            resolve();
          }
        });
        ws.on('error', reject);
        ws.on('unexpected-response', (_req, res) => reject(new Error(`upgrade ${res.statusCode}`)));
      });
      return;
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1))); // admission control's 503: back off and retry
    }
  }
}

async function join(n: number): Promise<void> {
  const end = next + n;
  const worker = async () => {
    while (next < end) await open(next++);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, worker));
  process.stdout.write(`joined ${sockets.length}\n`);
}

const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  const m = /^join (\d+)$/.exec(line.trim());
  if (m) chain = chain.then(() => join(Number(m[1])));
});
rl.on('close', () => process.exit(0));
