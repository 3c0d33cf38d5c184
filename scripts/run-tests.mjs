#!/usr/bin/env node
// Runs every *.test.ts under the given folders (default: src and test) with Node's test runner,
// once per control-store backend in VEIL_TEST_BACKENDS (comma list, default "sqlite,postgres"):
//   sqlite    Veil's control store on SQLite (the VEIL_CONTROL_STORE family of variables unset)
//   postgres  on a throwaway PostgreSQL cluster started for the pass (scripts/test-postgres.mjs),
//             with VEIL_CONTROL_STORE=postgres, VEIL_POSTGRES_URL and VEIL_POSTGRES_SCHEMA set
// A failed pass stops the run (the next passes do not start). Arguments starting with -- go to
// Node's test runner; other arguments are test files or folders.
// Node 20's --test does not expand glob patterns itself, hence this small launcher.
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { startTestPostgres } from './test-postgres.mjs';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) walk(full);
    else if (entry.endsWith('.test.ts')) files.push(full);
  }
};
for (const root of roots.length > 0 ? roots : ['src', 'test']) {
  if (statSync(root).isDirectory()) walk(root);
  else files.push(root);
}
files.sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const KNOWN_BACKENDS = ['sqlite', 'postgres'];
const requested = (process.env.VEIL_TEST_BACKENDS ?? '').split(',').map((b) => b.trim().toLowerCase()).filter((b) => b !== '');
const backends = [...new Set(requested.length > 0 ? requested : KNOWN_BACKENDS)];
const unknown = backends.filter((b) => !KNOWN_BACKENDS.includes(b));
if (unknown.length > 0) {
  console.error(`VEIL_TEST_BACKENDS: unknown backend ${unknown.join(', ')} (known: ${KNOWN_BACKENDS.join(', ')})`);
  process.exit(2);
}

/** The variables that choose Veil's control store: unset for the sqlite pass, whatever the shell says. */
const STORE_VARIABLES = ['VEIL_CONTROL_STORE', 'VEIL_POSTGRES_URL', 'VEIL_POSTGRES_SCHEMA'];

function baseEnv() {
  // libuv sizes its pool once; CSV streaming holds pool threads (see src/cli/threadpool.ts)
  const env = { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '32' };
  for (const name of STORE_VARIABLES) delete env[name];
  return env;
}

// Ctrl-C reaches the test runner too (same process group); a SIGTERM sent to this launcher alone
// is passed on. Either way the launcher waits for the runner, then stops PostgreSQL and exits.
let child = null;
let interrupted = null;
let cluster = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    interrupted = signal;
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill(signal);
    else finish(128 + constants.signals[signal]);
  });
}

function finish(status) {
  cluster?.stop();
  process.exit(status);
}

/** One run of Node's test runner over every file; resolves to its exit status. */
function runTests(env) {
  return new Promise((resolve) => {
    child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...passThrough, ...files], { stdio: 'inherit', env });
    child.once('error', (error) => {
      console.error(`could not start the test runner: ${error.message}`);
      child = null;
      resolve(1);
    });
    child.once('close', (code, signal) => {
      child = null;
      resolve(code ?? 128 + (constants.signals[signal] ?? 0));
    });
  });
}

function withoutPassword(url) {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const summary = [];
for (const [index, backend] of backends.entries()) {
  const started = performance.now();
  let status;
  if (backend === 'sqlite') {
    console.log(`\n== tests on the sqlite control store`);
    status = await runTests(baseEnv());
  } else {
    try {
      cluster = await startTestPostgres();
    } catch (error) {
      console.error(`\n== cannot run the tests on the postgres control store: ${error instanceof Error ? error.message : String(error)}`);
      finish(1);
    }
    console.log(`\n== PostgreSQL started in ${seconds(performance.now() - started)} (${path.dirname(cluster.dataDir)}, deleted after the pass)`);
    console.log(`== tests on the postgres control store (${withoutPassword(cluster.url)})`);
    status = await runTests({
      ...baseEnv(),
      VEIL_CONTROL_STORE: 'postgres',
      VEIL_POSTGRES_URL: cluster.url,
      // Literal {home}: Veil derives one schema per home directory from it.
      VEIL_POSTGRES_SCHEMA: 'veil_{home}',
    });
    if (status !== 0 && interrupted === null && existsSync(cluster.logFile)) {
      const tail = readFileSync(cluster.logFile, 'utf8').trimEnd().split('\n').slice(-20);
      console.error(`\n== the last lines of PostgreSQL's log (${cluster.logFile}, deleted with the cluster):\n${tail.join('\n')}`);
    }
    cluster.stop();
    cluster = null;
  }
  summary.push(`${backend} ${status === 0 ? 'passed' : `FAILED (exit status ${status})`} in ${seconds(performance.now() - started)}`);
  if (interrupted !== null) {
    console.error(`\n== interrupted (${interrupted}) during the ${backend} pass`);
    finish(128 + constants.signals[interrupted]);
  }
  if (status !== 0) {
    const skipped = backends.slice(index + 1);
    console.error(`\n== the ${backend} pass failed${skipped.length > 0 ? `: stopping here, the ${skipped.join(', ')} pass${skipped.length > 1 ? 'es were' : ' was'} not run` : ''}`);
    console.error(`== ${summary.join('; ')}`);
    finish(status);
  }
}
console.log(`\n== ${summary.join('; ')}`);
finish(0);
