#!/usr/bin/env node
// A terminal chat on Replicant: who is here (presence), who is typing (presence info), messages
// (a document), direct messages (the server API's messages) and kicking (its disconnect).
//
//   node examples/chat/chat.mjs <user> [--room chat:lobby] [--url ws://127.0.0.1:8080/v1/stream]
//                                      [--backend http://127.0.0.1:3001]
// Type a line to say it; `/typing` and `/idle` set your typing flag, `/dm <user> <text>` sends a
// direct message, `/kick <user>` disconnects a user, `/quit` leaves.
//
// Output lines: `here: ann, bob*` (who is here, * = typing), `<user>: <text>` (said in the room),
// `dm from <user>: <text>`, `kicked` (then it exits).
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { connect } from '@replicant/sdk';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    room: { type: 'string', default: 'chat:lobby' },
    url: { type: 'string', default: 'ws://127.0.0.1:8080/v1/stream' },
    backend: { type: 'string', default: 'http://127.0.0.1:3001' },
  },
});
const user = positionals[0];
if (!user) {
  console.error('usage: chat.mjs <user> [--room chat:lobby] [--url ws://…/v1/stream] [--backend http://…]');
  process.exit(2);
}
const room = values.room;
const backend = values.backend.replace(/\/+$/, '');
const post = (path, body) => fetch(`${backend}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

// the SDK asks for a token at every connect (and before one expires)
const client = connect(values.url, { token: async () => ((await (await fetch(`${backend}/token?user=${encodeURIComponent(user)}`)).json()).token) });

// join the room's presence; the info (≤ 1 KiB) is what others see
// (joining again with new info replaces it; the previous listener is then dropped)
let sub;
const join = (typing) => {
  const prev = sub;
  sub = client.subscribe(room, onRoom, { presence: { info: { name: user, typing } } });
  prev?.unsubscribe();
};
let lastSaid;
function onRoom(doc) {
  const said = doc.serverState.said;
  if (said && said.at !== lastSaid) {
    lastSaid = said.at;
    console.log(`${said.from}: ${said.text}`);
  }
}
join(false);

// who is here: the read-only document <room>~presence
let lastHere = '';
client.presence(room, ({ users }) => {
  const here = Object.entries(users)
    .map(([sub, u]) => `${sub}${u.info?.typing ? '*' : ''}`)
    .sort()
    .join(', ');
  if (here !== lastHere) console.log(`here: ${(lastHere = here)}`);
});

client.on('message', ({ data }) => console.log(`dm from ${data.from}: ${data.text}`));
client.on('disconnect', ({ reconnect }) => {
  if (reconnect) return;
  console.log('kicked');
  void client.close().then(() => process.exit(0));
});

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const [cmd, arg, ...rest] = line.trim().split(' ');
  if (cmd === '/typing' || cmd === '/idle') join(cmd === '/typing');
  else if (cmd === '/dm') await post('/dm', { from: user, to: arg, text: rest.join(' ') });
  else if (cmd === '/kick') await post('/kick', { user: arg });
  else if (cmd === '/quit') await client.close().then(() => process.exit(0));
  else if (line.trim() !== '') await client.publish(room, { said: { from: user, text: line.trim(), at: Date.now() } });
});
process.on('SIGTERM', () => client.close().then(() => process.exit(0)));
