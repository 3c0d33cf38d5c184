// A throwaway PostgreSQL cluster for the test suite's postgres pass (scripts/run-tests.mjs).
//
// startTestPostgres() runs Debian's PostgreSQL 15 binaries (/usr/lib/postgresql/15/bin, or
// VEIL_PG_BIN) in a fresh temporary directory: initdb (local socket: trust; host 127.0.0.1:
// scram-sha-256 with a random password), pg_ctl start on a free port of 127.0.0.1 only, with its
// unix socket inside the temporary directory and no durability (a test database), then a role
// `veil` owning a database `veil_test`. stop() stops it (immediate shutdown) and deletes the
// directory; it is synchronous and idempotent, and also runs on process exit, SIGINT and SIGTERM.
// A run killed with SIGKILL cannot clean up: the next startTestPostgres() stops and deletes
// clusters whose runner process is gone.
//
// PostgreSQL refuses to run as root: as root, initdb, pg_ctl and psql run as the `postgres` OS
// user (created by Debian's postgresql package) through runuser, and the directory is theirs.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

const DIR_PREFIX = 'veil-test-pg-';
const RUNNER_PID_FILE = 'runner.pid';
const ROLE = 'veil';
const DATABASE = 'veil_test';

/** Settings beyond initdb's defaults: loopback only. */
const SETTINGS = [
  "listen_addresses = '127.0.0.1'",
  // Every test process holds a pool of its own (test files run two at a time, each may open
  // several Veil homes).
  'max_connections = 300',
  'wal_level = minimal',
  'max_wal_senders = 0',
  'max_wal_size = 1GB',
  'checkpoint_timeout = 30min',
  'huge_pages = off',
];

/** For tests only: commits need not survive a crash of the throwaway cluster. */
const FAST_SETTINGS = ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off'];

function pgBin() {
  return process.env.VEIL_PG_BIN?.trim() || '/usr/lib/postgresql/15/bin';
}

/** As root, the uid/gid of the postgres OS user; otherwise null (run as ourselves). */
function postgresOsUser() {
  if (process.getuid?.() !== 0) return null;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      'PostgreSQL refuses to run as root and there is no "postgres" OS user to run it as: ' +
        'apt-get install postgresql creates it (or run the tests as a non-root user; VEIL_TEST_BACKENDS=sqlite skips the PostgreSQL pass)',
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Runs a PostgreSQL tool synchronously, as the postgres OS user when we are root; throws with its
 * output (and the server log's tail) on failure.
 */
function runTool(dir, tool, args, { input, timeoutMs = 120_000 } = {}) {
  const binary = path.join(pgBin(), tool);
  const runAs = process.getuid?.() === 0 ? [existsSync('/usr/sbin/runuser') ? '/usr/sbin/runuser' : 'runuser', '-u', 'postgres', '--'] : [];
  const [command, ...rest] = [...runAs, binary, ...args];
  // cwd: the postgres user may not be allowed into the caller's working directory.
  const result = spawnSync(command, rest, { encoding: 'utf8', cwd: dir, input, timeout: timeoutMs, stdio: ['pipe', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    const logFile = path.join(dir, 'postgres.log');
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n') : '';
    const output = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim().slice(-1500);
    const status = result.error?.message ?? (result.signal ? `signal ${result.signal}` : `exit status ${result.status}`);
    throw new Error(`${tool} failed (${status})${output === '' ? '' : `: ${output}`}${log === '' ? '' : `\nserver log (${logFile}):\n${log}`}`);
  }
  return result.stdout;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function sqlLiteral(text) {
  return `'${text.replaceAll("'", "''")}'`;
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Stops and deletes clusters left behind by runs that died without cleaning up (SIGKILL). */
function sweepAbandoned() {
  let entries;
  try {
    entries = readdirSync(os.tmpdir()).filter((name) => name.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of entries) {
    const dir = path.join(os.tmpdir(), name);
    try {
      const runner = Number(readFileSync(path.join(dir, RUNNER_PID_FILE), 'utf8').trim());
      if (!Number.isInteger(runner) || runner <= 0 || processAlive(runner)) continue;
      const dataDir = path.join(dir, 'data');
      if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
        try {
          runTool(dir, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop'], { timeoutMs: 40_000 });
        } catch {
          // Already gone (a reboot), or not ours to stop: delete what we can.
        }
      }
      rmSync(dir, { recursive: true, force: true });
      console.error(`test-postgres: removed the abandoned cluster ${dir} (its runner, pid ${runner}, is gone)`);
    } catch {
      // No runner.pid yet (another run is setting up), or not ours: leave it.
    }
  }
}

// ---- cleanup on exit and on signals ------------------------------------------------------------

const live = new Set();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function stopAll() {
  for (const stop of [...live]) stop();
}

function onSignal(signal) {
  stopAll();
  // Die of the signal as if we had not been listening, unless someone else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function track(stop) {
  if (live.size === 0) {
    process.on('exit', stopAll);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  live.add(stop);
}

function untrack(stop) {
  live.delete(stop);
  if (live.size === 0) {
    process.off('exit', stopAll);
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}

// ---- the cluster -------------------------------------------------------------------------------

/**
 * Starts a throwaway PostgreSQL cluster for tests (fast rather than durable: no fsync), or, with
 * `durable`, with PostgreSQL's durability settings left as they are (benchmarks compare durable
 * commits with durable commits).
 *
 * @param {{ durable?: boolean }} [options]
 * @returns {Promise<{ url: string, port: number, dataDir: string, logFile: string, stop: () => void }>}
 *   url: postgres://veil:PASSWORD@127.0.0.1:PORT/veil_test (role veil owns database veil_test);
 *   stop(): immediate shutdown and removal of the directory; synchronous, idempotent.
 */
export async function startTestPostgres({ durable = false } = {}) {
  const bin = pgBin();
  const missing = ['initdb', 'pg_ctl', 'postgres', 'psql'].filter((tool) => !existsSync(path.join(bin, tool)));
  if (missing.length > 0) {
    throw new Error(
      `PostgreSQL 15 is needed for the tests' postgres pass, but ${missing.map((tool) => path.join(bin, tool)).join(', ')} ` +
        `${missing.length === 1 ? 'is' : 'are'} missing: install it with \`apt-get install postgresql\` (Debian's PostgreSQL 15), ` +
        'or point VEIL_PG_BIN at the bin directory of another installation. ' +
        'VEIL_TEST_BACKENDS=sqlite skips the PostgreSQL pass.',
    );
  }
  const owner = postgresOsUser();
  sweepAbandoned();

  const dir = mkdtempSync(path.join(os.tmpdir(), DIR_PREFIX));
  writeFileSync(path.join(dir, RUNNER_PID_FILE), `${process.pid}\n`);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const password = randomBytes(18).toString('base64url');
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    untrack(stop);
    try {
      // pg_ctl start -w returns once postmaster.pid says ready: no pid file, no server.
      if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
        runTool(dir, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', '60', 'stop'], { timeoutMs: 70_000 });
      }
    } catch (error) {
      console.error(`test-postgres: stopping PostgreSQL in ${dataDir} failed: ${error.message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  track(stop);

  try {
    if (owner !== null) chownSync(dir, owner.uid, owner.gid);
    runTool(dir, 'initdb', ['-D', dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    // Two ways in: trust over the socket in our 0700 directory (setup), a password over 127.0.0.1.
    // (Rewritten in place: the files stay the postgres user's.)
    writeFileSync(path.join(dataDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
    appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n# veil test cluster (scripts/test-postgres.mjs)\nunix_socket_directories = ${sqlLiteral(dir)}\n${[...SETTINGS, ...(durable ? [] : FAST_SETTINGS)].join('\n')}\n`);

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        runTool(dir, 'pg_ctl', ['-D', dataDir, '-l', logFile, '-o', `-p ${port}`, '-w', '-t', '60', 'start'], { timeoutMs: 70_000 });
        break;
      } catch (error) {
        // Someone took the free port between our probe and the postmaster's bind: try another.
        const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
        if (attempt >= 3 || !log.includes('Address already in use')) throw error;
      }
    }
    runTool(dir, 'psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-f', '-'], {
      input: `CREATE ROLE ${ROLE} LOGIN PASSWORD ${sqlLiteral(password)};\nCREATE DATABASE ${DATABASE} OWNER ${ROLE};\n`,
    });
    const url = `postgres://${ROLE}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
    return { url, port, dataDir, logFile, stop };
  } catch (error) {
    stop();
    if (owner !== null && error instanceof Error && /Permission denied/i.test(error.message)) {
      error.message += `\n(as root, PostgreSQL runs as the postgres OS user, who must be able to reach ${os.tmpdir()}: set TMPDIR to a directory it can enter)`;
    }
    throw error;
  }
}
