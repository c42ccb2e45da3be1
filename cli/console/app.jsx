// The console's page (docs/operations.md "The console"): Preact components and uPlot charts,
// bundled by scripts/bundle-console.mjs into cli/dist/console/app.js. Data comes from
// /console/api/* with the API key from sessionStorage as Bearer; live doc state from the browser
// SDK (/console/sdk.js) connected to a gateway.
import { render } from 'preact';
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './app.css';

const KEY = 'replicant-console-key';
const getKey = () => sessionStorage.getItem(KEY) || '';

async function api(path, init = {}) {
  const key = getKey();
  const r = await fetch(path, { ...init, headers: key ? { authorization: `Bearer ${key}` } : {} });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = new Error(body.error?.message || `HTTP ${r.status}`);
    e.status = r.status;
    throw e;
  }
  return body;
}

function SignIn({ onDone, error }) {
  const [key, setKey] = useState('');
  const submit = (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, key);
    onDone();
  };
  return (
    <form id="sign-in" class="card" onSubmit={submit} aria-label="Sign in">
      <h2>Sign in</h2>
      <label for="api-key">API key</label>
      <input id="api-key" type="password" autocomplete="off" value={key} onInput={(e) => setKey(e.currentTarget.value)} autofocus />
      <button type="submit">Sign in</button>
      {error && <p role="alert" class="error">{error}</p>}
    </form>
  );
}

const METRICS = [
  ['connections', 'Connections'],
  ['docs', 'Docs'],
  ['deliveriesPerSec', 'Deliveries/s'],
  ['lag', 'Lag (records)'],
];
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];

/** one uPlot chart of a metric, one series per node, over the ring's 15 minutes */
function Chart({ metric, title, nodes }) {
  const el = useRef(null);
  const plot = useRef(null);
  const withSeries = nodes.filter((n) => n.series && n.series.t.length > 0);
  // x: the union of sample times; each node's values aligned on it
  const ts = [...new Set(withSeries.flatMap((n) => n.series.t))].sort((a, b) => a - b);
  const data = [ts, ...withSeries.map((n) => {
    const at = new Map(n.series.t.map((t, i) => [t, n.series[metric][i]]));
    return ts.map((t) => (at.has(t) ? at.get(t) : null));
  })];
  const names = withSeries.map((n) => n.id).join(',');
  const last = withSeries.reduce((s, n) => s + (n.series[metric].at(-1) || 0), 0);
  useEffect(() => {
    const opts = {
      width: 420,
      height: 160,
      title,
      series: [{}, ...withSeries.map((n, i) => ({ label: n.id, stroke: COLORS[i % COLORS.length], spanGaps: true }))],
      axes: [{}, { size: 60 }],
      legend: { show: true },
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, el.current);
    return () => plot.current?.destroy();
  }, [names]);
  useEffect(() => {
    plot.current?.setData(data);
  });
  return (
    <figure class="chart" data-metric={metric} data-points={ts.length} data-last={last} aria-label={`${title}: ${ts.length} samples, latest total ${Math.round(last * 100) / 100}`}>
      <div ref={el} />
    </figure>
  );
}

function Nodes({ nodes, sampleMs }) {
  if (!nodes) return <p>Loading…</p>;
  return (
    <section aria-labelledby="nodes-h">
      <h2 id="nodes-h">Nodes</h2>
      <table id="nodes">
        <caption>Nodes of the cluster, sampled every {sampleMs / 1000} s while the console is open</caption>
        <thead>
          <tr><th scope="col">Node</th><th scope="col">Role</th><th scope="col">Health</th><th scope="col">Connections</th><th scope="col">Docs</th><th scope="col">Deliveries/s</th><th scope="col">Lag</th></tr>
        </thead>
        <tbody>
          {nodes.map((n) => (
            <tr key={n.id} data-node={n.id} data-role={n.role}>
              <th scope="row">{n.id}</th>
              <td>{n.role}</td>
              <td class={n.ready ? 'ok' : 'bad'}>{n.ready ? 'ready' : n.error || 'not ready'}</td>
              <td>{n.last?.connections ?? '–'}</td>
              <td>{n.last?.docs ?? '–'}</td>
              <td>{n.last ? n.last.deliveriesPerSec.toFixed(1) : '–'}</td>
              <td>{n.last?.lag ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="charts">
        {METRICS.map(([m, t]) => <Chart key={m} metric={m} title={t} nodes={nodes} />)}
      </div>
    </section>
  );
}

function Inspector({ nodes }) {
  const [doc, setDoc] = useState(new URLSearchParams(location.search).get('doc') || '');
  // gateways take JWTs, not API keys: with auth on, the live view needs a read token
  const [token, setToken] = useState(sessionStorage.getItem('replicant-console-token') || '');
  const [target, setTarget] = useState('');
  const [live, setLive] = useState(null);
  const [presence, setPresence] = useState(null);
  const [info, setInfo] = useState(null);
  const [error, setError] = useState('');
  const gateway = nodes?.find((n) => (n.role === 'gateway' || n.role === 'dev') && n.public && n.ready)?.public;
  useEffect(() => {
    if (!target || !gateway) return undefined;
    let client;
    let closed = false;
    setLive(null);
    setPresence(null);
    import('/console/sdk.js').then(({ connect }) => {
      if (closed) return;
      client = connect(gateway, { token: sessionStorage.getItem('replicant-console-token') || undefined, protocol: 'json' });
      client.subscribe(target, (d) => setLive({ seq: String(d.seq), state: d.state }));
      client.subscribe(`${target}~presence`, (d) => setPresence(d.state));
    }, (e) => setError(String(e)));
    const load = () => api(`/console/api/doc?id=${encodeURIComponent(target)}`).then(setInfo, (e) => setError(e.message));
    load();
    const t = setInterval(load, 5000);
    return () => {
      closed = true;
      clearInterval(t);
      void client?.close();
    };
  }, [target, gateway]);
  const ops = info?.history?.ops || [];
  return (
    <section aria-labelledby="inspector-h">
      <h2 id="inspector-h">Document inspector</h2>
      <form onSubmit={(e) => { e.preventDefault(); setError(''); sessionStorage.setItem('replicant-console-token', token); setTarget(doc.trim()); }}>
        <label for="doc-id">Document id</label>
        <input id="doc-id" value={doc} onInput={(e) => setDoc(e.currentTarget.value)} />
        <label for="read-token">Read token (JWT; only when auth is on)</label>
        <input id="read-token" type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        <button type="submit">Inspect</button>
      </form>
      {error && <p role="alert" class="error">{error}</p>}
      {target && (
        <div class="inspector">
          <div>
            <h3>Live state <small>(seq <span id="live-seq">{live?.seq ?? '…'}</span>, via {gateway || 'no gateway'})</small></h3>
            <pre id="live-state" aria-live="polite">{live ? JSON.stringify(live.state, null, 2) : 'connecting…'}</pre>
            <h3>At origin <small>(seq {info?.current?.seq ?? '…'}, read every 5 s)</small></h3>
            <pre id="origin-state">{info?.current?.state ? JSON.stringify(info.current.state, null, 2) : info?.current?.error?.message || '…'}</pre>
            <h3>Presence</h3>
            <pre id="presence">{presence ? JSON.stringify(presence, null, 2) : '{}'}</pre>
          </div>
          <div>
            <h3>Recent ops</h3>
            {info?.history?.error ? <p class="error">{info.history.error.message || info.history.error.code}</p> : (
              <ol id="ops">{ops.slice().reverse().map((o) => <li key={o.seq}><code>{o.seq}</code> {JSON.stringify(o.patch)}</li>)}</ol>
            )}
            <h3>Subscribers per gateway</h3>
            <table id="subscribers">
              <thead><tr><th scope="col">Gateway</th><th scope="col">Subscribers</th></tr></thead>
              <tbody>{(info?.subscribers || []).map((s) => <tr key={s.gateway}><th scope="row">{s.gateway}</th><td>{s.subscribers ?? '?'}</td></tr>)}</tbody>
            </table>
          </div>
        </div>
      )}
    </section>
  );
}

function Connections() {
  const [sub, setSub] = useState('');
  const [page, setPage] = useState(null);
  const [msg, setMsg] = useState('');
  const search = useCallback(async () => {
    setMsg('');
    try {
      setPage(await api(`/console/api/connections?limit=100${sub ? `&sub=${encodeURIComponent(sub)}` : ''}`));
    } catch (e) {
      setMsg(e.message);
    }
  }, [sub]);
  const disconnect = async (s) => {
    if (!s) return;
    try {
      await api(`/console/api/disconnect?sub=${encodeURIComponent(s)}`, { method: 'POST' });
      setMsg(`disconnected ${s}`);
    } catch (e) {
      setMsg(e.message);
    }
  };
  return (
    <section aria-labelledby="conns-h">
      <h2 id="conns-h">Connections</h2>
      <form onSubmit={(e) => { e.preventDefault(); void search(); }}>
        <label for="sub">User (sub)</label>
        <input id="sub" value={sub} onInput={(e) => setSub(e.currentTarget.value)} />
        <button type="submit">Search</button>
        <button type="button" id="disconnect-user" disabled={!sub} onClick={() => disconnect(sub)}>Disconnect user</button>
      </form>
      {msg && <p role="status" id="conn-msg">{msg}</p>}
      {page && (
        <table id="connections">
          <caption>{page.connections.length} connection(s){page.next ? ' (more)' : ''}</caption>
          <thead><tr><th scope="col">Connection</th><th scope="col">User</th><th scope="col">Gateway</th><th scope="col">Docs</th><th scope="col">Since</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
          <tbody>
            {page.connections.map((c) => (
              <tr key={c.id} data-conn={c.id}>
                <th scope="row">{c.id}</th><td>{c.sub}</td><td>{c.gateway}</td><td>{c.docs}</td><td>{new Date(c.since).toLocaleTimeString()}</td>
                <td><button type="button" aria-label={`Disconnect ${c.sub}`} onClick={() => disconnect(c.sub)}>Disconnect</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const TABS = [['nodes', 'Nodes'], ['inspector', 'Inspector'], ['connections', 'Connections']];

function App() {
  const [phase, setPhase] = useState('checking'); // checking | signin | in
  const [error, setError] = useState('');
  const [data, setData] = useState(null);
  const [tab, setTab] = useState(new URLSearchParams(location.search).get('tab') || 'nodes');
  const refresh = useCallback(() => api('/console/api/nodes').then((d) => {
    setData(d);
    setError(''); // a refused key's message does not outlive the sign-in
    setPhase('in');
  }, (e) => {
    if (e.status === 401 || e.status === 403) {
      setError(getKey() ? e.message : '');
      setPhase('signin');
    } else setError(e.message);
  }), []);
  useEffect(() => {
    void refresh();
  }, []);
  useEffect(() => {
    if (phase !== 'in') return undefined;
    const t = setInterval(refresh, Math.min(data?.sampleMs || 5000, 5000));
    return () => clearInterval(t);
  }, [phase]);
  const onKey = (e) => {
    const i = TABS.findIndex(([k]) => k === tab);
    const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!d) return;
    const next = TABS[(i + d + TABS.length) % TABS.length][0];
    setTab(next);
    document.getElementById(`tab-${next}`)?.focus();
  };
  return (
    <>
      <header>
        <h1>Replicant console</h1>
        {phase === 'in' && getKey() && <button type="button" id="sign-out" onClick={() => { sessionStorage.removeItem(KEY); location.reload(); }}>Sign out</button>}
      </header>
      {phase === 'checking' && <p>Loading…</p>}
      {phase === 'signin' && <SignIn error={error} onDone={() => void refresh()} />}
      {phase === 'in' && (
        <main>
          <nav role="tablist" aria-label="Console sections" onKeyDown={onKey}>
            {TABS.map(([k, label]) => (
              <button type="button" role="tab" id={`tab-${k}`} key={k} aria-selected={tab === k} aria-controls={`panel-${k}`} tabIndex={tab === k ? 0 : -1} onClick={() => setTab(k)}>{label}</button>
            ))}
          </nav>
          {error && <p role="alert" class="error">{error}</p>}
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
            {tab === 'nodes' && <Nodes nodes={data?.nodes} sampleMs={data?.sampleMs || 5000} />}
            {tab === 'inspector' && <Inspector nodes={data?.nodes} />}
            {tab === 'connections' && <Connections />}
          </div>
        </main>
      )}
    </>
  );
}

render(<App />, document.getElementById('app'));
