import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { TestIdentityProvider } from './support/test-identity-provider.ts';

/**
 * The Python client (clients/python) against a real Veil: its unittest suite runs in Debian's
 * python3 with pandas (no pyarrow there, so Parquet results are decoded by veil.parquet), with
 * the server's address, a Veil token per demo user and identity-provider tokens in the
 * environment. VEIL_TEST_PYTHON picks another interpreter (one with pyarrow also runs every dtype
 * test on the Arrow path).
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = process.env['VEIL_TEST_PYTHON'] ?? '/usr/bin/python3';
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const SUITE_TIMEOUT_MS = 120_000;

let s: TestServer & { internalErrors: unknown[] };
let home: string;
/** The notebook platform's identity provider: its tokens reach Veil through the client unchanged. */
const notebookIdp = new TestIdentityProvider('https://notebooks.test.example', 'veil', ['ES256']);

before(async () => {
  s = await startTestServer({
    rows: 3000,
    prepareHome: (veilHome) => {
      notebookIdp.writeJwksFile(veilHome, 'notebooks-jwks.json');
      writeFileSync(
        path.join(veilHome, 'config.yaml'),
        stringify({ oidc_providers: [{ name: 'notebooks', issuer: notebookIdp.issuer, audience: 'veil', jwks_file: 'notebooks-jwks.json', attribute_claims: { region: 'region' } }] }),
      );
    },
  });
  home = mkdtempSync(path.join(os.tmpdir(), 'veil-python-home-'));
});
after(async () => {
  await s.close();
  rmSync(home, { recursive: true, force: true });
});

function runPython(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: the server under test runs in this process and must keep answering.
    const child = spawn(PYTHON, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('the Python client suite passes against a real server', async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import pandas, numpy'], { encoding: 'utf8' });
  assert.equal(
    probe.status,
    0,
    `${PYTHON} cannot import pandas; install it (Debian: apt-get install python3-pandas; CI installs it).\n${probe.error?.message ?? probe.stderr}`,
  );
  const url = new URL(s.url);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    PYTHONPATH: path.join(ROOT, 'clients', 'python', 'src'),
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    VEIL_HOST: url.hostname,
    VEIL_PORT: url.port,
    VEIL_TEST_TRIAL_CSV: path.join(s.home, 'storage', 'clinical-trials', 'drug-xyz', 'trial-july2020', 'data.csv'),
    ...Object.fromEntries(USERS.map((user) => [`VEIL_TEST_TOKEN_${user.toUpperCase()}`, s.token(user)])),
    // IdP-signed tokens as a notebook platform writes them: a user Veil stores (alice), and one it
    // does not (nora, whose groups and region come only from the token).
    VEIL_TEST_OIDC_TOKEN_ALICE: notebookIdp.token({ preferred_username: 'alice' }),
    VEIL_TEST_OIDC_TOKEN_NORA: notebookIdp.token({ preferred_username: 'nora', groups: ['data_science'], region: 'DE' }),
  };
  const started = Date.now();
  const { code, output } = await runPython(['-m', 'unittest', 'discover', '-s', 'clients/python/tests', '-t', 'clients/python/tests', '-v'], env);
  assert.equal(code, 0, `the Python suite failed (exit ${code}) after ${Date.now() - started} ms:\n${output}`);
  assert.match(output, /^OK/m, output);
  assert.doesNotMatch(output, /Ran 0 tests/, output);
});

test('no request of the Python suite ended in an internal error', () => {
  assert.deepEqual(s.internalErrors, []);
});
