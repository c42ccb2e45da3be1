/**
 * A mock Kafka cluster for tests: librdkafka's wire-level mock brokers (rdkafka_mock.h) in a small C
 * child process (kafka-mock.c), compiled once per source version and cached under os.tmpdir().
 *
 * Known limits of the mock (librdkafka 2.0): it reports controller id 0 while the brokers are 1..N,
 * so kafkajs `admin.createTopics` and the idempotent producer fail: create topics through this
 * harness, and open producers with idempotence off. A broker set down keeps leading its partitions
 * (no leader election) until it is set up again or `setLeader` moves them. Fetches of an empty
 * partition are answered after the full MaxWait (no early return on new data).
 */
import { spawn, execFile } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface KafkaMockTopic {
  name: string;
  partitions: number;
}

export interface KafkaMockOptions {
  /** broker count (default 3); broker ids are 1..brokers */
  brokers?: number;
  /** topics created before the bootstrap list is returned (replication factor min(3, brokers)) */
  topics?: KafkaMockTopic[];
  /** how long to wait for the cluster to come up (default 30 s, which includes a first compile) */
  startTimeoutMs?: number;
}

export interface KafkaMock {
  /** `host:port` of every broker, for kafkajs `brokers` */
  readonly bootstraps: string[];
  /** disconnects broker `id` and refuses new connections (its partitions stay leaderless) */
  brokerDown(id: number): Promise<void>;
  brokerUp(id: number): Promise<void>;
  createTopic(name: string, partitions: number): Promise<void>;
  /** moves the leadership of one partition to broker `id` (-1: no leader) */
  setLeader(topic: string, partition: number, id: number): Promise<void>;
  /** stops the cluster (closes its stdin and waits for the process to exit); idempotent */
  stop(): Promise<void>;
}

/** The C source, found next to the compiled module: dist/src/kafka-mock.js -> src/kafka-mock.c. */
function sourcePath(): string {
  const here = import.meta.url;
  const fromDist = fileURLToPath(new URL('../../src/kafka-mock.c', here));
  return here.includes('/dist/') ? fromDist : fileURLToPath(new URL('./kafka-mock.c', here));
}

let binary: Promise<string> | undefined;

/**
 * Compiles kafka-mock.c once per source hash. Several test processes may do this at the same time:
 * each compiles to its own temporary name and renames it into place (atomic on one filesystem).
 */
export function kafkaMockBinary(): Promise<string> {
  binary ??= (async () => {
    const src = sourcePath();
    const code = await readFile(src);
    const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
    const dir = join(tmpdir(), `replicant-kafka-mock-${hash}`);
    const bin = join(dir, 'kafka-mock');
    try {
      await stat(bin);
      return bin;
    } catch {
      // not built yet
    }
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `kafka-mock.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await execFileP('gcc', ['-O1', '-o', tmp, src, '-lrdkafka']);
    } catch (err) {
      await rm(tmp, { force: true });
      const e = err as { stderr?: string; message: string };
      throw new Error(
        `could not compile the Kafka mock (${src}); it needs gcc and librdkafka-dev: ${e.stderr || e.message}`,
      );
    }
    await rename(tmp, bin);
    return bin;
  })();
  binary.catch(() => (binary = undefined));
  return binary;
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

export async function startKafkaMock(opts: KafkaMockOptions = {}): Promise<KafkaMock> {
  const brokers = opts.brokers ?? 3;
  if (!Number.isInteger(brokers) || brokers < 1) throw new RangeError('brokers must be a positive integer');
  const args = [String(brokers)];
  for (const t of opts.topics ?? []) {
    if (!/^[A-Za-z0-9._-]+$/.test(t.name)) throw new RangeError(`invalid topic name ${JSON.stringify(t.name)}`);
    if (!Number.isInteger(t.partitions) || t.partitions < 1) throw new RangeError(`invalid partitions for ${t.name}`);
    args.push(t.name, String(t.partitions));
  }
  const bin = await kafkaMockBinary();
  const child: Child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout });
  /** replies to commands, in order */
  const waiting: { resolve(): void; reject(e: Error): void }[] = [];
  let first: ((line: string) => void) | undefined;
  let dead: Error | undefined;
  lines.on('line', (line) => {
    if (first) {
      const f = first;
      first = undefined;
      f(line);
      return;
    }
    const w = waiting.shift();
    if (!w) return;
    if (line === 'ok') w.resolve();
    else w.reject(new Error(`kafka mock: ${line}`));
    if (waiting.length === 0) idle(true);
  });
  child.stdin.on('error', () => {}); // EPIPE after the child died: reported through `exited`
  void exited.then((code) => {
    dead = new Error(`kafka mock exited with code ${code}${stderr ? `: ${stderr.trim()}` : ''}`);
    for (const w of waiting.splice(0)) w.reject(dead);
  });

  /** An idle mock does not keep the event loop alive, so a test that forgets stop() still exits. */
  const idle = (on: boolean) => {
    const s = child.stdout as unknown as { ref?: () => void; unref?: () => void };
    const e = child.stderr as unknown as { ref?: () => void; unref?: () => void };
    if (on) {
      child.unref();
      s.unref?.();
      e.unref?.();
    } else {
      child.ref();
      s.ref?.();
      e.ref?.();
    }
  };

  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const bootLine = await Promise.race([
    new Promise<string>((resolve) => (first = resolve)),
    exited.then(() => {
      throw dead!;
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`kafka mock did not start within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  clearTimeout(timer);
  const bootstraps = bootLine.split(',').map((s) => s.trim()).filter(Boolean);
  idle(true);

  const command = (line: string): Promise<void> => {
    if (dead) return Promise.reject(dead);
    return new Promise<void>((resolve, reject) => {
      waiting.push({ resolve, reject });
      idle(false);
      child.stdin.write(`${line}\n`);
    });
  };
  const id = (n: number) => {
    if (!Number.isInteger(n)) throw new RangeError(`invalid broker id ${n}`);
    return n;
  };

  let stopping: Promise<void> | undefined;
  return {
    bootstraps,
    brokerDown: (n) => command(`down ${id(n)}`),
    brokerUp: (n) => command(`up ${id(n)}`),
    createTopic: (name, partitions) => {
      if (!/^[A-Za-z0-9._-]+$/.test(name)) return Promise.reject(new RangeError(`invalid topic name ${name}`));
      return command(`topic ${name} ${Math.trunc(partitions)}`);
    },
    setLeader: (topic, partition, n) => command(`leader ${topic} ${Math.trunc(partition)} ${id(n)}`),
    stop: () =>
      (stopping ??= (async () => {
        if (!dead) {
          idle(false);
          child.stdin.end();
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }
        lines.close();
      })()),
  };
}
