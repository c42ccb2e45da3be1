#!/usr/bin/env node
// Watches one live document and prints every state it reaches, one JSON line each.
//
//   node examples/node-watcher/watch.mjs <docId> [--url ws://127.0.0.1:8080/v1/stream] [--token <jwt>]
//
// The SDK keeps the subscription alive across reconnects (backoff with jitter, resume from the last
// seq), so this loop needs no error handling of its own. Ctrl-C closes the connection and exits.
import { parseArgs } from 'node:util';
import { connect } from '@replicant/sdk';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string', default: process.env.REPLICANT_WS_URL ?? 'ws://127.0.0.1:8080/v1/stream' },
    token: { type: 'string', default: process.env.REPLICANT_TOKEN },
  },
});
const doc = positionals[0] ?? 'demo';

const client = connect(values.url, values.token ? { token: values.token } : {});
client.onEvent((ev) => {
  if (ev.type === 'error') console.error(`error: ${ev.error.code}: ${ev.error.message}`);
});
client.subscribe(doc, (live) => {
  console.log(JSON.stringify({ doc, seq: String(live.seq), state: live.state }));
});

const stop = () => client.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
