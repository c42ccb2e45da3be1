/**
 * The `replicant` command as a user meets it: help generated from the config table, one-line
 * configuration errors with exit code 2, and (slow) `npx replicant` right after the first
 * `npm install` of a fresh clone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helpText, load, loadConfig, ConfigError, MODES, SETTINGS, flagOf, ingestBrokersOf } from '../src/config.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'cli', 'bin', 'replicant.js');

/** the environment without any Replicant setting, so the parent's env cannot leak in */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const s of Object.values(SETTINGS)) delete env[s.env];
  return { ...env, ...extra };
}

function run(args: string[], env = cleanEnv(), cwd = ROOT, cmd = process.execPath, pre: string[] = [BIN]) {
  const r = spawnSync(cmd, [...pre, ...args], { env, cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('replicant --help lists the four roles and every setting with its env name and default', () => {
  const r = run(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const m of MODES) assert.match(r.stdout, new RegExp(`^  ${m} `, 'm'));
  for (const [k, s] of Object.entries(SETTINGS)) {
    assert.ok(r.stdout.includes(`${s.env}  --${flagOf(k as keyof typeof SETTINGS)} `), `${s.env} missing from --help`);
  }
  assert.match(r.stdout, /PORT  --port <integer 0\.\.65535>  default: dev 8080, origin 8081, fanout 8082, gateway 8080/);
  assert.equal(r.stdout, helpText());
});

test('replicant <role> --help lists the settings that role reads, with its defaults', () => {
  const r = run(['gateway', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /PORT  --port <integer 0\.\.65535>  default: 8080\n/);
  assert.match(r.stdout, /REDIS_URL .*\(required\)/);
  assert.match(r.stdout, /ORIGIN_URL/);
  assert.doesNotMatch(r.stdout, /DATA_DIR|KAFKA_BROKERS/);
  const o = run(['origin', '-h']);
  assert.equal(o.code, 0);
  assert.match(o.stdout, /PORT  --port <integer 0\.\.65535>  default: 8081\n/);
  assert.match(o.stdout, /KAFKA_BROKERS .*\(required\)/);
});

test('replicant gateway without REDIS_URL: one line naming it, exit 2, no stack', () => {
  const r = run(['gateway']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /REDIS_URL/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const o = run(['origin']);
  assert.equal(o.code, 2);
  assert.match(o.stderr, /^replicant: origin needs KAFKA_BROKERS and REDIS_URL/);
  assert.equal(o.stderr.trim().split('\n').length, 1);
});

/** a VIEWS_FILE holding `text` */
function viewsFileWith(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'replicant-views-'));
  writeFileSync(join(dir, 'views.json'), text);
  return join(dir, 'views.json');
}

test('bad values, unknown flags and unknown modes: one line, exit 2', () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['dev', '--port', 'abc'], cleanEnv(), /PORT must be an integer/],
    [['dev'], cleanEnv({ MAX_BODY_BYTES: '0' }), /MAX_BODY_BYTES must be between 1 and/],
    [['dev', '--bogus', '1'], cleanEnv(), /bogus/],
    [['nope'], cleanEnv(), /unknown mode "nope"/],
    [[], cleanEnv(), /usage: replicant <dev\|origin\|fanout\|gateway>/],
    [['gateway'], cleanEnv({ REDIS_URL: 'http://x' }), /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
    [['fanout'], cleanEnv({ KAFKA_BROKERS: 'k:1', REDIS_URL: 'redis://r', REPLICA_INDEX: '3', REPLICA_COUNT: '2' }), /REPLICA_INDEX must be below REPLICA_COUNT/],
    [['dev'], cleanEnv({ INGEST_TOPICS: 'orders=json', INGEST_BROKERS: 'k:1' }), /INGEST_TOPICS: format "json" of topic orders must be one of merge-patch, upsert, debezium/],
    [['dev'], cleanEnv({ INGEST_TOPICS: 'orders', INGEST_BROKERS: 'k:1' }), /INGEST_TOPICS: "orders" is not <topic>=<format>\[:<doc prefix>\]/],
    [['dev'], cleanEnv({ INGEST_TOPICS: 'bad topic!=upsert', INGEST_BROKERS: 'k:1' }), /is not a Kafka topic name/],
    [['dev'], cleanEnv({ INGEST_TOPICS: 'o=upsert:-x', INGEST_BROKERS: 'k:1' }), /doc prefix "-x" of topic o must start a document id/],
    [['dev'], cleanEnv({ INGEST_TOPICS: 'o=upsert,o=debezium', INGEST_BROKERS: 'k:1' }), /topic o is listed twice/],
    [['dev'], cleanEnv({ INGEST_TOPICS: 'o=upsert' }), /INGEST_TOPICS needs INGEST_BROKERS/],
    [['dev'], cleanEnv({ INGEST_TOPICS: 'o=upsert', INGEST_BROKERS: 'nope' }), /INGEST_BROKERS entries must be host:port/],
    [['dev'], cleanEnv({ VIEWS_FILE: '/nonexistent/views.json' }), /VIEWS_FILE "\/nonexistent\/views.json" is not a readable file \(ENOENT\)/],
    [['dev'], cleanEnv({ VIEWS_FILE: viewsFileWith('{"views":') }), /VIEWS_FILE ".*" is not JSON/],
    [['dev'], cleanEnv({ VIEWS_FILE: viewsFileWith('{"views":[{"docs":"game:*","private":{"/hands":"owner"}}]}') }), /VIEWS_FILE ".*": rule "owner" at "\/hands" needs exactly one \{sub\} segment/],
    [['gateway'], cleanEnv({ VIEWS_FILE: viewsFileWith('{"views":[{"docs":"game:*","private":{"/seed":"everyone"}}]}') }), /VIEWS_FILE ".*": rule at "\/seed" must be "owner", "claim:<claim>=<value>" or "nobody"/],
  ];
  for (const [args, env, re] of cases) {
    const r = run(args, env);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('a flag wins over the env, the env over the default; defaults are per mode', () => {
  const env = { PORT: '9000', HISTORY_SIZE: '7', KAFKA_IDEMPOTENT: 'no' };
  const cfg = loadConfig(['dev', '--port', '9001', '--max-subscriptions=5'], env);
  assert.equal(cfg.port, 9001);
  assert.equal(cfg.historySize, 7);
  assert.equal(cfg.maxSubscriptions, 5);
  assert.equal(cfg.kafkaIdempotent, false);
  assert.equal(cfg.dataDir, './data');
  assert.equal(cfg.nodeId, `dev-${process.pid}`);
  assert.equal(loadConfig(['origin'], { KAFKA_BROKERS: 'a:1, b:2', REDIS_URL: 'redis://r', AUTH_DISABLED: 'true' }).port, 8081);
  assert.deepEqual(loadConfig(['origin'], { KAFKA_BROKERS: 'a:1, b:2', REDIS_URL: 'redis://r', AUTH_DISABLED: 'true' }).kafkaBrokers, ['a:1', 'b:2']);
  assert.equal(loadConfig(['dev'], { REDIS_URL: '' }).redisUrl, undefined);
  assert.deepEqual(load(['--help'], {}), { help: helpText() });
  assert.throws(() => loadConfig(['dev', 'extra']), ConfigError);
  // INGEST_BROKERS defaults to KAFKA_BROKERS
  const ing = loadConfig(['origin'], { KAFKA_BROKERS: 'a:1', REDIS_URL: 'redis://r', AUTH_DISABLED: 'true', INGEST_TOPICS: 'cdc.customers=debezium:customers:, events=merge-patch' });
  assert.deepEqual(ing.ingestTopics, [
    { topic: 'cdc.customers', format: 'debezium', prefix: 'customers:' },
    { topic: 'events', format: 'merge-patch', prefix: '' },
  ]);
  assert.deepEqual(ingestBrokersOf(ing), ['a:1']);
  assert.deepEqual(ingestBrokersOf(loadConfig(['dev'], { INGEST_TOPICS: 'e=upsert', INGEST_BROKERS: 'b:2' })), ['b:2']);
  // VIEWS_FILE is read and compiled at start; unset means no rules
  assert.equal(loadConfig(['dev'], {}).viewsFile.empty, true);
  const views = loadConfig(['dev'], { VIEWS_FILE: viewsFileWith('{"views":[{"docs":"game:*","private":{"/seed":"nobody"}}]}') }).viewsFile;
  assert.deepEqual(views.forDoc('game:1')!.viewFor({ sub: 'a' }).projectState({ seed: 1, x: 2 }), { x: 2 });
});

test('fresh clone: `npm install` leaves the lock as committed, then `npx replicant` works', { timeout: 600_000 }, (t) => {
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'replicant-clone-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('git', ['clone', '--quiet', '--no-checkout', ROOT, dir]);
  execFileSync('git', ['checkout', '--quiet', head], { cwd: dir });
  // the registry's packages come from the local npm cache when it has them
  const install = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    encoding: 'utf8',
    env: cleanEnv(),
    timeout: 540_000,
  });
  assert.equal(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);
  // the committed lock is exactly what npm derives from the package.json files: a drifted lock
  // makes `npm ci` (the image build) refuse to install
  const drift = execFileSync('git', ['status', '--porcelain'], { cwd: dir, encoding: 'utf8' });
  assert.equal(drift, '', `npm install changed tracked files (commit the lock it writes):\n${drift}`);
  assert.ok(existsSync(join(dir, 'node_modules', '.bin', 'replicant')), 'node_modules/.bin/replicant not linked');
  const help = run(['replicant', '--help'], cleanEnv(), dir, 'npx', ['--no-install']);
  assert.equal(help.code, 0, help.stderr);
  for (const m of MODES) assert.match(help.stdout, new RegExp(`^  ${m} `, 'm'));
  assert.match(help.stdout, /^  PORT /m);
  const gw = run(['replicant', 'gateway'], cleanEnv(), dir, 'npx', ['--no-install']);
  assert.equal(gw.code, 2, gw.stderr);
  assert.match(gw.stderr, /REDIS_URL/);
  assert.equal(gw.stderr.trim().split('\n').length, 1, gw.stderr);
});

test('the committed bin says how to build when there is no build', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'replicant-nobuild-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'cli', 'bin'), { recursive: true });
  copyFileSync(BIN, join(dir, 'cli', 'bin', 'replicant.js'));
  writeFileSync(join(dir, 'cli', 'package.json'), '{"type":"module"}');
  const r = run(['--help'], cleanEnv(), dir, process.execPath, [join(dir, 'cli', 'bin', 'replicant.js')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^replicant: not built yet; run `npm run build` in /);
});
