/**
 * A small HTTP proxy for transport tests: a network that refuses WebSocket upgrades (a corporate
 * proxy's 403) while passing plain HTTP, streams included, with toggles a test flips:
 *  - `upgrades`: forward `Upgrade` requests (raw socket pipe) or refuse them with 403;
 *  - `down` + `cut()`: the network goes away (every live connection dropped, new ones dropped at once);
 *  - `dropPostAnswers`: the next n POST answers are dropped after the upstream has answered (the write
 *    happened, the client never hears of it: its re-send must not apply twice).
 * It also serves `pages` itself, so a page and the gateway share one origin (no CORS needed).
 * node:http / node:net are enough here; this is test scaffolding, not a hot path.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export interface UpgradeProxy {
  url: string;
  upgrades: boolean;
  down: boolean;
  dropPostAnswers: number;
  /** counters: upgrade requests refused / forwarded, POSTs forwarded, SSE streams opened */
  readonly stats: { refused: number; upgraded: number; posts: number; sse: number };
  /** drops every live connection */
  cut(): void;
  close(): Promise<void>;
}

export async function startUpgradeProxy(target: string, pages: Record<string, string> = {}): Promise<UpgradeProxy> {
  const up = new URL(target);
  const live = new Set<Duplex>();
  const track = (s: Duplex): void => {
    live.add(s);
    s.on('close', () => live.delete(s));
  };
  const server: Server = createServer();
  const p: UpgradeProxy = {
    url: '',
    upgrades: true,
    down: false,
    dropPostAnswers: 0,
    stats: { refused: 0, upgraded: 0, posts: 0, sse: 0 },
    cut: () => {
      for (const s of live) s.destroy();
      live.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        p.cut();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', (s: Socket) => {
    if (p.down) s.destroy();
    else track(s);
  });
  server.on('request', (req: IncomingMessage, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const page = pages[path];
    if (page !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(200, { 'content-type': 'image/x-icon' }).end();
      return;
    }
    const isPost = req.method === 'POST';
    if (isPost) p.stats.posts++;
    if (path === '/v1/sse') p.stats.sse++;
    const fwd = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      if (isPost && p.dropPostAnswers > 0) {
        p.dropPostAnswers--;
        ures.resume();
        ures.on('end', () => req.socket.destroy()); // answered upstream; the client never sees it
        return;
      }
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      res.flushHeaders();
      ures.pipe(res);
    });
    fwd.on('error', () => res.destroy());
    res.on('close', () => fwd.destroy());
    req.pipe(fwd);
  });
  server.on('upgrade', (req: IncomingMessage, sock: Duplex, head: Buffer) => {
    track(sock);
    if (!p.upgrades || p.down) {
      p.stats.refused++;
      sock.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    p.stats.upgraded++;
    const u = connect(Number(up.port), up.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      u.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length > 0) u.write(head);
      u.pipe(sock);
      sock.pipe(u);
    });
    track(u);
    u.on('error', () => sock.destroy());
    sock.on('error', () => u.destroy());
    u.on('close', () => sock.destroy());
    sock.on('close', () => u.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  p.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return p;
}
