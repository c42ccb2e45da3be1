/**
 * The secure-cluster settings of the config table: `<ENV>_FILE` secrets read from mounted files,
 * the Kafka TLS/SASL and Redis TLS/Sentinel/Cluster rows and how they fit together, and no error
 * that echoes a secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, helpText, kafkaSecurity, loadConfig, redisTarget, redisWaitReplicas } from '../src/config.js';

const BASE = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CLUSTER_SECRET: 'a-cluster-secret-0123456789',
  AUTH_DISABLED: 'true',
};

const dir = mkdtempSync(join(tmpdir(), 'replicant-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const fails = (env: Record<string, string>, re: RegExp, secret?: string) =>
  assert.throws(
    () => loadConfig(['origin'], { ...BASE, ...env }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, re);
      if (secret !== undefined) assert.ok(!err.message.includes(secret), err.message);
      return true;
    },
  );

test('<ENV>_FILE: a secret read from a mounted file (one trailing newline dropped); never both; an unreadable file is named', () => {
  const pw = file('pw', 's3cret-Pass\n');
  const cfg = loadConfig(['origin'], { ...BASE, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME_FILE: file('user', 'svc'), KAFKA_SASL_PASSWORD_FILE: pw });
  assert.equal(cfg.kafkaSaslPassword, 's3cret-Pass');
  assert.equal(cfg.kafkaSaslUsername, 'svc');
  const url = loadConfig(['gateway'], { ...BASE, REDIS_URL: undefined as unknown as string, REDIS_URL_FILE: file('url', 'rediss://u:pw-in-file@redis:6380/2\n') });
  assert.equal(url.redisUrl, 'rediss://u:pw-in-file@redis:6380/2');
  assert.equal(loadConfig(['origin'], { ...BASE, CLUSTER_SECRET: '', CLUSTER_SECRET_FILE: file('cs', 'from-a-file-0123456789') }).clusterSecret, 'from-a-file-0123456789');
  fails({ KAFKA_SASL_PASSWORD: 'x', KAFKA_SASL_PASSWORD_FILE: pw }, /^set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both$/, 's3cret');
  fails({ KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing') }, /^KAFKA_SASL_PASSWORD_FILE ".*missing" is not a readable file \(ENOENT\)$/);
  // a required setting given only as a file is there
  assert.equal(loadConfig(['origin'], { ...BASE, REDIS_URL: '', REDIS_URL_FILE: file('url2', 'redis://r:1') }).redisUrl, 'redis://r:1');
  assert.match(helpText('origin'), /KAFKA_SASL_PASSWORD  .*\(or KAFKA_SASL_PASSWORD_FILE: a file holding it\)/);
});

test('a bad REDIS_URL is refused without echoing it (it may hold a password)', () => {
  fails({ REDIS_URL: 'http://user:Leaky-Pass-1@host:6379' }, /^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL, .*\(the value is not shown/, 'Leaky-Pass-1');
  fails({ REDIS_URL: 'redis://user:Leaky-Pass-2@[bad' }, /^REDIS_URL must be/, 'Leaky-Pass-2');
});

test('Kafka TLS and SASL: shapes and combinations; the security handed to the kafkajs builder', () => {
  const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\n');
  const cfg = loadConfig(['fanout'], {
    ...BASE,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: ca,
    KAFKA_SASL_MECHANISM: 'scram-sha-256',
    KAFKA_SASL_USERNAME: 'svc',
    KAFKA_SASL_PASSWORD: 'pw-Kafka-1',
  });
  assert.deepEqual(kafkaSecurity(cfg), {
    ssl: true,
    sslCaFile: ca,
    sslCertFile: undefined,
    sslKeyFile: undefined,
    saslMechanism: 'scram-sha-256',
    saslUsername: 'svc',
    saslPassword: 'pw-Kafka-1',
  });
  fails({ KAFKA_SASL_MECHANISM: 'oauthbearer' }, /^KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512/);
  fails({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc' }, /^KAFKA_SASL_MECHANISM plain needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
  fails({ KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'pw-Kafka-2' }, /need KAFKA_SASL_MECHANISM/, 'pw-Kafka-2');
  fails({ KAFKA_SSL_CERT_FILE: ca }, /^KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE must be set together$/);
  fails({ KAFKA_SSL_CA_FILE: join(dir, 'nope.pem') }, /^KAFKA_SSL_CA_FILE ".*nope\.pem" is not a readable file$/);
  fails({ KAFKA_SSL: 'maybe' }, /^KAFKA_SSL must be true or false/);
});

test('Redis TLS, Sentinel and Cluster: the target every Redis client is made from; WAIT by default where a failover can happen', () => {
  const ca = file('redis-ca.pem', '-----BEGIN CERTIFICATE-----\n');
  const plain = loadConfig(['origin'], BASE);
  assert.deepEqual(redisTarget(plain), { url: BASE.REDIS_URL, tlsCaFile: undefined, sentinels: undefined, sentinelMaster: 'mymaster', cluster: false });
  assert.equal(redisWaitReplicas(plain), 0);
  const sentinel = loadConfig(['origin'], { ...BASE, REDIS_URL: 'rediss://app:pw@ignored:6379/1', REDIS_TLS_CA_FILE: ca, REDIS_SENTINELS: 's1:26379, s2:26379', REDIS_SENTINEL_MASTER: 'main' });
  assert.deepEqual(redisTarget(sentinel), { url: 'rediss://app:pw@ignored:6379/1', tlsCaFile: ca, sentinels: ['s1:26379', 's2:26379'], sentinelMaster: 'main', cluster: false });
  assert.equal(redisWaitReplicas(sentinel), 1);
  const cluster = loadConfig(['origin'], { ...BASE, REDIS_CLUSTER: 'true', REDIS_WAIT_REPLICAS: '0' });
  assert.equal(redisTarget(cluster).cluster, true);
  assert.equal(redisWaitReplicas(cluster), 0);
  assert.equal(redisWaitReplicas(loadConfig(['origin'], { ...BASE, REDIS_CLUSTER: 'true' })), 1);
  fails({ REDIS_SENTINELS: 's1:26379', REDIS_CLUSTER: 'true' }, /^set REDIS_SENTINELS or REDIS_CLUSTER, not both$/);
  fails({ REDIS_SENTINELS: 's1' }, /^REDIS_SENTINELS entries must be host:port/);
  fails({ REDIS_TLS_CA_FILE: ca }, /^REDIS_TLS_CA_FILE needs a rediss:\/\/ REDIS_URL$/);
});
