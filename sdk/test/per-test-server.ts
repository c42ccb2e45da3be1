/**
 * A fresh scripted gateway per test, so a client left reconnecting cannot hand its connection to
 * the next test: the server starts before each test, and after it every client the test opened is
 * closed and the server stopped.
 */
import { afterEach, beforeEach } from 'node:test';
import type { ReplicantClient } from '../src/index.js';
import { ScriptedServer } from './scripted-server.js';

/** Registers the hooks; `onStart` gets each test's server. Push the clients a test opens onto the returned list. */
export function serverPerTest(onStart: (server: ScriptedServer) => void): ReplicantClient[] {
  const clients: ReplicantClient[] = [];
  let server: ScriptedServer | undefined;
  beforeEach(async () => {
    server = await ScriptedServer.start();
    onStart(server);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.stop();
  });
  return clients;
}
