/**
 * The chart's environment is the real one: render the chart, take each container's env from the
 * manifests exactly, resolve what the kubelet and cluster DNS would (fieldRef, secretKeyRef,
 * `$(VAR)`, Secret volumes, Service and headless-Service names) into local equivalents — each pod
 * its own 127.0.x.y address with its container ports mapped to free ports, Secret volumes as
 * files in a temporary directory, the external Kafka, Redis and JWKS addresses to a real local
 * Kafka broker, redis-server and JWKS endpoint — and run origin, fanout ×2 and gateway ×2 as
 * `replicant` processes (cli/bin/replicant.js, the image's entrypoint, with the container's args)
 * with exactly that env and nothing else. Then clients on both gateways converge.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { connect, type ReplicantClient, type WebSocketConstructor } from '@replicant/sdk';
import { freePort, halt, launch, ownDir, startKafka, startRedis, type KafkaCluster, type RedisServer } from '@replicant/testkit';
import { PRODUCTION_VALUES, ROOT, render, type EnvVar, type K8sObject } from './helm.js';
import { runConvergence } from './convergence.js';
import { keyPair, serveJwks, sign } from './tokens.js';

const NAMESPACE = 'replicant';
const DOMAIN = 'cluster.local';
const BIN = join(ROOT, 'cli', 'bin', 'replicant.js');

/** a pod of the rendered manifests, as it runs here */
interface LocalPod {
  name: string;
  tier: string;
  workload: K8sObject;
  labels: Record<string, string>;
  ip: string;
  /** containerPort -> local port */
  ports: Map<number, number>;
  /** named port -> containerPort */
  named: Map<string, number>;
}

/** what is outside the chart: addresses (host:port -> local host:port) and Secrets it references */
interface Outside {
  addresses: Record<string, string>;
  secrets?: Record<string, Record<string, string>>;
}

/** Kubernetes' `$(VAR)` expansion against the variables defined before (`$$` is a literal `$`) */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : name !== undefined && name in env ? env[name] : m));
}

/** a Secret's data: rendered by the chart (stringData or base64 data) or given from outside */
function secretData(objs: K8sObject[], outside: Outside, name: string): Record<string, string> | undefined {
  const s = objs.find((o) => o.kind === 'Secret' && o.metadata.name === name);
  if (s === undefined) return outside.secrets?.[name];
  const out: Record<string, string> = { ...s.stringData };
  for (const [k, b64] of Object.entries((s.data ?? {}) as Record<string, string>)) out[k] = Buffer.from(b64, 'base64').toString('utf8');
  return out;
}

/** the pods of every workload, each with its own loopback address and free ports for its container ports */
async function podsOf(objs: K8sObject[]): Promise<LocalPod[]> {
  const pods: LocalPod[] = [];
  for (const w of objs.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
    for (let i = 0; i < w.spec.replicas; i++) {
      const sts = w.kind === 'StatefulSet';
      const labels: Record<string, string> = { ...w.spec.template.metadata.labels };
      if (sts) labels['apps.kubernetes.io/pod-index'] = String(i);
      const ports = new Map<number, number>();
      const named = new Map<string, number>();
      for (const p of w.spec.template.spec.containers[0].ports) {
        ports.set(p.containerPort, await freePort());
        named.set(p.name, p.containerPort);
      }
      pods.push({
        name: sts ? `${w.metadata.name}-${i}` : `${w.metadata.name}-5d8f9c7b6-x${i}`,
        tier: labels['app.kubernetes.io/component'],
        workload: w,
        labels,
        ip: `127.0.100.${pods.length + 2}`,
        ports,
        named,
      });
    }
  }
  return pods;
}

/** what cluster DNS would answer for host:port, as a local address: Services, headless pod names, and the outside */
function addressTable(objs: K8sObject[], pods: LocalPod[], outside: Outside): Map<string, string> {
  const t = new Map<string, string>(Object.entries(outside.addresses));
  const dnsNames = (name: string) => [name, `${name}.${NAMESPACE}`, `${name}.${NAMESPACE}.svc`, `${name}.${NAMESPACE}.svc.${DOMAIN}`];
  const local = (pod: LocalPod, target: string | number) => {
    const containerPort = typeof target === 'number' ? target : pod.named.get(target)!;
    return `${pod.ip}:${pod.ports.get(containerPort)}`;
  };
  for (const svc of objs.filter((o) => o.kind === 'Service')) {
    const sel = svc.spec.selector as Record<string, string>;
    const backing = pods.filter((p) => Object.entries(sel).every(([k, v]) => p.labels[k] === v));
    if (backing.length === 0) continue;
    for (const sp of svc.spec.ports as { port: number; targetPort: string | number }[]) {
      // a ClusterIP balances over its pods; any one of them is a faithful stand-in for a test
      for (const dns of dnsNames(svc.metadata.name)) t.set(`${dns}:${sp.port}`, local(backing[0], sp.targetPort));
      if (svc.spec.clusterIP === 'None') {
        for (const pod of backing.filter((p) => p.workload.spec.serviceName === svc.metadata.name)) {
          for (const dns of dnsNames(svc.metadata.name)) t.set(`${pod.name}.${dns}:${sp.port}`, local(pod, sp.targetPort));
        }
      }
    }
  }
  return t;
}

/** the pod's volumes as local directories: Secret volumes filled with their keys, emptyDirs empty (mountPath -> dir) */
function podVolumes(objs: K8sObject[], pod: LocalPod, outside: Outside, root: string): Map<string, string> {
  const spec = pod.workload.spec.template.spec;
  const mounts = new Map<string, string>();
  for (const m of spec.containers[0].volumeMounts as { name: string; mountPath: string }[]) {
    const vol = (spec.volumes as { name: string; secret?: { secretName: string }; emptyDir?: object }[]).find((v) => v.name === m.name);
    const dir = join(root, pod.name, m.name);
    mkdirSync(dir, { recursive: true });
    if (vol?.secret) {
      const data = secretData(objs, outside, vol.secret.secretName);
      if (data === undefined) throw new Error(`${pod.name}: volume ${m.name} needs Secret ${vol.secret.secretName}`);
      for (const [k, v] of Object.entries(data)) writeFileSync(join(dir, k), v);
    } else if (!vol?.emptyDir) throw new Error(`${pod.name}: volume ${m.name} is neither a Secret nor an emptyDir`);
    mounts.set(m.mountPath, dir);
  }
  return mounts;
}

/** the process env of a pod: its container's env resolved as the kubelet would, then made local */
function podEnv(objs: K8sObject[], pod: LocalPod, addresses: Map<string, string>, mounts: Map<string, string>, outside: Outside): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of pod.workload.spec.template.spec.containers[0].env as EnvVar[]) {
    let v: string | undefined;
    if (e.value !== undefined) v = expand(e.value, env);
    else if (e.valueFrom?.fieldRef) {
      const path = e.valueFrom.fieldRef.fieldPath as string;
      const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
      if (path === 'metadata.name') v = pod.name;
      else if (path === 'metadata.namespace') v = NAMESPACE;
      else if (path === 'status.podIP') v = pod.ip;
      else if (label) v = pod.labels[label[1]];
      else throw new Error(`${pod.name}: fieldRef ${path} is not resolved by this test`);
      if (v === undefined) throw new Error(`${pod.name}: fieldRef ${path} has no value`);
    } else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef as { name: string; key: string; optional?: boolean };
      v = secretData(objs, outside, ref.name)?.[ref.key];
      if (v === undefined && !ref.optional) throw new Error(`${pod.name}: ${e.name} needs key ${ref.key} of Secret ${ref.name}`);
    } else throw new Error(`${pod.name}: ${e.name} has a source this test does not resolve: ${JSON.stringify(e)}`);
    if (v !== undefined) env[e.name] = v;
  }
  // local equivalents: the pod's own address for "all interfaces", its mapped ports, mounted
  // files, and DNS names
  for (const [k, v] of Object.entries(env)) {
    const mount = [...mounts.keys()].find((m) => v.startsWith(`${m}/`));
    if (k === 'HOST' && (v === '0.0.0.0' || v === '::')) env[k] = pod.ip;
    else if (/PORT$/.test(k) && pod.ports.has(Number(v))) env[k] = String(pod.ports.get(Number(v)));
    else if (mount !== undefined) env[k] = mounts.get(mount)! + v.slice(mount.length);
    else env[k] = v.replace(/[A-Za-z0-9][A-Za-z0-9.-]*:\d+/g, (hp) => addresses.get(hp) ?? hp);
  }
  return env;
}

interface Running {
  pods: LocalPod[];
  envs: Map<LocalPod, Record<string, string>>;
  tier(t: string): LocalPod[];
  /** host:port of a pod's named container port */
  at(pod: LocalPod, port: string): string;
}

let kafka: KafkaCluster;
let redis: RedisServer;
const procs: ChildProcess[] = [];
let scratch: string;

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'replicant-helm-env-'));
  ownDir(scratch);
  kafka = await startKafka({ nodes: 1 });
  redis = await startRedis();
});

after(async () => {
  await stopAll();
  await redis?.close();
  await kafka?.stop();
});

async function stopAll(): Promise<void> {
  for (const p of procs.splice(0).reverse()) await halt(p, 'SIGTERM');
}

/** starts every pod of the rendered objects as a process: origin, then the replicas, then the gateways */
async function runRendered(objs: K8sObject[], outside: Outside, dir: string): Promise<Running> {
  const pods = await podsOf(objs);
  const addresses = addressTable(objs, pods, outside);
  const envs = new Map(pods.map((p) => [p, podEnv(objs, p, addresses, podVolumes(objs, p, outside, dir), outside)]));
  const tier = (t: string) => pods.filter((p) => p.tier === t);
  const start = async (pod: LocalPod) => {
    const args = [BIN, ...pod.workload.spec.template.spec.containers[0].args];
    procs.push(await launch({ name: `replicant ${pod.name}`, bin: process.execPath, args, env: envs.get(pod), ready: / ready on /, startTimeoutMs: 90_000, dieWithParent: true }));
  };
  for (const p of tier('origin')) await start(p); // the first one creates the topic
  await Promise.all(tier('fanout').map(start));
  await Promise.all(tier('gateway').map(start));
  const at = (pod: LocalPod, port: string) => `${pod.ip}:${pod.ports.get(pod.named.get(port)!)}`;
  // readiness as the kubelet sees it: /readyz on each pod's admin port, probed as a readinessProbe
  // does (a gateway becomes ready only once it holds the ~control base, shortly after its ready line)
  for (const p of pods) {
    let status = 0;
    for (const deadline = Date.now() + 10_000; status !== 200 && Date.now() < deadline; ) {
      if (status !== 0) await new Promise((r) => setTimeout(r, 100)); // the probe period
      status = (await fetch(`http://${at(p, 'admin')}/readyz`)).status;
    }
    assert.equal(status, 200, `${p.name} /readyz`);
  }
  return { pods, envs, tier, at };
}

const TOPOLOGY = ['gateway.replicas=2', 'fanout.replicas=2', 'origin.replicas=1', 'kafka.partitions=4'];

test('default values: origin, fanout ×2, gateway ×2 run with exactly the rendered env and converge on HTTP writes', async () => {
  const kafkaAt = 'my-cluster-kafka-bootstrap.kafka.svc:9092';
  const redisAt = 'redis-master.redis.svc:6379';
  const objs = render({ namespace: NAMESPACE, sets: [`kafka.brokers={${kafkaAt}}`, `redis.url=redis://${redisAt}`, ...TOPOLOGY] });
  const run = await runRendered(objs, { addresses: { [kafkaAt]: kafka.bootstraps.join(','), [redisAt]: `127.0.0.1:${redis.port}` } }, join(scratch, 'default'));
  try {
    assert.deepEqual(run.pods.map((p) => p.tier).sort(), ['fanout', 'fanout', 'gateway', 'gateway', 'origin']);
    // what the chart wired, seen through the local resolution
    for (const [i, f] of run.tier('fanout').entries()) {
      const e = run.envs.get(f)!;
      assert.equal(e.REPLICA_INDEX, String(i));
      assert.equal(e.REPLICA_COUNT, '2');
      assert.equal(e.NODE_ID, f.name);
      assert.equal(e.ADVERTISE_ADDRESS, run.at(f, 'link'), 'the headless-Service name of the pod');
      assert.equal(e.KAFKA_BROKERS, kafka.bootstraps.join(','));
    }
    const [origin] = run.tier('origin');
    for (const g of run.tier('gateway')) assert.equal(run.envs.get(g)!.ORIGIN_URL, `http://${run.at(origin, 'http')}`);
    for (const e of run.envs.values()) {
      assert.ok(e.CLUSTER_SECRET.length >= 16, 'CLUSTER_SECRET from the chart Secret');
      assert.equal(e.REDIS_URL, redis.url);
      assert.equal(e.AUTH_DISABLED, undefined, 'client auth is on');
    }
    const secret = objs.find((o) => o.kind === 'Secret')!.stringData as Record<string, string>;
    const token = await sign({ sub: 'helm-test', read: ['*'], write: ['*'] }, secret['jwt-secret']);
    const apiKey = secret['api-keys'].split(',')[0];
    await runConvergence({
      wsUrls: run.tier('gateway').map((g) => `ws://${run.at(g, 'ws')}/v1/stream`),
      originUrl: `http://${run.at(origin, 'http')}`,
      token,
      headers: { authorization: `Bearer ${apiKey}` },
      clients: 8,
      docs: 4,
      writers: 4,
      writes: 200,
      prefix: 'helm',
      noErrors: true,
    });
    // without the chart's credentials nothing is written
    const r = await fetch(`http://${run.at(origin, 'http')}/v1/docs/helm-0`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
    assert.equal(r.status, 401);
  } finally {
    await stopAll();
  }
});

/** a CA and a certificate it signed for `ips` and `dns` names (openssl, as in security.test.ts) */
function certificate(dir: string, ips: string[], dns: string[]): { ca: string; cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'];
  execFileSync('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-subj', '/CN=helm-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], { stdio: 'ignore' });
  const san = [...ips.map((i) => `IP:${i}`), ...dns.map((d) => `DNS:${d}`)].join(',');
  execFileSync('openssl', ['req', '-x509', '-CA', f('ca.crt'), '-CAkey', f('ca.key'), ...ec, '-keyout', f('tls.key'), '-out', f('tls.crt'), '-subj', '/CN=replicant', '-addext', `subjectAltName=${san}`], { stdio: 'ignore' });
  return { ca: readFileSync(f('ca.crt'), 'utf8'), cert: readFileSync(f('tls.crt'), 'utf8'), key: readFileSync(f('tls.key'), 'utf8') };
}

/** GET over https trusting `ca` (fetch cannot take a CA) */
function getJson(url: string, ca: string, headers: Record<string, string>): Promise<{ seq: string; state: unknown }> {
  return new Promise((resolve, reject) => {
    request(url, { ca, headers }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`GET ${url}: ${res.statusCode} ${body}`))));
    })
      .on('error', reject)
      .end();
  });
}

test('production-like values (TLS, JWKS auth, Redis URL from an existing Secret): publishes through both gateways reach origin over https and converge', async () => {
  const jwtKey = keyPair('ES256', 'helm-k1');
  const jwks = await serveJwks([jwtKey]);
  const jwksAt = 'idp.auth.svc:8080';
  const objs = render({ namespace: NAMESPACE, files: [PRODUCTION_VALUES], sets: [...TOPOLOGY, `auth.jwksUrl=http://${jwksAt}/jwks.json`] });
  const prodKafka = 'replicant-kafka-bootstrap.kafka.svc:9092';
  // the certificate cert-manager would issue as docs/deploy.md says: origin's Service names (and
  // here the pods' addresses, which this test maps the names to)
  const ips = Array.from({ length: 5 }, (_, i) => `127.0.100.${i + 2}`);
  const tls = certificate(join(scratch, 'pki'), ips, [`rt-replicant-origin.${NAMESPACE}.svc`, `rt-replicant-origin.${NAMESPACE}.svc.${DOMAIN}`]);
  try {
    // in a cluster gateways check that certificate against ORIGIN_URL's host as rendered (the
    // processes below see it mapped to an IP, which the certificate names too, so they cannot tell)
    const originUrl = objs.find((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'gateway')!
      .spec.template.spec.containers[0].env.find((e: EnvVar) => e.name === 'ORIGIN_URL').value as string;
    const originHost = new URL(originUrl).hostname;
    assert.equal(new X509Certificate(tls.cert).checkHost(originHost), originHost, `the documented certificate does not name ORIGIN_URL's host ${originHost}`);
    const run = await runRendered(
      objs,
      {
        addresses: { [prodKafka]: kafka.bootstraps.join(','), [jwksAt]: new URL(jwks.url).host },
        secrets: { 'replicant-redis': { url: redis.url }, 'replicant-tls': { 'tls.crt': tls.cert, 'tls.key': tls.key, 'ca.crt': tls.ca } },
      },
      join(scratch, 'production'),
    );
    const [origin] = run.tier('origin');
    const gateways = run.tier('gateway');
    for (const g of gateways) {
      const e = run.envs.get(g)!;
      assert.equal(e.ORIGIN_URL, `https://${run.at(origin, 'http')}`);
      assert.equal(readFileSync(e.NODE_EXTRA_CA_CERTS, 'utf8'), tls.ca);
      assert.equal(e.MAX_SUBSCRIPTIONS, '5000');
    }
    assert.equal(run.envs.get(origin)!.REDIS_URL, redis.url);
    const token = await sign({ sub: 'helm-prod', read: ['prod-*'], write: ['prod-*'], iss: 'https://auth.example.com/', aud: 'replicant', exp: Math.floor(Date.now() / 1000) + 600 }, jwtKey);
    // wss with the CA (the SDK takes a WebSocket class; ws takes the CA)
    class TrustingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { ca: tls.ca });
      }
    }
    const docs = ['prod-0', 'prod-1', 'prod-2'];
    const clients: ReplicantClient[] = [];
    try {
      for (const [i, g] of [...gateways, ...gateways].entries()) {
        clients.push(connect(`wss://${run.at(g, 'ws')}/v1/stream`, { token, protocol: i % 2 === 0 ? 'binary' : 'json', WebSocket: TrustingWebSocket as unknown as WebSocketConstructor }));
      }
      await Promise.all(clients.flatMap((c) => docs.map((d) => new Promise<void>((resolve) => c.subscribe(d, () => resolve())))));
      const acks: Promise<bigint>[] = [];
      for (let k = 0; k < 10; k++) for (const [i, c] of clients.entries()) for (const d of docs) acks.push(c.publish(d, { [`c${i}-${k}`]: k }));
      await Promise.all(acks);
      const apiKey = (objs.find((o) => o.kind === 'Secret')!.stringData as Record<string, string>)['api-keys'].split(',')[0];
      for (const d of docs) {
        const fin = await getJson(`https://${run.at(origin, 'http')}/v1/docs/${d}`, tls.ca, { authorization: `Bearer ${apiKey}` });
        // a client's publishes travel concurrently (gateway -> origin), so every op is a key of its own
        const want = Object.fromEntries(clients.flatMap((_, i) => Array.from({ length: 10 }, (_, k) => [`c${i}-${k}`, k])));
        assert.deepEqual(fin.state, want, `${d}: every acknowledged publish is in origin's state`);
        await Promise.all(
          clients.map(
            (c) =>
              new Promise<void>((resolve) => {
                const sub = c.subscribe(d, (live) => {
                  if (live.seq >= BigInt(fin.seq)) {
                    sub.unsubscribe();
                    resolve();
                  }
                });
              }),
          ),
        );
        for (const c of clients) {
          const live = c.subscribe(d, () => {}).doc;
          assert.equal(String(live.seq), fin.seq);
          assert.deepEqual(live.state, fin.state);
        }
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  } finally {
    await stopAll();
    await jwks.close();
  }
});
