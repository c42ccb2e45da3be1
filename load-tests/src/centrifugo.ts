/**
 * Centrifugo, the peer: the pinned release (scripts/go-tools.txt) built from the Go module proxy
 * by scripts/install-go-tool.sh into ~/.cache/replicant/bin (once; later calls find it cached), and
 * a generated v6 config for the bench's hot channel:
 *
 *  - `http_server` on 127.0.0.1:<port>: WebSocket `/connection/websocket` (JSON protocol), server API
 *    `/api/publish` guarded by a random `http_api.key` per launch (header `X-API-Key`), `/health`;
 *  - anonymous clients may connect without a token and subscribe to channels without a namespace
 *    (like `replicant dev`, which runs without auth in the bench);
 *  - channel history 300 publications / 300 s with forced recovery: publications carry contiguous
 *    offsets, so a client can detect a gap and resume, as Replicant's seq/prevSeq and history ring
 *    allow. That is the closest like-for-like setting; the cost it adds is per publication, not per
 *    delivery;
 *  - for the messages phase: users authenticate with an HS256 token (`client.token.hmac_secret_key`,
 *    random per launch) and are subscribed server-side to their personal channel
 *    `personal:#<sub>` (`client.subscribe_to_user_personal_channel`; namespace `personal` without
 *    history, as Replicant's messages are ephemeral); anonymous clients (the fan-out phase) get none;
 *  - for the presence phase: namespace `room` with presence and join/leave events (pushed to the
 *    subscribers that ask for them: the watchers), open to authenticated clients;
 *  - usage stats off (the box has no network), everything else at its defaults (memory engine,
 *    1 MiB per-client queue bound `client.queue_max_size`, 25 s app-level pings).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { INSTALL_GO_TOOL } from './paths.js';
import type { Publisher } from './open-loop-writer.js';
import { centrifugoPersonalChannel } from './wire.js';

/** the pin's name in scripts/go-tools.txt */
export const CENTRIFUGO_TOOL = 'centrifugo';

let binary: string | undefined;
/** path of the pinned binary, building it first if the cache lacks it; throws one clear line if it cannot */
export function centrifugoBinary(): string {
  if (binary !== undefined) return binary;
  try {
    binary = execFileSync('bash', [INSTALL_GO_TOOL, CENTRIFUGO_TOOL], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch (err) {
    throw new Error(`centrifugo: scripts/install-go-tool.sh ${CENTRIFUGO_TOOL} failed (${(err as Error).message.split('\n')[0]}): see its message above`);
  }
  return binary;
}

export function centrifugoConfig(port: number, apiKey: string, hmacKey: string): Record<string, unknown> {
  return {
    http_server: { address: '127.0.0.1', port },
    log: { level: 'info' },
    client: {
      allow_anonymous_connect_without_token: true,
      token: { hmac_secret_key: hmacKey },
      subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: 'personal' },
    },
    channel: {
      namespaces: [
        { name: 'personal' },
        // the presence phase: members subscribe to `room:<x>`, watchers ask for join/leave pushes
        { name: 'room', allow_subscribe_for_client: true, presence: true, join_leave: true, allow_presence_for_subscriber: true },
      ],
      without_namespace: {
        allow_subscribe_for_anonymous: true,
        allow_subscribe_for_client: true,
        history_size: 300,
        history_ttl: '300s',
        force_recovery: true,
      },
    },
    http_api: { key: apiKey },
    health: { enabled: true },
    usage_stats: { disabled: true },
  };
}

/** writes the config into `dir`; returns the file, the API key and the users' token key */
export function writeCentrifugoConfig(dir: string, port: number): { file: string; apiKey: string; hmacKey: string } {
  const apiKey = randomBytes(18).toString('base64url');
  const hmacKey = randomBytes(24).toString('base64url');
  const file = join(dir, 'centrifugo.json');
  writeFileSync(file, JSON.stringify(centrifugoConfig(port, apiKey, hmacKey), null, 2), { mode: 0o600 });
  return { file, apiKey, hmacKey };
}

/** one connection token per sub (HS256, 1 h), as an app backend would issue them */
export async function centrifugoUserTokens(hmacKey: string, subs: string[]): Promise<string[]> {
  const key = new TextEncoder().encode(hmacKey);
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return Promise.all(subs.map((sub) => new SignJWT({ sub, exp }).setProtectedHeader({ alg: 'HS256' }).sign(key)));
}

/** message n as a server-API publish to the personal channel of `subOf(n)` */
export function centrifugoUserPublisher(port: number, apiKey: string, subOf: (n: number) => string): Publisher {
  return { ...centrifugoPublisher(port, apiKey), body: (_doc, patchJson, n) => `{"channel":"${centrifugoPersonalChannel(subOf(n))}","data":${patchJson}}` };
}

/** the bench's write as a Centrifugo server-API publish: the patch is the publication's data */
export function centrifugoPublisher(port: number, apiKey: string): Publisher {
  return {
    port,
    path: () => '/api/publish',
    body: (channel, patchJson) => `{"channel":"${channel}","data":${patchJson}}`,
    headers: { 'x-api-key': apiKey },
    acked: (status, body) => status === 200 && body.startsWith('{"result"'),
  };
}
