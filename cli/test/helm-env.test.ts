/**
 * The chart's environment is the real one: render the chart, take each container's env from the
 * manifests exactly, resolve what Kubernetes would resolve (fieldRef, secretKeyRef, `$(VAR)`,
 * Service and headless-Service DNS names) into local equivalents — each pod its own 127.0.x.y
 * address with its container ports mapped to free ports, the external Kafka and Redis addresses to
 * a real local Kafka broker and redis-server — and run origin, fanout ×2 and gateway ×2 as
 * `replicant` processes (cli/bin/replicant.js, the image's entrypoint) with exactly that env and
 * nothing else. Then SDK clients on both gateways, authenticated with a token signed with the
 * chart-generated JWT secret, converge on HTTP writes made with the chart-generated API key.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, halt, launch, startKafka, startRedis, type KafkaCluster, type RedisServer } from '@replicant/testkit';
import { ROOT, render, type EnvVar, type K8sObject } from './helm.js';
import { runConvergence } from './convergence.js';
import { sign } from './tokens.js';

const NAMESPACE = 'replicant';
const DOMAIN = 'cluster.local';
const KAFKA_ADDRESS = 'my-cluster-kafka-bootstrap.kafka.svc:9092';
const REDIS_ADDRESS = 'redis-master.redis.svc:6379';
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

/** Kubernetes' `$(VAR)` expansion against the variables defined before (`$$` is a literal `$`) */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : name !== undefined && name in env ? env[name] : m));
}

function secretValue(objs: K8sObject[], ref: { name: string; key: string; optional?: boolean }): string | undefined {
  const s = objs.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
  const v = s?.stringData?.[ref.key] ?? (s?.data?.[ref.key] !== undefined ? Buffer.from(s.data[ref.key], 'base64').toString('utf8') : undefined);
  if (v === undefined && !ref.optional) throw new Error(`secretKeyRef ${ref.name}/${ref.key} is not in the rendered Secrets`);
  return v;
}

/** the pods of every workload, each with its own loopback address and free ports for its container ports */
async function podsOf(objs: K8sObject[]): Promise<LocalPod[]> {
  const pods: LocalPod[] = [];
  let n = 0;
  for (const w of objs.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
    for (let i = 0; i < w.spec.replicas; i++) {
      const sts = w.kind === 'StatefulSet';
      const labels: Record<string, string> = { ...w.spec.template.metadata.labels };
      if (sts) labels['apps.kubernetes.io/pod-index'] = String(i);
      const c = w.spec.template.spec.containers[0];
      const ports = new Map<number, number>();
      const named = new Map<string, number>();
      for (const p of c.ports) {
        ports.set(p.containerPort, await freePort());
        named.set(p.name, p.containerPort);
      }
      n++;
      pods.push({
        name: sts ? `${w.metadata.name}-${i}` : `${w.metadata.name}-5d8f9c7b6-x${i}`,
        tier: labels['app.kubernetes.io/component'],
        workload: w,
        labels,
        ip: `127.0.${100 + Math.floor(n / 250)}.${(n % 250) + 1}`,
        ports,
        named,
      });
    }
  }
  return pods;
}

/** what cluster DNS would answer for host:port, as a local address: Services, headless pod names, Kafka, Redis */
function addressTable(objs: K8sObject[], pods: LocalPod[], kafka: KafkaCluster, redis: RedisServer): Map<string, string> {
  const t = new Map<string, string>([
    [KAFKA_ADDRESS, kafka.bootstraps.join(',')],
    [REDIS_ADDRESS, `127.0.0.1:${redis.port}`],
  ]);
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

/** the process env of a pod: its container's env resolved as the kubelet would, then made local */
function podEnv(objs: K8sObject[], pod: LocalPod, addresses: Map<string, string>): Record<string, string> {
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
    } else if (e.valueFrom?.secretKeyRef) v = secretValue(objs, e.valueFrom.secretKeyRef);
    else throw new Error(`${pod.name}: ${e.name} has a source this test does not resolve: ${JSON.stringify(e)}`);
    if (v !== undefined) env[e.name] = v;
  }
  // local equivalents: the pod's own address for "all interfaces", its mapped ports, and DNS names
  for (const [k, v] of Object.entries(env)) {
    if (k === 'HOST' && (v === '0.0.0.0' || v === '::')) env[k] = pod.ip;
    else if (/PORT$/.test(k) && pod.ports.has(Number(v))) env[k] = String(pod.ports.get(Number(v)));
    else env[k] = v.replace(/[A-Za-z0-9][A-Za-z0-9.-]*:\d+/g, (hp) => addresses.get(hp) ?? hp);
  }
  return env;
}

let kafka: KafkaCluster;
let redis: RedisServer;
const procs: ChildProcess[] = [];

before(async () => {
  kafka = await startKafka({ nodes: 1 });
  redis = await startRedis();
});

after(async () => {
  for (const p of procs.reverse()) await halt(p, 'SIGTERM');
  await redis?.close();
  await kafka?.stop();
});

test('the rendered env runs: origin, fanout ×2, gateway ×2 as processes with exactly that env converge', async () => {
  const objs = render({
    namespace: NAMESPACE,
    sets: [`kafka.brokers={${KAFKA_ADDRESS}}`, `redis.url=redis://${REDIS_ADDRESS}`, 'kafka.partitions=4', 'gateway.replicas=2', 'fanout.replicas=2', 'origin.replicas=1'],
  });
  const pods = await podsOf(objs);
  assert.deepEqual(pods.map((p) => p.tier).sort(), ['fanout', 'fanout', 'gateway', 'gateway', 'origin']);
  const addresses = addressTable(objs, pods, kafka, redis);
  const envs = new Map(pods.map((p) => [p, podEnv(objs, p, addresses)]));

  // what the chart wired, seen through the local resolution
  const fanouts = pods.filter((p) => p.tier === 'fanout');
  for (const [i, f] of fanouts.entries()) {
    const e = envs.get(f)!;
    assert.equal(e.REPLICA_INDEX, String(i));
    assert.equal(e.REPLICA_COUNT, '2');
    assert.equal(e.NODE_ID, f.name);
    assert.equal(e.ADVERTISE_ADDRESS, `${f.ip}:${f.ports.get(7000)}`, 'the headless-Service name of the pod');
    assert.equal(e.KAFKA_BROKERS, kafka.bootstraps.join(','));
  }
  const origin = pods.find((p) => p.tier === 'origin')!;
  const gateways = pods.filter((p) => p.tier === 'gateway');
  for (const g of gateways) assert.equal(envs.get(g)!.ORIGIN_URL, `http://${origin.ip}:${origin.ports.get(8081)}`);
  for (const e of envs.values()) {
    assert.ok(e.CLUSTER_SECRET.length >= 16, 'CLUSTER_SECRET from the chart Secret');
    assert.equal(e.REDIS_URL, redis.url);
    assert.equal(e.AUTH_DISABLED, undefined, 'client auth is on');
  }
  const secret = objs.find((o) => o.kind === 'Secret')!.stringData as Record<string, string>;

  const start = async (pod: LocalPod) => {
    const args = [BIN, ...pod.workload.spec.template.spec.containers[0].args];
    const child = await launch({ name: `replicant ${pod.name}`, bin: process.execPath, args, env: envs.get(pod), ready: / ready on /, startTimeoutMs: 90_000, dieWithParent: true });
    procs.push(child);
    return child;
  };
  await start(origin); // creates the topic
  await Promise.all(fanouts.map(start));
  await Promise.all(gateways.map(start));

  // readiness as the kubelet sees it: /readyz on each pod's admin port
  for (const p of pods) {
    const r = await fetch(`http://${p.ip}:${p.ports.get(p.named.get('admin')!)}/readyz`);
    assert.equal(r.status, 200, `${p.name} /readyz`);
  }

  const token = await sign({ sub: 'helm-test', read: ['*'], write: ['*'] }, secret['jwt-secret']);
  await runConvergence({
    wsUrls: gateways.map((g) => `ws://${g.ip}:${g.ports.get(8080)}/v1/stream`),
    originUrl: `http://${origin.ip}:${origin.ports.get(8081)}`,
    token,
    headers: { authorization: `Bearer ${secret['api-keys'].split(',')[0]}` },
    clients: 8,
    docs: 4,
    writers: 4,
    writes: 200,
    prefix: 'helm',
    noErrors: true,
  });

  // without the chart's credentials nothing is written
  const r = await fetch(`http://${origin.ip}:${origin.ports.get(8081)}/v1/docs/helm-0`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
  assert.equal(r.status, 401);
});
