/**
 * kafkaClientConfig, the one builder of kafkajs configs: TLS from the CA / certificate / key files,
 * SASL from the mechanism and credentials, and errors that name the setting, never a secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaClientConfig } from '../src/kafka/client.js';

const dir = mkdtempSync(join(tmpdir(), 'replicant-kcc-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('no security: no ssl, no sasl; our log lines and sockets', () => {
  const c = kafkaClientConfig({ clientId: 'x', brokers: ['b:9092'] });
  assert.equal(c.ssl, undefined);
  assert.equal(c.sasl, undefined);
  assert.equal(typeof c.logCreator, 'function');
  assert.equal(typeof c.socketFactory, 'function');
});

test('TLS from files (a CA alone implies TLS), mTLS, SASL SCRAM', () => {
  const ca = file('ca.pem', 'CA');
  const c = kafkaClientConfig({
    clientId: 'x',
    brokers: ['b:9093'],
    security: { sslCaFile: ca, sslCertFile: file('c.pem', 'CERT'), sslKeyFile: file('k.pem', 'KEY'), saslMechanism: 'scram-sha-512', saslUsername: 'u', saslPassword: 'p' },
  });
  const ssl = c.ssl as { ca: Buffer[]; cert: Buffer; key: Buffer };
  assert.deepEqual([ssl.ca[0].toString(), ssl.cert.toString(), ssl.key.toString()], ['CA', 'CERT', 'KEY']);
  assert.deepEqual(c.sasl, { mechanism: 'scram-sha-512', username: 'u', password: 'p' });
  assert.deepEqual(kafkaClientConfig({ clientId: 'x', brokers: ['b:1'], security: { ssl: true } }).ssl, {});
});

test('errors name the setting, never the password', () => {
  assert.throws(() => kafkaClientConfig({ clientId: 'x', brokers: ['b:1'], security: { sslCaFile: join(dir, 'none.pem') } }), /^Error: kafka: cannot read KAFKA_SSL_CA_FILE .*none\.pem: ENOENT$/);
  assert.throws(() => kafkaClientConfig({ clientId: 'x', brokers: ['b:1'], security: { sslCertFile: file('only.pem', 'C') } }), /needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE/);
  assert.throws(
    () => kafkaClientConfig({ clientId: 'x', brokers: ['b:1'], security: { saslMechanism: 'plain', saslPassword: 'Hidden-Pass-3' } }),
    (err: Error) => /SASL plain needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/.test(err.message) && !err.message.includes('Hidden'),
  );
});
