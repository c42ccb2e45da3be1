/**
 * uWS's two ways to send one frame to many sockets, measured side by side (issue 21: "native publish
 * for active connections"): a JS loop of `ws.send` (what gateway/src/local-fanout.ts does, with the
 * frame as a string or as bytes) against `app.publish` to a topic every socket is subscribed to
 * (what bare-uws.ts does), bare and with the per-socket `getBufferedAmount` pass the gateway would
 * need to keep its send-buffer bound (a published frame reaches the sockets only when uWS drains its
 * topic tree at the end of the loop iteration, so nothing tells JS which socket went over).
 *
 * One server process (this one) and one client process (`ws` sockets that only count frames).
 * Each run sends `--frames` frames, one per event-loop turn with `--gap-ms` between them, in one mode;
 * runs are interleaved over the modes `--repeat` times and the median is reported, as server
 * CPU (utime + stime of this process) per delivery, minus the same loop's cost without sends.
 *
 * Run: `flock /tmp/replicant-load.lock node load-tests/dist/src/bench-uws-send.js [--n 5000]
 * [--frames 400] [--gap-ms 5] [--repeat 5]`. Prints a table and a `BENCH_JSON` line.
 */
import * as uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readArgs } from './args.js';
import { median, sleep } from './report.js';

const MODES = ['send-string', 'send-bytes', 'publish', 'publish+check'] as const;
type Mode = (typeof MODES)[number];

/** the client side: n sockets that count what they receive */
function client(n: number, port: number): void {
  let open = 0;
  let frames = 0;
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws.on('open', () => {
      if (++open === n) process.send!({ ev: 'ready' });
    });
    ws.on('message', () => frames++);
    ws.on('error', (err) => console.error(`bench-uws-send client: ${err.message}`));
  }
  process.on('message', (m: string) => {
    if (m === 'count') process.send!({ ev: 'count', frames });
    else if (m === 'exit') process.exit(0);
  });
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function main(): Promise<void> {
  const { num } = readArgs(process.argv.slice(2), ['--n', '--frames', '--gap-ms', '--repeat'], 'node load-tests/dist/src/bench-uws-send.js');
  const n = num('--n', 5000);
  const frames = num('--frames', 400);
  const gapMs = num('--gap-ms', 5);
  const repeat = num('--repeat', 5);
  const maxSendBuffer = 1024 * 1024;

  const app = uWS.App();
  const sockets: uWS.WebSocket<unknown>[] = [];
  app.ws('/*', {
    maxBackpressure: 16 * 1024 * 1024,
    closeOnBackpressureLimit: false,
    open: (ws) => {
      sockets.push(ws);
      ws.subscribe('t');
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (ls) => (ls ? resolve(uWS.us_socket_local_port(ls)) : reject(new Error('cannot listen')))),
  );
  const child = fork(fileURLToPath(import.meta.url), ['--client', String(n), String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (ev: string): Promise<any> =>
    new Promise((resolve) => {
      const on = (m: { ev: string }): void => {
        if (m.ev !== ev) return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
    });
  await next('ready');

  // a delta frame of the bench's shape (bench-docs.ts), about 100 bytes
  const text = JSON.stringify({ type: 'delta', doc: 'bench', seq: '123456', prevSeq: '123455', patch: { t: 1765151234567.123, n: 12345 } });
  const bytes = Buffer.from(text);
  const sendAll = (f: string | Buffer): void => {
    for (const ws of sockets) if (ws.send(f, false, false) !== 1) ws.getBufferedAmount();
  };
  const once: Record<Mode | 'idle', () => void> = {
    idle: () => {},
    'send-string': () => sendAll(text),
    'send-bytes': () => sendAll(bytes),
    publish: () => app.publish('t', text, false, false),
    'publish+check': () => {
      let over = 0;
      for (const ws of sockets) if (ws.getBufferedAmount() > maxSendBuffer) over++;
      if (over > 0) console.error(`${over} sockets over the bound`);
      app.publish('t', text, false, false);
    },
  };
  const run = async (mode: Mode | 'idle'): Promise<number> => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < frames; i++) {
      await turn();
      once[mode]();
      await sleep(gapMs);
    }
    await sleep(200);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000; // ms
  };

  const ms: Record<Mode | 'idle', number[]> = { idle: [], 'send-string': [], 'send-bytes': [], publish: [], 'publish+check': [] };
  for (let r = 0; r < repeat; r++) {
    ms.idle.push(await run('idle'));
    for (const m of MODES) ms[m].push(await run(m));
  }
  child.send('count');
  const { frames: received } = await next('count');
  child.send('exit');
  const expected = n * frames * repeat * MODES.length;
  const idle = median(ms.idle);
  const perDelivery = (m: Mode): number => ((median(ms[m]) - idle) * 1000) / (n * frames);
  console.log(`uWS send modes: ${n} sockets, ${frames} frames of ${bytes.length} B per run, ${repeat} interleaved runs per mode; frames received ${received}/${expected}`);
  console.log('mode'.padEnd(16) + 'µs server CPU per delivery (median)'.padStart(38) + '   vs send-string');
  const base = perDelivery('send-string');
  const result: Record<string, number> = {};
  for (const m of MODES) {
    result[m] = Math.round(perDelivery(m) * 1000) / 1000;
    console.log(m.padEnd(16) + perDelivery(m).toFixed(3).padStart(38) + (perDelivery(m) / base).toFixed(3).padStart(18));
  }
  console.log(`BENCH_JSON ${JSON.stringify({ bench: 'uws-send', n, frames, repeat, frameBytes: bytes.length, received, expected, usPerDelivery: result, runsMs: ms })}`);
  app.close();
  process.exit(received === expected ? 0 : 1);
}

if (process.argv[2] === '--client') client(Number(process.argv[3]), Number(process.argv[4]));
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
