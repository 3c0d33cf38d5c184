import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestServer } from './test-server.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

/** What a door answered to one query: the rows (as JSON values) or the error's stable code. */
export interface DoorOutcome {
  readonly errorCode: string | null;
  readonly rows: unknown[][];
}

export interface Door {
  readonly name: string;
  /** The door as the audit trail names it. */
  readonly audited: string;
  query(server: TestServer, user: string, sql: string): Promise<DoorOutcome>;
}

const http: Door = {
  name: 'http',
  audited: 'http',
  async query(server, user, sql) {
    const { status, body } = await server.query(user, sql);
    return status === 200 ? { errorCode: null, rows: body.rows ?? [] } : { errorCode: body.error?.code ?? `HTTP ${status}`, rows: [] };
  },
};

const cli: Door = {
  name: 'cli',
  audited: 'cli',
  async query(server, user, sql) {
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'query', '--user', user, sql, '--max-rows', '100000', '--home', server.home], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
      const [, ...rows] = stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown[]);
      return { errorCode: null, rows };
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      return { errorCode: /^error ([A-Z_]+):/m.exec(stderr)?.[1] ?? `CLI ${stderr.slice(0, 200)}`, rows: [] };
    }
  },
};

/** The PostgreSQL wire door through the npm pg client (extended protocol, text results). */
const postgres: Door = {
  name: 'pg',
  audited: 'pg',
  async query(server, user, sql) {
    const client = new pg.Client({ host: '127.0.0.1', port: server.pgPort, user, password: server.token(user), database: 'veil', application_name: 'door-conformance' });
    await client.connect();
    try {
      const result = await client.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (value: string) => value } });
      return { errorCode: null, rows: result.rows as unknown[][] };
    } catch (error) {
      // The door names Veil's own code in the error's detail, next to the SQLSTATE.
      const { code, detail, message } = error as { code?: string; detail?: string; message: string };
      const veilCode = /Veil error code ([A-Z_]+)/.exec(detail ?? '')?.[1];
      return { errorCode: veilCode ?? `SQLSTATE ${code ?? '?'}: ${message}`, rows: [] };
    } finally {
      await client.end();
    }
  },
};

/** Every door a user can query through; the conformance suite runs each case through all of them. */
export const DOORS: Door[] = [http, cli, postgres];
