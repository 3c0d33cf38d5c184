import { InvalidRequestError } from '../../errors/index.ts';
import { withDeployment } from '../../server/index.ts';
import { asUser } from '../cli-door.ts';
import { parse, printJson, requirePositional, str, type CommandGroup } from '../cli-support.ts';
import { chunkRowsJson } from '../../gateway/index.ts';

export const TOP_LEVEL_COMMANDS: CommandGroup = {
  explain: {
    usage: 'explain --user NAME "SQL"   what NAME would see: columns, transforms, row filters, policies',
    run: async (args) => {
      const { values, positionals } = parse(args, { user: { type: 'string', short: 'u' } });
      const user = str(values, 'user');
      if (user === undefined) throw new InvalidRequestError('--user is required');
      const sql = requirePositional(positionals, 0, 'SQL text');
      printJson(await asUser(values, user, (gateway, scope) => gateway.data.explain(scope, sql)));
    },
  },
  query: {
    usage: 'query --user NAME "SQL" [--max-rows N]   run as NAME through the same pipeline (audited, door cli); prints JSON lines',
    run: async (args) => {
      const { values, positionals } = parse(args, { user: { type: 'string', short: 'u' }, 'max-rows': { type: 'string' } });
      const user = str(values, 'user');
      if (user === undefined) throw new InvalidRequestError('--user is required');
      const sql = requirePositional(positionals, 0, 'SQL text');
      const maxRows = Number(str(values, 'max-rows') ?? 100);
      if (!Number.isSafeInteger(maxRows) || maxRows < 0) throw new InvalidRequestError('--max-rows must be a non-negative integer');
      await asUser(values, user, async (gateway, scope) => {
        const prepared = await gateway.data.query(scope, sql);
        await gateway.data.startDelivery(scope, prepared);
        const stream = await gateway.data.results.open(prepared);
        let rows = 0;
        let bytes = 0;
        const write = (line: string): void => {
          bytes += Buffer.byteLength(line);
          process.stdout.write(line);
        };
        try {
          write(`${JSON.stringify(stream.columns.map((c) => c.name))}\n`);
          for (let chunk = await stream.nextChunk(); chunk !== null && rows < maxRows; chunk = await stream.nextChunk()) {
            for (const row of chunkRowsJson(chunk).slice(0, maxRows - rows)) {
              write(`${JSON.stringify(row)}\n`);
              rows++;
            }
          }
        } finally {
          stream.close();
          gateway.data.delivered(scope, rows, bytes);
        }
      });
    },
  },
  demo: {
    usage: 'demo [--rows N]   generate and register the demo data, users and policies without serving',
    run: async (args) => {
      const { values } = parse(args, { rows: { type: 'string' } });
      const rows = Number(str(values, 'rows') ?? 100_000);
      await withDeployment(str(values, 'home'), (deployment) => deployment.setupDemo(rows, (line) => process.stderr.write(`${line}\n`)).then(() => undefined));
    },
  },
};
