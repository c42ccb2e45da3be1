/**
 * Shared process plumbing for every mode: one uWS app, listen on HOST:PORT (plus ADMIN_PORT when
 * set), print the `ready` line, and shut down once on SIGINT/SIGTERM.
 */
import * as uWS from 'uWebSockets.js';
import { registerAdmin, type AdminHooks } from './admin.js';

export interface Listening {
  port: number;
  close(): void;
}

export function listen(app: uWS.TemplatedApp, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (token) => {
      if (!token) {
        reject(new Error(`cannot listen on ${host}:${port} (address in use or not available)`));
        return;
      }
      resolve({ port: uWS.us_socket_local_port(token), close: () => uWS.us_listen_socket_close(token) });
    });
  });
}

/** starts a separate admin listener when `adminPort` is set */
export async function listenAdmin(host: string, adminPort: number, hooks: AdminHooks, extra?: (app: uWS.TemplatedApp) => void): Promise<Listening | undefined> {
  if (adminPort === 0) return undefined;
  const admin = uWS.App();
  registerAdmin(admin, hooks);
  extra?.(admin);
  admin.any('/*', (res) => {
    res.writeStatus('404 Not Found').end();
  });
  return listen(admin, host, adminPort);
}

/** runs `stop` once on the first SIGINT/SIGTERM; a second signal exits at once */
export function onShutdown(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    stop(signal).then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`shutdown failed: ${err.stack ?? err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
