import { InvalidRequestError } from '../errors/index.ts';
import { createHttpServer } from '../http/index.ts';
import { openDeployment } from '../server/index.ts';
import { parse, str } from './cli-support.ts';

export async function serveCommand(args: readonly string[]): Promise<void> {
  const { values } = parse(args, {
    demo: { type: 'boolean' },
    host: { type: 'string' },
    port: { type: 'string', short: 'p' },
    rows: { type: 'string' },
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
  if (values['demo'] === true) await deployment.setupDemo(rows, log);
  const server = createHttpServer(gateway);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  log(`home ${deployment.homeDirectory}`);
  log(`listening on ${url}  (API description: ${url}/openapi.json)`);
  if (values['demo'] === true) {
    const homeArg = str(values, 'home') === undefined ? '' : ` --home ${deployment.homeDirectory}`;
    log('demo users: alice (data_science, region=US), bob (research), carol (compliance), dave (none), erin (stewards)');
    log(`get a token:  TOKEN=$(npm run -s veil -- token issue --user alice${homeArg})`);
    log(`then:         curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`);
    log(`                -d '{"sql":"SELECT country, count(*) FROM drug_xyz.trial_july2020 GROUP BY ALL"}' ${url}/v1/query`);
  }
  const shutdown = (signal: string): void => {
    log(`${signal}: shutting down`);
    server.close();
    server.closeAllConnections();
    deployment
      .close()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
