/**
 * Acceptance (secure clusters): the cluster convergence test once more, with every backend secured
 * as teams run them: 3 Kafka brokers whose client listener is SASL_SSL with a SCRAM-SHA-512 user
 * (the password read from KAFKA_SASL_PASSWORD_FILE), Redis over rediss:// with an ACL user, both
 * verified against test CAs made with openssl. Wrong Kafka or Redis credentials at start: one line,
 * exit 2, the secret not in the output.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SECURE_USERS, startCluster, type Cluster } from './cluster-harness.js';
import { runConvergence } from './convergence.js';
import { spawnProcess } from './harness.js';

describe('secure cluster: SASL_SSL/SCRAM brokers, rediss:// with an ACL user', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ secure: true, fanouts: 2, gateways: 2, partitions: 4 });
  });
  after(async () => {
    await c?.stop();
  });

  test('the backends are only reachable secured, and the processes use them so', () => {
    assert.match(c.env.REDIS_URL, /^rediss:\/\/replicant:[^@]+@127\.0\.0\.1:\d+$/);
    assert.equal(c.env.KAFKA_SASL_MECHANISM, 'scram-sha-512');
    assert.equal(c.env.KAFKA_SASL_PASSWORD, undefined, 'the password comes from KAFKA_SASL_PASSWORD_FILE');
    // the ready lines name the Redis URL without its password
    for (const n of [c.origin, ...c.fanouts, ...c.gateways]) {
      assert.doesNotMatch(n.output(), new RegExp(`${SECURE_USERS.redis.password}|${SECURE_USERS.kafka.password}`));
    }
    assert.match(c.origin.output(), /Redis rediss:\/\/replicant@127\.0\.0\.1:\d+\)/);
  });

  test('300 clients over both gateways on 30 docs converge after 3,000 writes', async () => {
    await runConvergence({
      wsUrls: c.gateways.map((g) => g.wsUrl),
      originUrl: c.origin.url,
      clients: 300,
      docs: 30,
      writers: 6,
      writes: 3000,
      prefix: 'sec',
    });
  });

  /** runs a role with `env` changed; resolves with its exit code and output */
  const startWith = async (mode: string, env: Record<string, string | undefined>) => {
    const merged: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...c.env, NODE_ID: `${mode}-wrong`, ...env })) if (v !== undefined) merged[k] = v;
    const p = spawnProcess(mode, merged);
    const [code] = await p.exited;
    return { code, output: p.output() };
  };

  test('a wrong Kafka password: one line naming the brokers and the user, exit 2, the password not echoed', async () => {
    const wrong = 'wrong-Kafka-Pass-0042';
    const r = await startWith('origin', { KAFKA_SASL_PASSWORD_FILE: undefined, KAFKA_SASL_PASSWORD: wrong });
    assert.equal(r.code, 2, r.output);
    const lines = r.output.trim().split('\n');
    assert.equal(lines.length, 1, r.output);
    assert.match(lines[0], /^replicant origin: kafka: brokers 127\.0\.0\.1:\d+.* refused the SASL scram-sha-512 login of user "replicant"/);
    assert.ok(!r.output.includes(wrong) && !r.output.includes(SECURE_USERS.kafka.password), r.output);
  });

  test('a wrong Redis password: one line naming the URL without it, exit 2, the password not echoed', async () => {
    const wrong = 'wrong-Redis-Pass-0043';
    const url = c.env.REDIS_URL.replace(SECURE_USERS.redis.password, wrong);
    for (const mode of ['gateway', 'fanout']) {
      const r = await startWith(mode, { REDIS_URL: url });
      assert.equal(r.code, 2, r.output);
      const lines = r.output.trim().split('\n');
      assert.equal(lines.length, 1, r.output);
      assert.match(lines[0], new RegExp(`^replicant ${mode}: redis (registry|snapshot store) rediss://replicant@127\\.0\\.0\\.1:\\d+: login refused \\(WRONGPASS`));
      assert.ok(!r.output.includes(wrong), r.output);
    }
  });
});
