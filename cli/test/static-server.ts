/**
 * A static file server for browser tests, separate from the gateway (another origin, so the page
 * keeps loading while the gateway is down): serves the given pages and the SDK's browser bundle at
 * /sdk.js. node:http is enough here; this is test scaffolding, not a hot path.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

const SDK_BUNDLE = new URL('../../../sdk/dist/browser/replicant-sdk.js', import.meta.url);

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** `files`: path -> [content type, body]; /sdk.js is added */
export async function startStatic(files: Record<string, [string, string | Buffer]>): Promise<StaticServer> {
  const all: Record<string, [string, string | Buffer]> = {
    '/sdk.js': ['text/javascript', readFileSync(SDK_BUNDLE)],
    '/favicon.ico': ['image/x-icon', ''], // browsers ask; a 404 would show as a console error
    ...files,
  };
  const server: Server = createServer((req, res) => {
    const f = all[new URL(req.url ?? '/', 'http://x').pathname];
    if (!f) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': `${f[0]}; charset=utf-8`, 'cache-control': 'no-store' }).end(f[1]);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
