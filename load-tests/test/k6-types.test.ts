/**
 * The k6 scripts (load-tests/k6/*.js, examples/k6/*.js) are plain JavaScript for `k6 run`; k6 itself
 * is never built or shipped here (AGPL). What keeps them honest against the real k6 API is a strict
 * type-check against @types/k6 (checkJs + strict, load-tests/k6/tsconfig.json), run here with the
 * repo's TypeScript. The second test proves the check can fail: a script calling k6 wrongly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BASE_CONFIG = join(ROOT, 'load-tests', 'k6', 'tsconfig.json');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** runs `tsc -p project` (plus args); resolves with its exit code and output, never rejects on a non-zero exit */
function tsc(project: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [TSC, '-p', project, '--pretty', 'false', ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      if (code === -1) reject(err);
      else resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

test('every k6 script type-checks strictly against @types/k6', async () => {
  for (const dir of [join(ROOT, 'load-tests', 'k6'), join(ROOT, 'examples', 'k6')]) {
    const { code, out } = await tsc(join(dir, 'tsconfig.json'), '--listFiles');
    assert.equal(code, 0, out);
    assert.doesNotMatch(out, /error TS/, out);
    // the check covered every script in the directory, and k6's modules resolved to @types/k6
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.js'))) assert.ok(out.includes(join(dir, f)), `${f} not checked:\n${out}`);
    assert.match(out, /node_modules\/@types\/k6\/http\/index\.d\.ts/, out);
    assert.match(out, /node_modules\/@types\/k6\/global\.d\.ts/, out);
  }
});

test('a k6 script calling the API wrongly (or untyped) fails the type-check, naming the lines', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k6-types-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: BASE_CONFIG, include: ['*.js'] }));
  const script = (url: string, checks: string, param: string): string =>
    [
      "import http from 'k6/http';",
      "import { check } from 'k6';",
      'export default function () {',
      `  const res = http.get(${url});`,
      `  check(res, ${checks});`,
      '}',
      `export function helper(${param}) {`,
      '  return x;',
      '}',
      '',
    ].join('\n');
  // control: the same script called rightly passes with the same settings, so a failure below is the calls'
  writeFileSync(join(dir, 'script.js'), script("'http://127.0.0.1:8080/'", "{ 'status is 200': (r) => r.status === 200 }", '/** @type {number} */ x'));
  const good = await tsc(join(dir, 'tsconfig.json'));
  assert.equal(good.code, 0, good.out);

  // strict mode is on too: an untyped parameter is an implicit any (TS7006)
  writeFileSync(join(dir, 'script.js'), script('123', "'status is 200'", 'x'));
  const bad = await tsc(join(dir, 'tsconfig.json'));
  assert.notEqual(bad.code, 0, bad.out);
  const errors = bad.out.split('\n').filter((l) => /error TS\d+/.test(l));
  assert.equal(errors.length, 3, bad.out);
  assert.match(errors[0], /script\.js\(4,\d+\): error TS2345: Argument of type 'number' is not assignable/, bad.out);
  assert.match(errors[1], /script\.js\(5,\d+\): error TS2345: Argument of type 'string' is not assignable/, bad.out);
  assert.match(errors[2], /script\.js\(7,\d+\): error TS7006: Parameter 'x' implicitly has an 'any' type/, bad.out);
});
