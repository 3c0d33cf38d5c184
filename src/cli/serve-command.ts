import { InvalidRequestError } from '../errors/index.ts';
import { createHttpServer } from '../http/index.ts';
import { openDeployment } from '../server/index.ts';
import { startPgServer } from '../pgwire/index.ts';
import { startTrinoListener } from '../trino/index.ts';
import { parse, str } from './cli-support.ts';

export async function serveCommand(args: readonly string[]): Promise<void> {
  const { values } = parse(args, {
    demo: { type: 'boolean' },
    host: { type: 'string' },
    port: { type: 'string', short: 'p' },
    rows: { type: 'string' },
    'pg-port': { type: 'string' },
    'pg-host': { type: 'string' },
    'trino-port': { type: 'string' },
    'trino-host': { type: 'string' },
  });
  const host = str(values, 'host') ?? '127.0.0.1';
  const port = Number(str(values, 'port') ?? 7070);
  const rows = Number(str(values, 'rows') ?? 100_000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidRequestError('--port must be a TCP port number');
  if (!Number.isInteger(rows) || rows < 1) throw new InvalidRequestError('--rows must be a positive integer');
  const log = (line: string): void => {
    process.stderr.write(`[veil] ${line}\n`);
  };
  const deployment = await openDeployment(str(values, 'home'));
  const { gateway } = deployment;
  // The audit mirror catches up in the background (a full load only on a home without its cache).
  gateway.warm();
  if (values['demo'] === true) {
    const demo = await deployment.setupDemo(rows, log);
    // The web UI's "Sign in as …" picker: only while serving the demo.
    gateway.enableDemoSignIn(demo.users);
  }
  const pgPort = Number(str(values, 'pg-port') ?? gateway.settings.pg.port);
  const pgHost = str(values, 'pg-host') ?? gateway.settings.pg.host;
  if (!Number.isInteger(pgPort) || pgPort < 0 || pgPort > 65535) throw new InvalidRequestError('--pg-port must be a TCP port number (0: no PostgreSQL door)');
  const pg = pgPort === 0 ? undefined : await startPgServer(gateway, { port: pgPort, host: pgHost });
  const trinoPort = Number(str(values, 'trino-port') ?? gateway.settings.trino.port);
  const trinoHost = str(values, 'trino-host') ?? gateway.settings.trino.host;
  if (!Number.isInteger(trinoPort) || trinoPort < 0 || trinoPort > 65535) throw new InvalidRequestError('--trino-port must be a TCP port number (0: no Trino listener)');
  const trino = trinoPort === 0 ? undefined : await startTrinoListener(gateway, { port: trinoPort, host: trinoHost, ...trinoTls(gateway.settings.trino) });
  const server = createHttpServer(gateway, pg === undefined ? {} : { pg: { port: pg.address.port, ...(isWildcard(pgHost) ? {} : { host: pgHost }) } });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  log(`home ${deployment.homeDirectory}`);
  log(`listening on ${url}  (web UI: ${url}/, API description: ${url}/openapi.json)`);
  if (trino !== undefined) {
    const scheme = gateway.settings.trino.tlsCert === '' ? 'http' : 'https';
    log(`Trino OPA access control on ${scheme}://${trinoHost}:${trino.address.port}/v1/data/veil/allow  (docs/scale-out.md)`);
    if (!isLoopback(trinoHost) && gateway.settings.trino.tlsClientCa === '') log('warning: the Trino listener trusts every client that reaches it; set trino_tls_client_ca or keep it on a private network');
  }
  if (pg !== undefined) log(`PostgreSQL protocol on ${pgHost}:${pg.address.port}  (psql, JDBC, psycopg2, BI tools: docs/sql-clients.md)`);
  if (values['demo'] === true) {
    const homeArg = str(values, 'home') === undefined ? '' : ` --home ${deployment.homeDirectory}`;
    log('demo users: alice (data_science, region=US), bob (research), carol (compliance), dave (none), erin (stewards)');
    log(`get a token:  TOKEN=$(npm run -s veil -- token issue --user alice${homeArg})`);
    log(`then:         curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`);
    log(`                -d '{"sql":"SELECT country, count(*) FROM drug_xyz.trial_july2020 GROUP BY ALL"}' ${url}/v1/query`);
    if (pg !== undefined) {
      log(`or with psql: PGPASSWORD="$TOKEN" psql "host=${pgHost} port=${pg.address.port} user=alice dbname=veil" -c 'SELECT arm, count(*) FROM drug_xyz.trial_july2020 GROUP BY arm'`);
    }
  }
  const shutdown = (signal: string): void => {
    log(`${signal}: shutting down`);
    server.close();
    server.closeAllConnections();
    void pg?.close();
    void trino?.close();
    deployment
      .close()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

/** The Trino listener's TLS files from the settings (certificate and key together, or neither). */
function trinoTls(settings: { readonly tlsCert: string; readonly tlsKey: string; readonly tlsClientCa: string }): { tls?: { cert: string; key: string; clientCa?: string } } {
  if (settings.tlsCert === '' && settings.tlsKey === '') {
    if (settings.tlsClientCa !== '') throw new InvalidRequestError('trino_tls_client_ca needs trino_tls_cert and trino_tls_key');
    return {};
  }
  if (settings.tlsCert === '' || settings.tlsKey === '') throw new InvalidRequestError('trino_tls_cert and trino_tls_key must be configured together');
  return { tls: { cert: settings.tlsCert, key: settings.tlsKey, ...(settings.tlsClientCa === '' ? {} : { clientCa: settings.tlsClientCa }) } };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** A listener on every address: snippets then use the host the caller reached Veil by. */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}
