/**
 * The servers under test, one small driver each: how to launch it (command, environment, the line
 * that says it is ready), what its subscribers speak (wire.ts, upgrade path, subprotocol) and how a
 * write reaches it (a Publisher). The bench, the launcher (servers.ts) and the receivers know
 * nothing else about a target, so every target is measured by the same code.
 *
 *  - `replicant`: `replicant dev` (the product: durable file log, materializer, fan-out, gateway);
 *  - `replicant-sse`: the same server, subscribers on SSE (`GET /v1/sse`) instead of WebSocket;
 *  - `replicant-auth`: the same with auth on (AUTH_JWT_SECRET, API_KEYS): every subscriber sends its
 *    own scoped HS256 token (signed with jose) in its first frame, the writer an API key;
 *  - `bare`: the bare uWebSockets.js ceiling (bare-uws.ts);
 *  - `centrifugo`: Centrifugo v6 (centrifugo.ts), its JSON protocol, writes through its server API;
 *  - `socketio`: Socket.IO 4 (peer-socketio.ts), WebSocket transport, room broadcast;
 *  - `ws`: a minimal broadcast server on the `ws` library (peer-ws.ts).
 *
 * A target that can reach a user (`userTokens` and `messages`: Replicant with auth on, Centrifugo)
 * also runs the bench's messages phase: user i's connection presents a token for sub userSub(i),
 * and message n goes to user n % users through the server API (Replicant's `POST /v1/messages`
 * `{"to":{"sub"}}`, Centrifugo's `publish` to the user's personal channel).
 *
 * Add a target: a driver here plus, if it needs one, its server program; nothing else changes.
 */
import type { Publisher } from './open-loop-writer.js';
import { replicantPublisher } from './open-loop-writer.js';
import type { WireKind } from './wire.js';
import { BARE_MAIN, CLI_MAIN, PEER_SOCKETIO_MAIN, PEER_WS_MAIN, replicantBuilt } from './paths.js';
import { centrifugoBinary, centrifugoPublisher, centrifugoUserPublisher, centrifugoUserTokens, writeCentrifugoConfig } from './centrifugo.js';
import { SignJWT } from 'jose';

export type TargetName = 'replicant' | 'replicant-auth' | 'replicant-sse' | 'bare' | 'centrifugo' | 'socketio' | 'ws';
/** every target, in the order the bench runs and prints them */
export const TARGET_NAMES: readonly TargetName[] = ['replicant', 'replicant-auth', 'replicant-sse', 'bare', 'centrifugo', 'socketio', 'ws'];

/** what subscribers connect to */
export interface StreamEndpoint {
  wire: WireKind;
  /** upgrade request target */
  path: string;
  /** subprotocol offered ('' = none) */
  protocol: string;
  /** `sse`: an SSE stream (`path?doc=<doc>`, sse-client.ts) instead of a WebSocket upgrade */
  transport?: 'websocket' | 'sse';
}

export interface Launch {
  command: string;
  args: string[];
  /** on top of the launcher's scrubbed environment (which sets PORT and HOST) */
  env: Record<string, string>;
  /** a line of the server's output matching this means it is listening */
  ready: RegExp;
  stream: StreamEndpoint;
  publisher: Publisher;
  /** subscriber credentials: `count` tokens for subscribers of `doc`, socket i sends the i-th (none = open) */
  tokens?: (count: number, doc: string) => Promise<string[]>;
  /** user connections' credentials: one token per sub (messages and presence phases) */
  userTokens?: (subs: string[]) => Promise<string[]>;
  /** how message n (payload `{"t":…,"n":…}`) reaches user userSub(n % users) (messages phase) */
  messages?: (users: number) => Publisher;
}

/** the sub of the bench's i-th user */
export const userSub = (i: number): string => `s${i}`;

export interface Target {
  name: TargetName;
  /** column heading in the report */
  label: string;
  /** needs a temporary directory (removed at stop), passed to launch */
  needsDir: boolean;
  /** locates (or builds) what it needs; throws one clear line when it cannot run here */
  prepare(): void;
  launch(port: number, dir: string | undefined): Launch;
}

const READY = /\bready\b/i;
const REPLICANT_STREAM: StreamEndpoint = { wire: 'replicant', path: '/v1/stream', protocol: 'replicant.v1.json' };

/** a Node program speaking Replicant's contract (HTTP writes, replicant.v1.json) */
function nodeTarget(name: TargetName, label: string, main: string, stream: StreamEndpoint = REPLICANT_STREAM): Target {
  return {
    name,
    label,
    needsDir: false,
    prepare: () => undefined,
    launch: (port) => ({ command: process.execPath, args: [main], env: {}, ready: READY, stream, publisher: replicantPublisher(port) }),
  };
}

// bench-only secrets for a server on 127.0.0.1 that lives for one run
const AUTH_SECRET = 'bench-jwt-secret-0123456789';
const AUTH_API_KEY = 'bench-api-key-0123456789';

/**
 * one token per sub, as an app would issue them: the bench doc, the rooms, plus the user's own
 * namespace; `claims(i)` adds claims to the i-th (the views phase's `team`)
 */
function subTokens(subs: string[], doc: string, claims?: (i: number) => Record<string, unknown>): Promise<string[]> {
  const key = new TextEncoder().encode(AUTH_SECRET);
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return Promise.all(
    subs.map((sub, i) =>
      new SignJWT({ ...claims?.(i), sub, read: [doc, 'user:{sub}:*', 'room:*'], write: ['user:{sub}:*'], exp }).setProtectedHeader({ alg: 'HS256' }).sign(key),
    ),
  );
}

/** one token per subscriber of `doc`, socket i's for sub userSub(i) */
const scopedTokens = (count: number, doc: string): Promise<string[]> => subTokens(Array.from({ length: count }, (_, i) => userSub(i)), doc);

/** the env that turns auth on for a Replicant process (dev, or every node of a cluster), and its users' tokens */
export const REPLICANT_AUTH = {
  env: { AUTH_JWT_SECRET: AUTH_SECRET, API_KEYS: AUTH_API_KEY },
  apiKey: AUTH_API_KEY,
  userTokens: (subs: string[]): Promise<string[]> => subTokens(subs, 'bench'),
  /** tokens for subscribers of `doc`, socket i's for sub userSub(i) with the extra claims `claims(i)` */
  claimTokens: (count: number, doc: string, claims: (i: number) => Record<string, unknown>): Promise<string[]> =>
    subTokens(Array.from({ length: count }, (_, i) => userSub(i)), doc, claims),
};

function replicantLaunch(port: number, dir: string | undefined): Launch {
  return { command: process.execPath, args: [CLI_MAIN, 'dev'], env: { DATA_DIR: dir! }, ready: READY, stream: REPLICANT_STREAM, publisher: replicantPublisher(port) };
}

function prepareReplicant(): void {
  if (!replicantBuilt()) throw new Error(`${CLI_MAIN} does not exist: run \`npm run build\` first`);
}

export const TARGETS: Record<TargetName, Target> = {
  replicant: {
    name: 'replicant',
    label: 'Replicant',
    needsDir: true,
    prepare: prepareReplicant,
    launch: replicantLaunch,
  },
  'replicant-auth': {
    name: 'replicant-auth',
    label: 'Replicant auth+scopes',
    needsDir: true,
    prepare: prepareReplicant,
    launch(port, dir) {
      const open = replicantLaunch(port, dir);
      return {
        ...open,
        env: { ...open.env, ...REPLICANT_AUTH.env },
        publisher: { ...open.publisher, headers: { authorization: `Bearer ${AUTH_API_KEY}` } },
        tokens: scopedTokens,
        userTokens: REPLICANT_AUTH.userTokens,
        messages: (users) => ({
          port,
          path: () => '/v1/messages',
          body: (_doc, patchJson, n) => `{"to":{"sub":"${userSub(n % users)}"},"data":${patchJson}}`,
          headers: { authorization: `Bearer ${AUTH_API_KEY}` },
          acked: (status, body) => status === 200 && body.startsWith('{"id":'),
        }),
      };
    },
  },
  'replicant-sse': {
    name: 'replicant-sse',
    label: 'Replicant SSE',
    needsDir: true,
    prepare: prepareReplicant,
    launch(port, dir) {
      return { ...replicantLaunch(port, dir), stream: { wire: 'replicant', path: '/v1/sse', protocol: '', transport: 'sse' } };
    },
  },
  bare: nodeTarget('bare', 'bare uWS', BARE_MAIN),
  centrifugo: {
    name: 'centrifugo',
    label: 'Centrifugo',
    needsDir: true,
    prepare() {
      centrifugoBinary();
    },
    launch(port, dir) {
      const { file, apiKey, hmacKey } = writeCentrifugoConfig(dir!, port);
      return {
        command: centrifugoBinary(),
        args: ['-c', file],
        env: {},
        ready: /serving websocket/,
        stream: { wire: 'centrifugo', path: '/connection/websocket', protocol: '' },
        publisher: centrifugoPublisher(port, apiKey),
        userTokens: (subs) => centrifugoUserTokens(hmacKey, subs),
        messages: (users) => centrifugoUserPublisher(port, apiKey, (n) => userSub(n % users)),
      };
    },
  },
  socketio: nodeTarget('socketio', 'Socket.IO', PEER_SOCKETIO_MAIN, {
    wire: 'socketio',
    path: '/socket.io/?EIO=4&transport=websocket',
    protocol: '',
  }),
  ws: nodeTarget('ws', 'ws', PEER_WS_MAIN),
};

/** the targets named in a comma list (`all` = every one); throws on an unknown name */
export function parseTargets(list: string): TargetName[] {
  if (list.trim() === 'all') return [...TARGET_NAMES];
  const out = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const t of out) if (!(TARGET_NAMES as readonly string[]).includes(t)) throw new Error(`unknown target ${t} (known: ${TARGET_NAMES.join(', ')})`);
  return out as TargetName[];
}
