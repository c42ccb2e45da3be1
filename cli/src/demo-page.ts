/**
 * The demo page `replicant dev` serves at `/`: one live document that several tabs edit and watch.
 * It runs the browser build of @replicant/sdk (served at /sdk.js) with its outbox in IndexedDB: edits
 * show at once (optimistic view), the ops not acknowledged yet are listed, and they survive a
 * reload while the server is down. It shows the seq, so two tabs side by side show the same state
 * converging. A version slider scrubs the document's past: its positions are the seqs of the
 * doc's history (`client.history`: the newest 10,000, loaded at most once a second, only the ops
 * after the newest known), and each position shows the state as of that
 * seq (`client.stateAt`, i.e. `GET /v1/docs/{id}?at=<seq>`); "restore" writes it back
 * (`client.restore`).
 */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Replicant demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  .meta { color: #666; font-size: .85rem; margin-bottom: 1.2rem; }
  .status-open { color: #18794e; } .status-closed { color: #b42318; }
  .row { display: flex; gap: .5rem; align-items: center; margin: .6rem 0; }
  input[type=text] { flex: 1; padding: .4rem; font: inherit; }
  button { padding: .35rem .8rem; font: inherit; cursor: pointer; }
  #count { font-size: 1.6rem; min-width: 3rem; text-align: center; }
  ul { padding-left: 1.2rem; }
  pre { background: #f5f5f5; padding: .6rem; overflow: auto; font-size: .8rem; }
  #outbox { color: #8a5a00; font-size: .85rem; } #outbox li { font-family: ui-monospace, monospace; }
  #history { border-top: 1px solid #ddd; margin-top: 1.2rem; padding-top: .6rem; }
  #version { flex: 1; }
</style>
</head>
<body>
<h1>Replicant live document</h1>
<div class="meta">doc <code id="doc"></code> · seq <code id="seq">-</code> · <span id="status">connecting…</span> · pending <code id="pending">0</code></div>
<div class="row"><label for="title">Title</label><input id="title" type="text" placeholder="type a title and press Enter"></div>
<div class="row"><button id="dec">−</button><span id="count">0</span><button id="inc">+</button></div>
<div class="row"><input id="note" type="text" placeholder="add a note, press Enter"><button id="add">Add</button></div>
<ul id="notes"></ul>
<details id="outbox-box"><summary>outbox: ops not acknowledged yet (kept in IndexedDB, sent when the server can be reached)</summary><ul id="outbox"></ul></details>
<details><summary>state</summary><pre id="state">{}</pre></details>
<section id="history">
<div class="row"><label for="version">Version</label><input id="version" type="range" min="0" max="0" value="0" step="1" disabled>
<span>seq <code id="past-seq">-</code></span><button id="restore" disabled>Restore</button></div>
<pre id="past">{}</pre>
</section>
<script type="module">
import { connect, indexedDbStorage } from '/sdk.js';
const params = new URLSearchParams(location.search);
const docId = params.get('doc') || 'demo';
const $ = (id) => document.getElementById(id);
$('doc').textContent = docId;
// The browser build of @replicant/sdk: snapshot + deltas, resume, reconnect with jitter, and an
// outbox in IndexedDB: edits made offline survive a reload and are applied exactly once.
const client = connect(location.origin, {
  protocol: params.get('protocol') === 'json' ? 'json' : 'binary',
  token: params.get('token') || undefined,
  storage: indexedDbStorage('replicant-demo'),
});
let state = {};
let n = 0;
// time travel (below): history seqs, the load in progress, the seq shown, the live seq seen last
let versions = [];
let loadingVersions;
let again = false;
let shownSeq;
let lastSeq = '';
client.on('status', (ev) => {
  $('status').textContent = ev.status === 'open' ? 'live' : ev.status + '…';
  $('status').className = 'status-' + (ev.status === 'open' ? 'open' : 'closed');
});
const showOutbox = () => {
  const ops = client.pendingOps();
  $('pending').textContent = String(ops.length);
  $('outbox').replaceChildren(...ops.map((op) => {
    const li = document.createElement('li');
    li.textContent = op.doc + ' ← ' + JSON.stringify(op.patch);
    return li;
  }));
};
client.on('pending', showOutbox);
client.loaded.then(showOutbox);
const sub = client.subscribe(docId, (doc) => {
  // doc.state is the optimistic view: the server's state with this tab's pending ops on top
  state = doc.state;
  $('seq').textContent = String(doc.seq);
  if (document.activeElement !== $('title')) $('title').value = state.title || '';
  $('count').textContent = String(state.count || 0);
  const notes = state.notes || {};
  $('notes').replaceChildren(...Object.keys(notes).sort().map((k) => {
    const li = document.createElement('li');
    li.textContent = notes[k] + ' ';
    const x = document.createElement('button');
    x.textContent = '×';
    x.onclick = () => publish({ notes: { [k]: null } });
    li.append(x);
    return li;
  }));
  $('state').textContent = JSON.stringify(state, null, 2);
  if (String(doc.seq) !== lastSeq) { lastSeq = String(doc.seq); refreshVersions(); }
});
function publish(patch) {
  client.publish(docId, patch).catch((err) => console.warn('publish failed', err));
}
$('title').addEventListener('keydown', (e) => { if (e.key === 'Enter') publish({ title: $('title').value }); });
$('inc').onclick = () => publish({ count: (state.count || 0) + 1 });
$('dec').onclick = () => publish({ count: (state.count || 0) - 1 });
const add = () => {
  const v = $('note').value.trim();
  if (!v) return;
  publish({ notes: { [Date.now() + '-' + (n++)]: v } });
  $('note').value = '';
};
$('add').onclick = add;
$('note').addEventListener('keydown', (e) => { if (e.key === 'Enter') add(); });
// time travel: the slider's positions are the history's seqs; the newest follows the live doc
// (only the ops after the newest known seq are asked for: from a recent seq the server starts at the
// doc's snapshot, cheap; the slider keeps at most MAX_VERSIONS, the newest)
const MAX_VERSIONS = 10000;
async function loadVersions() {
  const seqs = versions.slice();
  let after = seqs.length > 0 ? seqs[seqs.length - 1] : '0';
  for (let i = 0; i < 10 && after !== null; i++) {
    const page = await client.history(docId, { after });
    for (const op of page.ops) seqs.push(op.seq);
    after = page.next;
  }
  const index = Number($('version').value);
  const atEnd = index >= versions.length - 1;
  const dropped = Math.max(0, seqs.length - MAX_VERSIONS);
  versions = seqs.slice(dropped);
  if (!atEnd) $('version').value = String(Math.max(0, index - dropped));
  $('version').max = String(Math.max(0, seqs.length - 1));
  $('version').disabled = seqs.length === 0;
  if (atEnd) $('version').value = $('version').max;
  await showVersion();
}
async function showVersion() {
  const seq = versions[Number($('version').value)];
  if (seq === undefined) return;
  shownSeq = seq;
  const past = await client.stateAt(docId, seq);
  if (shownSeq !== seq) return; // the slider moved on meanwhile
  $('past-seq').textContent = past.seq;
  $('past').textContent = JSON.stringify(past.state, null, 2);
  $('restore').disabled = false;
}
function refreshVersions() {
  // one load at a time; an update arriving meanwhile loads once more after it
  if (loadingVersions) { again = true; return; }
  // and at most one load a second, however fast the doc changes
  loadingVersions = loadVersions().catch((err) => console.warn('history failed', err)).finally(() => setTimeout(() => {
    loadingVersions = undefined;
    if (again) { again = false; refreshVersions(); }
  }, 1000));
}
$('version').addEventListener('input', () => void showVersion().catch((err) => console.warn('stateAt failed', err)));
$('restore').onclick = () => {
  const seq = versions[Number($('version').value)];
  if (seq !== undefined) client.restore(docId, seq).catch((err) => console.warn('restore failed', err));
};
window.replicantDemo = { client, sub };
</script>
</body>
</html>
`;
