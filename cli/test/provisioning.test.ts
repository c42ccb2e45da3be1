/**
 * Provisioning at start, in cluster mode (a real `replicant origin` process):
 * - the topic is missing: origin tries to create it through the admin API (CreateTopics, PARTITIONS
 *   partitions, replication factor min(3, brokers)); on the mock cluster that fails (it has no
 *   controller), so origin logs a clear error naming the brokers and the topic, answers /readyz 503
 *   on ADMIN_PORT, and retries with backoff until the topic exists;
 * - Redis is unreachable: the message names the Redis URL, /readyz 503, ready once Redis starts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startKafkaMock, startRedis, type KafkaMock, type RedisServer } from '@replicant/testkit';
import { post, spawnProcess, asDevProcess, type SpawnedProcess } from './harness.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('replicant origin provisioning: missing topic, unreachable Redis', () => {
  let kafka: KafkaMock;
  let redis: RedisServer;
  const procs: SpawnedProcess[] = [];
  before(async () => {
    kafka = await startKafkaMock({ brokers: 3 });
    redis = await startRedis();
  });
  after(async () => {
    for (const p of procs) {
      if (p.proc.exitCode === null && p.proc.signalCode === null) {
        p.proc.kill('SIGKILL');
        await p.exited;
      }
    }
    await redis?.close();
    await kafka?.stop();
  });

  const env = (topic: string, adminPort: number, redisUrl: string): Record<string, string> => ({
    KAFKA_BROKERS: kafka.bootstraps.join(','),
    KAFKA_TOPIC: topic,
    KAFKA_IDEMPOTENT: 'false',
    KAFKA_FETCH_MAX_WAIT_MS: '20',
    REDIS_URL: redisUrl,
    PARTITIONS: '4',
    NODE_ID: `origin-${topic}`,
    ADMIN_PORT: String(adminPort),
    LOG_RETENTION_MS: '604800000',
    AUTH_DISABLED: 'true',
  });
  const readyz = async (adminPort: number) => (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status;

  test('missing topic: clear error naming brokers and topic, /readyz 503, ready once the topic exists', async () => {
    const topic = 'prov.missing';
    const adminPort = await freePort();
    const p = spawnProcess('origin', env(topic, adminPort, redis.url));
    procs.push(p);
    const brokers = escape(kafka.bootstraps.join(','));
    const [line] = await p.waitFor(
      new RegExp(
        `replicant origin: Kafka \\(brokers ${brokers}, topic ${escape(topic)}\\) unavailable \\(kafka: topic "${escape(topic)}" ` +
          `does not exist on brokers ${brokers} and creating it \\(4 partitions, replication factor 3, min\\.insync\\.replicas=2, retention\\.ms=604800000\\) failed: [^\\n]+\\); ` +
          'retrying in \\d+ ms',
      ),
    );
    assert.match(line, /create the topic, or allow this client CreateTopics/);
    // the admin listener is up before the backends are opened
    assert.equal(await readyz(adminPort), 503);
    assert.doesNotMatch(p.output(), /ready on/);

    await kafka.createTopic(topic, 4);
    const port = await p.ready;
    assert.equal(await readyz(adminPort), 200);
    const origin = asDevProcess(p, port);
    const w = await post(origin.url, 'provisioned', { ok: true });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    assert.equal(await origin.stop(), 0);
  });

  test('unreachable Redis: the message names the Redis URL, /readyz 503, ready once Redis is up', async () => {
    const topic = 'prov.redis';
    await kafka.createTopic(topic, 4);
    const down = await startRedis();
    try {
      await down.stop(); // its port is kept for restart(): nothing listens there now
      const adminPort = await freePort();
      const p = spawnProcess('origin', env(topic, adminPort, down.url));
      procs.push(p);
      const [line] = await p.waitFor(new RegExp(`replicant origin: Redis ${escape(down.url)} unavailable \\([^\\n]+\\); retrying in \\d+ ms`));
      assert.match(line, /ECONNREFUSED/);
      assert.equal(await readyz(adminPort), 503);

      await down.restart();
      const port = await p.ready;
      assert.equal(await readyz(adminPort), 200);
      const origin = asDevProcess(p, port);
      const w = await post(origin.url, 'redis-came-up', { ok: true });
      assert.equal(w.status, 200, JSON.stringify(w.body));
      assert.equal(await origin.stop(), 0);
    } finally {
      await down.close();
    }
  });
});
