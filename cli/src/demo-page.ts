/**
 * The demo page `replicant dev` serves at `/`: one live document that several tabs edit and watch.
 * It speaks the `replicant.v1.json` subprotocol directly (no bundler needed) and shows the seq, so
 * two tabs side by side show the same state converging.
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
</style>
</head>
<body>
<h1>Replicant live document</h1>
<div class="meta">doc <code id="doc"></code> · seq <code id="seq">-</code> · <span id="status">connecting…</span></div>
<div class="row"><label for="title">Title</label><input id="title" type="text" placeholder="type a title and press Enter"></div>
<div class="row"><button id="dec">−</button><span id="count">0</span><button id="inc">+</button></div>
<div class="row"><input id="note" type="text" placeholder="add a note, press Enter"><button id="add">Add</button></div>
<ul id="notes"></ul>
<details><summary>state</summary><pre id="state">{}</pre></details>
<script>
(() => {
  const params = new URLSearchParams(location.search);
  const doc = params.get('doc') || 'demo';
  document.getElementById('doc').textContent = doc;
  let ws, state = {}, seq = null, attempt = 0, n = 0;
  const $ = (id) => document.getElementById(id);
  function render() {
    $('seq').textContent = seq ?? '-';
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
  }
  function merge(t, p) {
    if (p === null || typeof p !== 'object' || Array.isArray(p)) return p;
    if (t === null || typeof t !== 'object' || Array.isArray(t)) t = {};
    for (const k of Object.keys(p)) {
      if (p[k] === null) delete t[k]; else t[k] = merge(t[k], p[k]);
    }
    return t;
  }
  function status(s) { $('status').textContent = s; $('status').className = 'status-' + (s === 'live' ? 'open' : 'closed'); }
  function connect() {
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/stream' + location.search, 'replicant.v1.json');
    ws.onopen = () => {
      attempt = 0; status('live');
      ws.send(JSON.stringify(seq === null ? { type: 'subscribe', doc } : { type: 'subscribe', doc, lastSeq: seq }));
    };
    ws.onmessage = (ev) => {
      const f = JSON.parse(ev.data);
      if (f.type === 'snapshot') { state = f.state; seq = f.seq; render(); }
      else if (f.type === 'delta') {
        if (f.prevSeq !== seq) { seq = null; ws.send(JSON.stringify({ type: 'subscribe', doc })); return; }
        state = merge(state, f.patch); seq = f.seq; render();
      } else if (f.type === 'error') console.warn('replicant error', f);
      else if (f.type === 'goaway') { setTimeout(() => ws.close(), f.reconnectMs); }
    };
    ws.onclose = () => {
      status('reconnecting…');
      const delay = Math.random() * Math.min(15000, 250 * 2 ** attempt++);
      setTimeout(connect, delay);
    };
  }
  function publish(patch) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: 'publish', doc, patch, id: crypto.randomUUID() }));
  }
  $('title').addEventListener('keydown', (e) => { if (e.key === 'Enter') publish({ title: $('title').value }); });
  $('inc').onclick = () => publish({ count: (state.count || 0) + 1 });
  $('dec').onclick = () => publish({ count: (state.count || 0) - 1 });
  const add = () => { const v = $('note').value.trim(); if (!v) return; publish({ notes: { [Date.now() + '-' + (n++)]: v } }); $('note').value = ''; };
  $('add').onclick = add;
  $('note').addEventListener('keydown', (e) => { if (e.key === 'Enter') add(); });
  render();
  connect();
})();
</script>
</body>
</html>
`;
