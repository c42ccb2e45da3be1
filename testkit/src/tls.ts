/**
 * A throwaway certificate authority for tests, made with the openssl command line: a CA and one
 * server certificate it signed for 127.0.0.1 and localhost (P-256 keys, PKCS#8, valid 2 days), so
 * servers in a test (Kafka's SASL_SSL listener, redis-server with TLS) are verified by clients the
 * way a deployment's are: against a CA file, by the address they were dialled at.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownDir, run } from './process.js';

export interface TestCertificates {
  readonly dir: string;
  /** PEM CA certificate (what clients trust) */
  readonly caFile: string;
  /** PEM server certificate signed by the CA, SANs IP:127.0.0.1 and DNS:localhost */
  readonly certFile: string;
  /** its PEM PKCS#8 private key, unencrypted */
  readonly keyFile: string;
  /** key then certificate in one PEM file (Kafka's PEM keystore) */
  readonly keyAndCertFile: string;
  readonly caPem: string;
}

const openssl = (args: string[]) => run(`openssl ${args[0]}`, 'openssl', args, 30_000);

/** Makes the CA and the server certificate in `dir` (default: a fresh temporary directory, removed at exit). */
export async function makeTestCertificates(dir?: string): Promise<TestCertificates> {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'replicant-tls-'));
  if (dir === undefined) ownDir(d);
  else mkdirSync(d, { recursive: true });
  const f = (name: string) => join(d, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=replicant test CA']);
  await openssl(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  await openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('san.ext')]);
  writeFileSync(f('server-keystore.pem'), readFileSync(f('server.key'), 'utf8') + readFileSync(f('server.pem'), 'utf8'));
  return {
    dir: d,
    caFile: f('ca.pem'),
    certFile: f('server.pem'),
    keyFile: f('server.key'),
    keyAndCertFile: f('server-keystore.pem'),
    caPem: readFileSync(f('ca.pem'), 'utf8'),
  };
}
