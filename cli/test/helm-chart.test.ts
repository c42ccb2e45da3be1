/**
 * The Helm chart (helm/replicant): `helm lint --strict`; renders for the least cluster install,
 * `mode=dev` and a production-like values file, every object valid against the Kubernetes
 * OpenAPI schema; bad values refused by values.schema.json with its message; every setting of
 * the config table reachable through values; the README's values table, the dashboard copy and
 * the typed values' defaults in step with the code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { ownDir } from '@replicant/testkit';
import { parse } from 'yaml';
import { SETTINGS, MODES, type Mode } from '../src/config.js';
import {
  CHART,
  PRODUCTION_VALUES,
  REQUIRED_CLUSTER_SETS,
  ROOT,
  containerEnv,
  find,
  helm,
  helmAsync,
  render,
  templateArgs,
  unknownFields,
  validateObject,
  workload,
  type EnvVar,
  type K8sObject,
  type RenderOptions,
} from './helm.js';

/** Strimzi-style secure backends: the cluster CA, a SCRAM KafkaUser's Secret, a client certificate, Redis' CA */
const SECURE_SETS = [
  'kafka.tls.enabled=true',
  'kafka.tls.caSecret=my-cluster-cluster-ca-cert',
  'kafka.tls.clientCertSecret=replicant-client-tls',
  'kafka.sasl.mechanism=scram-sha-512',
  'kafka.sasl.username=replicant',
  'kafka.sasl.existingSecret=replicant',
  'redis.tlsCaSecret=redis-ca',
];

const CASES: [string, RenderOptions][] = [
  ['default values (cluster mode)', {}],
  ['cluster mode with brokers and Redis given', { sets: REQUIRED_CLUSTER_SETS }],
  ['mode=dev', { sets: ['mode=dev'] }],
  ['production-like values', { files: [PRODUCTION_VALUES] }],
  ['mode=dev without persistence, with Ingress, ServiceMonitor and dashboard', { sets: ['mode=dev', 'dev.persistence.enabled=false', 'ingress.enabled=true', 'metrics.serviceMonitor.enabled=true', 'metrics.grafanaDashboard.enabled=true'] }],
  ['secure Kafka (TLS, SCRAM, mTLS) and Redis (TLS CA, Sentinel)', { sets: [...REQUIRED_CLUSTER_SETS, ...SECURE_SETS, 'redis.sentinels={s1:26379,s2:26379}'] }],
  ['gateway autoscaling, pod-IP replica addresses', { sets: [...REQUIRED_CLUSTER_SETS, 'gateway.autoscaling.enabled=true', 'fanout.advertise=podIP', 'networkPolicy.enabled=true'] }],
];

test('helm lint --strict passes for each case', () => {
  for (const [name, o] of CASES) {
    const args = ['lint', '--strict', CHART];
    for (const f of o.files ?? []) args.push('-f', f);
    for (const s of o.sets ?? []) args.push('--set', s);
    const r = helm(args);
    assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

describe('every rendered object validates against the Kubernetes OpenAPI schema', () => {
  for (const [name, o] of CASES) {
    test(name, () => {
      const objs = render(o);
      assert.ok(objs.length >= 4, `${objs.length} objects`);
      for (const obj of objs) validateObject(obj);
      for (const w of objs.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
        const pod = w.spec.template.spec;
        assert.equal(pod.securityContext.runAsNonRoot, true, w.metadata.name);
        assert.equal(pod.automountServiceAccountToken, false);
        for (const c of pod.containers) {
          assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
          assert.equal(c.securityContext.readOnlyRootFilesystem, true);
          assert.equal(c.securityContext.allowPrivilegeEscalation, false);
          assert.ok(c.volumeMounts.some((m: { mountPath: string }) => m.mountPath === '/tmp'), 'an emptyDir for /tmp');
          const admin = c.ports.find((p: { name: string }) => p.name === 'admin').containerPort;
          assert.equal(c.env.find((e: EnvVar) => e.name === 'ADMIN_PORT').value, String(admin));
          assert.equal(c.livenessProbe.httpGet.path, '/healthz');
          assert.equal(c.readinessProbe.httpGet.path, '/readyz');
          assert.equal(c.readinessProbe.httpGet.port, 'admin');
          assert.deepEqual(c.args, [w.metadata.labels?.['app.kubernetes.io/component']]);
        }
      }
    });
  }
});

test('no rendered object has a field its Kubernetes type lacks (what strict field validation refuses)', () => {
  const objs = CASES.flatMap(([, o]) => render(o));
  assert.deepEqual(unknownFields(objs), []);
  // and a misspelt field deep in a pod template is named
  const d = structuredClone(workload(objs, 'gateway'));
  d.spec.template.spec.containers[0].securityContxt = {};
  const problems = unknownFields([d]);
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], /^Deployment rt-replicant-gateway: .*'"securityContxt"' does not exist in type 'IContainer'/);
});

test('the validator rejects what the API server would (it is not vacuous)', () => {
  const objs = render({ sets: REQUIRED_CLUSTER_SETS });
  const d = structuredClone(workload(objs, 'gateway'));
  d.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
  assert.throws(() => validateObject(d), /containerPort must be integer/);
  const s = structuredClone(find(objs, 'Service', 'rt-replicant-gateway'));
  s.apiVersion = 'v2';
  assert.throws(() => validateObject(s), /no schema for v2 Service/);
});

test('production-like values: 3 gateways, 3 replicas, 2 origins, TLS, ServiceMonitor, NetworkPolicy, Ingress, dashboard', () => {
  const objs = render({ files: [PRODUCTION_VALUES] });
  assert.equal(workload(objs, 'gateway').spec.replicas, 3);
  const fanout = workload(objs, 'fanout');
  assert.equal(fanout.kind, 'StatefulSet');
  assert.equal(fanout.spec.replicas, 3);
  assert.equal(workload(objs, 'origin').spec.replicas, 2);
  const env = (tier: string) => new Map(containerEnv(objs, tier).map((e) => [e.name, e]));
  const f = env('fanout');
  assert.equal(f.get('REPLICA_COUNT')!.value, '3');
  assert.equal(f.get('REPLICA_INDEX')!.valueFrom.fieldRef.fieldPath, "metadata.labels['apps.kubernetes.io/pod-index']");
  assert.equal(f.get('ADVERTISE_ADDRESS')!.value, `$(POD_NAME).${fanout.spec.serviceName}.replicant.svc.cluster.local:7000`);
  const headless = find(objs, 'Service', fanout.spec.serviceName);
  assert.equal(headless.spec.clusterIP, 'None');
  const g = env('gateway');
  assert.equal(g.get('ORIGIN_URL')!.value, 'https://rt-replicant-origin.replicant.svc.cluster.local:8081');
  assert.equal(g.get('TLS_CERT_FILE')!.value, '/etc/replicant/tls/tls.crt');
  assert.equal(g.get('NODE_EXTRA_CA_CERTS')!.value, '/etc/replicant/tls/ca.crt');
  assert.equal(g.get('MAX_SUBSCRIPTIONS')!.value, '5000');
  assert.equal(g.get('AUTH_JWKS_URL')!.value, 'https://auth.example.com/.well-known/jwks.json');
  assert.deepEqual(env('origin').get('REDIS_URL')!.valueFrom.secretKeyRef, { name: 'replicant-redis', key: 'url' });
  // drain: preStop 10 s + min(spread 20 000 + 500, grace 25 000) ms rounded up (21 s) + slack 5 s
  const gw = workload(objs, 'gateway').spec.template.spec;
  assert.equal(gw.containers[0].lifecycle.preStop.sleep.seconds, 10);
  assert.equal(gw.terminationGracePeriodSeconds, 36);
  const np = find(objs, 'NetworkPolicy', 'rt-replicant-fanout');
  assert.deepEqual(np.spec.ingress[0].from[0].podSelector.matchLabels['app.kubernetes.io/component'], 'gateway');
  assert.deepEqual(np.spec.ingress[0].ports, [{ port: 'link', protocol: 'TCP' }]);
  const sm = find(objs, 'ServiceMonitor', 'rt-replicant');
  assert.equal(sm.metadata.labels!.release, 'kube-prometheus-stack');
  const scraped = objs.filter((o) => o.kind === 'Service' && o.metadata.labels?.['replicant.dev/metrics'] === 'true');
  assert.deepEqual(scraped.map((s) => s.metadata.labels!['app.kubernetes.io/component']).sort(), ['fanout', 'gateway', 'origin']);
  for (const s of scraped) assert.ok(s.spec.ports.some((p: { name: string }) => p.name === 'admin'));
  const ing = find(objs, 'Ingress', 'rt-replicant');
  assert.equal(ing.spec.rules[0].http.paths[0].path, '/v1/stream');
  assert.equal(ing.spec.rules[0].http.paths[0].backend.service.name, 'rt-replicant-gateway');
  assert.equal(find(objs, 'PodDisruptionBudget', 'rt-replicant-origin').spec.maxUnavailable, 1);
});

test('default drain sizing: preStop 5 s + 1 s drain + 5 s slack; HPA replaces the replica count', () => {
  const objs = render({ sets: [...REQUIRED_CLUSTER_SETS, 'gateway.autoscaling.enabled=true'] });
  const gw = workload(objs, 'gateway');
  assert.equal(gw.spec.template.spec.terminationGracePeriodSeconds, 11);
  assert.equal(gw.spec.replicas, undefined);
  const hpa = find(objs, 'HorizontalPodAutoscaler', 'rt-replicant-gateway');
  assert.equal(hpa.spec.scaleTargetRef.name, 'rt-replicant-gateway');
  assert.equal(find(objs, 'PodDisruptionBudget', 'rt-replicant-gateway').spec.maxUnavailable, 1);
  // a DRAIN_* given as a setting is what the pod runs with, so it sizes the grace period too
  const viaEnv = render({ sets: [...REQUIRED_CLUSTER_SETS, 'gateway.env.DRAIN_SPREAD_MS=60000', 'env.DRAIN_GRACE_MS=30000'] });
  assert.equal(workload(viaEnv, 'gateway').spec.template.spec.terminationGracePeriodSeconds, 5 + 30 + 5);
});

test('mode=dev: one pod, the embedded log under DATA_DIR on a PersistentVolumeClaim, no cluster tiers', () => {
  const objs = render({ sets: ['mode=dev'] });
  const dev = workload(objs, 'dev');
  assert.equal(dev.kind, 'StatefulSet');
  assert.equal(dev.spec.replicas, 1);
  assert.equal(dev.spec.volumeClaimTemplates[0].metadata.name, 'data');
  assert.equal(dev.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '8Gi');
  const c = dev.spec.template.spec.containers[0];
  assert.ok(c.volumeMounts.some((m: { name: string; mountPath: string }) => m.name === 'data' && m.mountPath === '/data'));
  assert.equal(c.env.find((e: EnvVar) => e.name === 'DATA_DIR').value, '/data');
  assert.deepEqual(objs.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'gateway'), []);
  assert.ok(!c.env.some((e: EnvVar) => e.name === 'KAFKA_BROKERS' || e.name === 'REDIS_URL'));
  const withIngress = render({ sets: ['mode=dev', 'ingress.enabled=true', 'dev.persistence.enabled=false'] });
  assert.deepEqual(find(withIngress, 'Ingress', 'rt-replicant').spec.rules[0].http.paths[0].backend.service, { name: 'rt-replicant-dev', port: { name: 'http' } });
  assert.deepEqual(workload(withIngress, 'dev').spec.template.spec.volumes.find((v: { name: string }) => v.name === 'data'), { name: 'data', emptyDir: {} });
});

describe('bad values fail helm template with the schema message', () => {
  const SCHEMA = /values don't meet the specifications of the schema/;
  const cases: [string, string[], RegExp, string[]?][] = [
    ['no Kafka brokers in cluster mode', [], /at '\/kafka\/brokers': minItems: got 0, want 1/, ['--set-json', 'kafka.brokers=[]']],
    ['no Kafka brokers key at all in cluster mode', ['kafka.brokers=null'], /at '\/kafka': missing property 'brokers'/],
    ['no Redis in cluster mode', ['redis.url='], /at '\/redis\/url': minLength: got 0, want 1/],
    ['a negative replica count', [...REQUIRED_CLUSTER_SETS, 'fanout.replicas=-1'], /at '\/fanout\/replicas': minimum: got -1, want 1/],
    ['an unknown mode', ['mode=prod'], /at '\/mode': value must be one of 'cluster', 'dev'/],
    ['a broker without a port', ['kafka.brokers={kafka}', 'redis.url=redis://r:6379'], /at '\/kafka\/brokers\/0': '.*' does not match pattern/],
    ['a Redis URL of another scheme', ['kafka.brokers={k:9092}', 'redis.url=http://r:6379'], /at '\/redis\/url'/],
    ['a short cluster secret', [...REQUIRED_CLUSTER_SETS, 'auth.clusterSecret=short'], /at '\/auth\/clusterSecret'/],
    ['a JWT public key and a JWKS URL together', [...REQUIRED_CLUSTER_SETS, 'auth.jwtPublicKey=-----BEGIN PUBLIC KEY-----', 'auth.jwksUrl=https://a.example/jwks'], /at '\/auth': 'not' failed/],
    ['TLS without a Secret', [...REQUIRED_CLUSTER_SETS, 'tls.enabled=true'], /at '\/tls\/secretName'|at '\/tls': missing property 'secretName'/],
    ['a drain grace over the setting bound', [...REQUIRED_CLUSTER_SETS, 'gateway.drain.graceMs=600001'], /at '\/gateway\/drain\/graceMs': maximum: got 600,001, want 600,000|at '\/gateway\/drain\/graceMs': maximum/],
    ['a SASL mechanism without the Secret holding its password', [...REQUIRED_CLUSTER_SETS, 'kafka.sasl.mechanism=plain', 'kafka.sasl.username=u'], /at '\/kafka\/sasl\/existingSecret': minLength: got 0, want 1/],
    ['an unknown SASL mechanism (kafkajs has no MSK IAM)', [...REQUIRED_CLUSTER_SETS, 'kafka.sasl.mechanism=aws-msk-iam'], /at '\/kafka\/sasl\/mechanism': value must be one of/],
    ['a misspelt value', [...REQUIRED_CLUSTER_SETS, 'gateway.replica=3'], /at '\/gateway': additional properties 'replica' not allowed/],
    ['a setting name that is not an env name', [...REQUIRED_CLUSTER_SETS, 'env.max-subscriptions=1'], /invalid propertyName 'max-subscriptions'/],
    ['a misspelt setting name (the process would ignore it)', [...REQUIRED_CLUSTER_SETS, 'gateway.env.DRAIN_SPRED_MS=20000'], /invalid propertyName 'DRAIN_SPRED_MS'/],
    ['a name that is no setting (raw variables go in extraEnv)', [...REQUIRED_CLUSTER_SETS, 'env.NODE_OPTIONS=--max-old-space-size=1024'], /invalid propertyName 'NODE_OPTIONS'/],
  ];
  for (const [name, sets, message, extraArgs] of cases) {
    test(name, () => {
      const r = helm(templateArgs({ sets, extraArgs }));
      assert.notEqual(r.status, 0, `${name} rendered:\n${r.stdout.slice(0, 400)}`);
      assert.match(r.stderr, SCHEMA);
      assert.match(r.stderr, message);
    });
  }
});

test("values.schema.json's env maps accept exactly the config table's setting names", () => {
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
  const names = (Object.values(SETTINGS) as { env: string }[]).map((x) => x.env).sort();
  for (const at of [schema.properties, ...MODES.map((m) => schema.properties[m].properties)]) {
    assert.deepEqual([...at.env.propertyNames.enum].sort(), names);
  }
});

/** the tier (container) that runs each role */
const tierOf = (m: Mode) => m;

test('every setting of the config table (cli/src/config.ts SETTINGS) is reachable through values, for every role that reads it', () => {
  const rows = Object.values(SETTINGS) as { env: string; roles?: readonly Mode[] }[];
  let checked = 0;
  for (const mode of MODES) {
    const names = rows.filter((s) => (s.roles ?? MODES).includes(mode)).map((s) => s.env);
    const values: Record<string, unknown> = { [tierOf(mode)]: { env: Object.fromEntries(names.map((n) => [n, `v-${n}`])) } };
    if (mode === 'dev') values.mode = 'dev';
    const objs = render({ sets: mode === 'dev' ? [] : REQUIRED_CLUSTER_SETS, files: [writeValues(values)] });
    const env = containerEnv(objs, tierOf(mode));
    for (const n of names) {
      const entries = env.filter((e) => e.name === n);
      assert.equal(entries.length, 1, `${mode}: ${n} appears ${entries.length} times`);
      assert.equal(entries[0].value, `v-${n}`, `${mode}: ${n} = ${JSON.stringify(entries[0])}`);
      checked++;
    }
  }
  assert.ok(checked >= rows.length, `${checked} (role, setting) pairs`);
});

test('the typed values reach their settings, and chart-wide env reaches every tier with a tier env winning', () => {
  const objs = render({
    sets: [
      'kafka.brokers={a:9092,b:9092}',
      'redis.url=redis://r:6379',
      'kafka.topic=t.docs',
      'kafka.partitions=16',
      'kafka.minInsyncReplicas=2',
      'kafka.compression=gzip',
      'fanout.replicas=4',
      'fanout.replication=3',
      'fanout.advertise=podIP',
      'gateway.drain.spreadMs=3000',
      'gateway.drain.graceMs=4000',
      'auth.issuer=iss',
      'auth.audience=aud',
      'auth.clockSkewSeconds=5',
      'env.HISTORY_SIZE=64',
      'gateway.env.HISTORY_SIZE=128',
      'env.LOG_SEGMENT_BYTES=67108864',
    ],
  });
  const get = (tier: string, n: string) => containerEnv(objs, tier).find((e) => e.name === n)?.value;
  assert.equal(get('origin', 'KAFKA_BROKERS'), 'a:9092,b:9092');
  assert.equal(get('fanout', 'KAFKA_BROKERS'), 'a:9092,b:9092');
  assert.equal(get('gateway', 'KAFKA_TOPIC'), 't.docs');
  assert.equal(get('origin', 'PARTITIONS'), '16');
  assert.equal(get('origin', 'KAFKA_MIN_INSYNC_REPLICAS'), '2');
  assert.equal(get('fanout', 'KAFKA_COMPRESSION'), 'gzip');
  assert.equal(get('fanout', 'REPLICA_COUNT'), '4');
  assert.equal(get('fanout', 'REPLICATION'), '3');
  assert.equal(get('fanout', 'ADVERTISE_ADDRESS'), '$(POD_IP):7000');
  assert.equal(get('gateway', 'DRAIN_SPREAD_MS'), '3000');
  assert.equal(get('gateway', 'DRAIN_GRACE_MS'), '4000');
  assert.equal(get('origin', 'AUTH_ISSUER'), 'iss');
  assert.equal(get('gateway', 'AUTH_AUDIENCE'), 'aud');
  assert.equal(get('gateway', 'AUTH_CLOCK_SKEW_S'), '5');
  assert.equal(get('fanout', 'HISTORY_SIZE'), '64');
  assert.equal(get('gateway', 'HISTORY_SIZE'), '128');
  // a large number stays an integer (YAML numbers are floats in Helm)
  assert.equal(get('origin', 'LOG_SEGMENT_BYTES'), '67108864');
});

test('secure backends: TLS and SASL settings for the Kafka roles, CA files mounted from existing Secrets, the password from a secretKeyRef', () => {
  const objs = render({ sets: [...REQUIRED_CLUSTER_SETS, ...SECURE_SETS, 'redis.sentinels={s1:26379,s2:26379}', 'redis.sentinelMaster=main'] });
  for (const tier of ['origin', 'fanout', 'gateway']) {
    const env = new Map(containerEnv(objs, tier).map((e) => [e.name, e]));
    const pod = workload(objs, tier).spec.template.spec;
    const mounts = new Map(pod.containers[0].volumeMounts.map((m: { name: string; mountPath: string }) => [m.name, m.mountPath]));
    const volumes = new Map(pod.volumes.map((v: { name: string; secret?: { secretName: string } }) => [v.name, v.secret?.secretName]));
    assert.equal(env.get('REDIS_TLS_CA_FILE')!.value, '/etc/replicant/redis-ca/ca.crt');
    assert.equal(mounts.get('redis-ca'), '/etc/replicant/redis-ca');
    assert.equal(volumes.get('redis-ca'), 'redis-ca');
    assert.equal(env.get('REDIS_SENTINELS')!.value, 's1:26379,s2:26379');
    assert.equal(env.get('REDIS_SENTINEL_MASTER')!.value, 'main');
    if (tier === 'gateway') {
      assert.ok(!env.has('KAFKA_SSL') && !env.has('KAFKA_SASL_PASSWORD') && !mounts.has('kafka-ca'), 'a gateway does not talk to Kafka');
      continue;
    }
    assert.equal(env.get('KAFKA_SSL')!.value, 'true');
    assert.equal(env.get('KAFKA_SSL_CA_FILE')!.value, '/etc/replicant/kafka-ca/ca.crt');
    assert.equal(env.get('KAFKA_SSL_CERT_FILE')!.value, '/etc/replicant/kafka-client/tls.crt');
    assert.equal(env.get('KAFKA_SSL_KEY_FILE')!.value, '/etc/replicant/kafka-client/tls.key');
    assert.equal(env.get('KAFKA_SASL_MECHANISM')!.value, 'scram-sha-512');
    assert.equal(env.get('KAFKA_SASL_USERNAME')!.value, 'replicant');
    assert.deepEqual(env.get('KAFKA_SASL_PASSWORD')!.valueFrom.secretKeyRef, { name: 'replicant', key: 'password' });
    assert.equal(volumes.get('kafka-ca'), 'my-cluster-cluster-ca-cert');
    assert.equal(volumes.get('kafka-client'), 'replicant-client-tls');
  }
  // none of it by default
  const plain = containerEnv(render({ sets: REQUIRED_CLUSTER_SETS }), 'origin').map((e) => e.name);
  for (const n of ['KAFKA_SSL', 'KAFKA_SASL_MECHANISM', 'KAFKA_SASL_PASSWORD', 'REDIS_TLS_CA_FILE', 'REDIS_SENTINELS', 'REDIS_CLUSTER']) assert.ok(!plain.includes(n), n);
});

test("the typed values' defaults are the config table's defaults", () => {
  const v = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
  const def = (k: keyof typeof SETTINGS) => (SETTINGS[k] as { def?: unknown }).def;
  assert.equal(String(v.gateway.drain.spreadMs), def('drainSpreadMs'));
  assert.equal(String(v.gateway.drain.graceMs), def('drainGraceMs'));
  assert.equal(v.kafka.topic, def('kafkaTopic'));
  assert.equal(String(v.kafka.partitions), def('partitions'));
  assert.equal(v.kafka.compression, def('kafkaCompression'));
  assert.equal(v.redis.sentinelMaster, def('redisSentinelMaster'));
  assert.equal(String(v.redis.cluster), def('redisCluster'));
  assert.equal(String(v.kafka.tls.enabled), def('kafkaSsl'));
  assert.equal(String(v.fanout.replication), def('replication'));
  assert.equal(String(v.auth.clockSkewSeconds), def('authClockSkewSec'));
});

test('the chart Secret: given values are used, missing ones generated (16+ characters); an existing Secret replaces it', () => {
  const secretOf = (objs: K8sObject[]) => objs.find((o) => o.kind === 'Secret')?.stringData as Record<string, string> | undefined;
  const gen = secretOf(render({ sets: REQUIRED_CLUSTER_SETS }))!;
  assert.equal(gen['redis-url'], 'redis://redis-master.redis.svc:6379');
  for (const k of ['cluster-secret', 'jwt-secret', 'api-keys']) assert.ok(gen[k].length >= 16, `${k} generated`);
  const given = secretOf(
    render({ sets: [...REQUIRED_CLUSTER_SETS, 'auth.clusterSecret=cccccccccccccccccccc', 'auth.jwtSecret=jjjjjjjjjjjjjjjjjjjj', 'auth.apiKeys={kkkkkkkkkkkkkkkk1,kkkkkkkkkkkkkkkk2}'] }),
  )!;
  assert.deepEqual(given, { 'redis-url': 'redis://redis-master.redis.svc:6379', 'cluster-secret': 'cccccccccccccccccccc', 'jwt-secret': 'jjjjjjjjjjjjjjjjjjjj', 'api-keys': 'kkkkkkkkkkkkkkkk1,kkkkkkkkkkkkkkkk2' });
  const jwks = secretOf(render({ sets: [...REQUIRED_CLUSTER_SETS, 'auth.jwksUrl=https://a.example/jwks'] }))!;
  assert.equal(jwks['jwt-secret'], undefined, 'no HS secret when tokens are verified by JWKS');
  const existing = render({ sets: ['kafka.brokers={k:9092}', 'redis.existingSecret=redis', 'auth.existingSecret=mine'] });
  assert.equal(secretOf(existing), undefined);
  const ref = containerEnv(existing, 'gateway').find((e) => e.name === 'CLUSTER_SECRET')!;
  assert.deepEqual(ref.valueFrom.secretKeyRef, { name: 'mine', key: 'cluster-secret' });
});

test('an upgrade keeps the generated secrets: `lookup` reads them back from the Secret in the cluster', async () => {
  // The one API call lookup makes (plus discovery), answered for the release's Secret as a cluster
  // that has it would; `helm template --dry-run=server` runs lookup against it, as an upgrade does.
  const b64 = (v: string) => Buffer.from(v).toString('base64');
  const existing = { 'cluster-secret': 'existing-cluster-secret-0123', 'jwt-secret': 'existing-jwt-secret-0123', 'api-keys': 'existing-api-key-0123' };
  const seen: string[] = [];
  const api = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    seen.push(`${req.method} ${path}`);
    const body: Record<string, unknown> = {
      '/api/v1': { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: ['get'] }] },
      '/api/v1/namespaces/replicant/secrets/rt-replicant-secrets': {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'rt-replicant-secrets', namespace: 'replicant' },
        data: Object.fromEntries(Object.entries({ ...existing, 'redis-url': 'redis://old:6379' }).map(([k, v]) => [k, b64(v)])),
      },
    };
    const answer = body[path];
    res.writeHead(answer ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(answer ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
  });
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');
  try {
    const port = (api.address() as AddressInfo).port;
    const kubeconfig = join(tmpDirOnce(), 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}` } }],
        users: [{ name: 'u', user: {} }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u', namespace: 'replicant' } }],
        'current-context': 'c',
      }),
    );
    const upgrade = async (sets: string[]) => {
      // spawnSync would block the event loop this server answers on
      const r = await helmAsync(templateArgs({ sets: [...REQUIRED_CLUSTER_SETS, ...sets], extraArgs: ['--kubeconfig', kubeconfig, '--dry-run=server'] }));
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const kept = await upgrade([]);
    for (const [k, v] of Object.entries(existing)) assert.match(kept, new RegExp(`  ${k}: "${v}"`), `${k} kept`);
    assert.match(kept, /redis-url: "redis:\/\/redis-master\.redis\.svc:6379"/, 'redis.url is a value, not generated: the new one applies');
    assert.ok(seen.includes('GET /api/v1/namespaces/replicant/secrets/rt-replicant-secrets'), seen.join(', '));
    // a value given on the upgrade replaces the kept one
    assert.match(await upgrade(['auth.clusterSecret=rotated-cluster-secret-0123']), /cluster-secret: "rotated-cluster-secret-0123"/);
  } finally {
    api.close();
  }
});

test('the README values table lists every top-level value', () => {
  const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
  // the first cell of each table row names one or more values: `gateway.port`, `gateway.adminPort`
  const firstCells = readme.split('\n').filter((l) => l.startsWith('| `')).map((l) => l.split('|')[1]);
  const rows = new Set(firstCells.flatMap((c) => [...c.matchAll(/`([A-Za-z0-9_]+)[.`]/g)].map((m) => m[1])));
  for (const k of Object.keys(values)) assert.ok(rows.has(k), `helm/replicant/README.md has no row for \`${k}\``);
});

test("names fit Kubernetes' limits for the longest release name (53) and fullnameOverride (63)", () => {
  // A Service or pod name is a DNS label (63; other objects' names are DNS subdomains); a StatefulSet's name also goes into its pods'
  // controller-revision-hash label with a '-' and a hash of up to 10 characters, so it must stay
  // within 52 (longer, the StatefulSet exists and never creates a pod).
  const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const all = ['ingress.enabled=true', 'metrics.serviceMonitor.enabled=true', 'metrics.grafanaDashboard.enabled=true'];
  const cluster = [...REQUIRED_CLUSTER_SETS, ...all, 'networkPolicy.enabled=true', 'gateway.autoscaling.enabled=true'];
  for (const release of ['r'.repeat(53), 'rt']) {
    for (const sets of [cluster, [...cluster, `fullnameOverride=${'f'.repeat(63)}`], ['mode=dev', ...all], ['mode=dev', ...all, `fullnameOverride=${'f'.repeat(63)}`]]) {
      const objs = render({ release, sets });
      for (const o of objs) {
        const what = `${o.kind} ${o.metadata.name} (${o.metadata.name.length} characters)`;
        if (o.kind === 'Service' || o.kind === 'StatefulSet') assert.match(o.metadata.name, DNS_LABEL, what);
        const limit = o.kind === 'StatefulSet' ? 52 : o.kind === 'Service' ? 63 : 253; // the rest: DNS subdomains
        assert.ok(o.metadata.name.length <= limit, what);
        if (o.kind === 'StatefulSet') {
          // pods resolve as <pod>.<serviceName>: the headless Service must be the one rendered
          assert.ok(objs.some((x) => x.kind === 'Service' && x.metadata.name === o.spec.serviceName), `${what}: serviceName ${o.spec.serviceName}`);
        }
      }
      if (sets[0] === 'mode=dev') continue;
      const sts = objs.find((x) => x.kind === 'StatefulSet')!;
      const advertise = containerEnv(objs, 'fanout').find((e) => e.name === 'ADVERTISE_ADDRESS')!.value!;
      assert.ok(advertise.startsWith(`$(POD_NAME).${sts.spec.serviceName}.`), advertise);
    }
  }
});

test("the chart's dashboard is deploy/grafana/replicant.json, byte for byte, and the ConfigMap carries it", () => {
  const source = readFileSync(join(ROOT, 'deploy', 'grafana', 'replicant.json'), 'utf8');
  const copy = readFileSync(join(CHART, 'files', 'grafana', 'replicant.json'), 'utf8');
  assert.equal(copy, source, 'copy deploy/grafana/replicant.json to helm/replicant/files/grafana/replicant.json');
  const cm = find(render({ sets: [...REQUIRED_CLUSTER_SETS, 'metrics.grafanaDashboard.enabled=true'] }), 'ConfigMap', 'rt-replicant-dashboard');
  assert.equal(cm.metadata.labels!.grafana_dashboard, '1');
  assert.deepEqual(JSON.parse(cm.data['replicant.json']), JSON.parse(source));
});

let tmpValues = 0;
/** writes a values file under the OS temp dir (removed at exit) and returns its path */
function writeValues(values: Record<string, unknown>): string {
  const dir = tmpDirOnce();
  const p = join(dir, `values-${tmpValues++}.json`);
  writeFileSync(p, JSON.stringify(values));
  return p;
}

let dirOnce: string | undefined;
function tmpDirOnce(): string {
  if (dirOnce === undefined) {
    dirOnce = mkdtempSync(join(tmpdir(), 'replicant-helm-'));
    ownDir(dirOnce);
  }
  return dirOnce;
}

test('ingest.topics and ingest.brokers reach INGEST_TOPICS / INGEST_BROKERS of origin (and of the dev pod), and bad entries are refused', () => {
  const values = writeValues({ ingest: { topics: ['orders=merge-patch:o:', 'dbserver1.inventory.customers=debezium:customers:'], brokers: ['k1:9092', 'k2:9092'] } });
  const objs = render({ sets: REQUIRED_CLUSTER_SETS, files: [values] });
  const get = (tier: string, n: string) => containerEnv(objs, tier).find((e) => e.name === n)?.value;
  assert.equal(get('origin', 'INGEST_TOPICS'), 'orders=merge-patch:o:,dbserver1.inventory.customers=debezium:customers:');
  assert.equal(get('origin', 'INGEST_BROKERS'), 'k1:9092,k2:9092');
  assert.equal(get('fanout', 'INGEST_TOPICS'), undefined);
  assert.equal(get('gateway', 'INGEST_TOPICS'), undefined);
  const dev = render({ sets: ['mode=dev'], files: [values] });
  assert.equal(containerEnv(dev, 'dev').find((e) => e.name === 'INGEST_BROKERS')?.value, 'k1:9092,k2:9092');
  // none configured: no INGEST_* at all
  assert.equal(containerEnv(render({ sets: REQUIRED_CLUSTER_SETS }), 'origin').find((e) => e.name === 'INGEST_TOPICS'), undefined);
  const bad = helm(['template', 'r', CHART, ...REQUIRED_CLUSTER_SETS.flatMap((s) => ['--set', s]), '-f', writeValues({ ingest: { topics: ['orders=json'] } })]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /ingest\.topics\.0|ingest\/topics\/0/);
});
