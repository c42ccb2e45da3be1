/** Where the programs the benches start live (compiled layout: load-tests/dist/src). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url)); // load-tests/dist/src
export const REPO_ROOT = join(here, '..', '..', '..');
/** `replicant` CLI entry; REPLICANT_CLI overrides it (e.g. a build of another commit) */
export const CLI_MAIN = process.env.REPLICANT_CLI ?? join(REPO_ROOT, 'cli', 'dist', 'src', 'main.js');
export const BARE_MAIN = join(here, 'bare-uws.js');
export const PEER_WS_MAIN = join(here, 'peer-ws.js');
export const PEER_SOCKETIO_MAIN = join(here, 'peer-socketio.js');
export const INSTALL_GO_TOOL = join(REPO_ROOT, 'scripts', 'install-go-tool.sh');

export function replicantBuilt(): boolean {
  return existsSync(CLI_MAIN);
}
