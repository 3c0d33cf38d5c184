import { InvalidRequestError } from '../../errors/index.ts';
import { asOperator, asUser } from '../cli-door.ts';
import { groupPairs, list, optionalStrings, pairs, parse, printJson, requirePositional, str, type CommandGroup } from '../cli-support.ts';

export const DATASET_COMMANDS: CommandGroup = {
  register: {
    usage:
      'dataset register DB.NAME --location PATH [--format csv|parquet|json] [--description TEXT] [--owner NAME] [--tag TAG]... [--column-tag COL=TAG]... [--column-type COL=TYPE]... [--no-header] [--delimiter C] [--null-string S]',
    run: async (args) => {
      const { values, positionals } = parse(args, {
        location: { type: 'string', short: 'l' },
        format: { type: 'string' },
        description: { type: 'string' },
        owner: { type: 'string' },
        tag: { type: 'string', multiple: true },
        'column-tag': { type: 'string', multiple: true },
        'column-type': { type: 'string', multiple: true },
        'no-header': { type: 'boolean' },
        delimiter: { type: 'string' },
        'null-string': { type: 'string' },
      });
      const name = requirePositional(positionals, 0, 'dataset name (database.name)');
      const location = str(values, 'location');
      if (location === undefined) throw new InvalidRequestError('--location is required');
      const format = str(values, 'format');
      if (format !== undefined && !['csv', 'parquet', 'json'].includes(format)) throw new InvalidRequestError('--format must be csv, parquet or json');
      const delimiter = str(values, 'delimiter');
      const nullString = str(values, 'null-string');
      const input = {
        name,
        location,
        ...(format === undefined ? {} : { format: format as 'csv' | 'parquet' | 'json' }),
        csv: {
          ...(values['no-header'] === true ? { header: false } : {}),
          ...(delimiter === undefined ? {} : { delimiter }),
          ...(nullString === undefined ? {} : { nullString }),
        },
        ...optionalStrings(values, ['description', 'owner']),
        tags: list(values, 'tag'),
        columnTags: groupPairs(list(values, 'column-tag'), '--column-tag'),
        columnTypes: Object.fromEntries(pairs(list(values, 'column-type'), '--column-type')),
      };
      printJson(await asOperator(values, (gateway, scope) => gateway.catalog.register(scope, input, { classify: false })));
    },
  },
  list: {
    usage: 'dataset list',
    run: async (args) => {
      const { values } = parse(args, {});
      const datasets = await asOperator(values, (gateway, scope) => gateway.catalog.storedDatasets(scope));
      for (const d of datasets) process.stdout.write(`${d.database}.${d.name}\t${d.format}\t${d.description}\n`);
    },
  },
  describe: {
    usage: 'dataset describe DB.NAME [--user NAME]   (with --user: as that user sees it)',
    run: async (args) => {
      const { values, positionals } = parse(args, { user: { type: 'string', short: 'u' } });
      const name = requirePositional(positionals, 0, 'dataset name');
      const user = str(values, 'user');
      if (user === undefined) printJson(await asOperator(values, (gateway, scope) => gateway.catalog.storedDataset(scope, name)));
      else printJson(await asUser(values, user, (gateway, scope) => gateway.catalog.describeDataset(scope, name)));
    },
  },
  tag: {
    usage: 'dataset tag DB.NAME [--add TAG]... [--remove TAG]... [--column COL=TAG]... [--remove-column COL=TAG]...',
    run: async (args) => {
      const { values, positionals } = parse(args, {
        add: { type: 'string', multiple: true },
        remove: { type: 'string', multiple: true },
        column: { type: 'string', multiple: true },
        'remove-column': { type: 'string', multiple: true },
      });
      const name = requirePositional(positionals, 0, 'dataset name');
      const columns: Record<string, { add: string[]; remove: string[] }> = {};
      for (const [col, tag] of pairs(list(values, 'column'), '--column')) (columns[col] ??= { add: [], remove: [] }).add.push(tag);
      for (const [col, tag] of pairs(list(values, 'remove-column'), '--remove-column')) (columns[col] ??= { add: [], remove: [] }).remove.push(tag);
      printJson(await asOperator(values, (gateway, scope) => gateway.catalog.tag(scope, name, { add: list(values, 'add'), remove: list(values, 'remove'), columns })));
    },
  },
  update: {
    usage: 'dataset update DB.NAME [--description TEXT] [--owner NAME] [--steward NAME] [--certify draft|validated|deprecated --by NAME [--note TEXT]] [--column-description COL=TEXT]...',
    run: async (args) => {
      const { values, positionals } = parse(args, {
        description: { type: 'string' },
        owner: { type: 'string' },
        steward: { type: 'string' },
        certify: { type: 'string' },
        by: { type: 'string' },
        note: { type: 'string' },
        'column-description': { type: 'string', multiple: true },
      });
      const name = requirePositional(positionals, 0, 'dataset name');
      const status = str(values, 'certify');
      const by = str(values, 'by');
      if (status !== undefined && by === undefined) throw new InvalidRequestError('--certify needs --by NAME: a certification records who made it');
      const note = str(values, 'note');
      const columnDescriptions = Object.fromEntries(pairs(list(values, 'column-description'), '--column-description'));
      const changes = {
        ...optionalStrings(values, ['description', 'owner', 'steward']),
        ...(status === undefined || by === undefined ? {} : { certification: { status, by, ...(note === undefined ? {} : { note }) } }),
        ...(Object.keys(columnDescriptions).length === 0 ? {} : { columnDescriptions }),
      };
      printJson(await asOperator(values, (gateway, scope) => gateway.catalog.update(scope, name, changes)));
    },
  },
  drop: {
    usage: 'dataset drop DB.NAME   (the files stay where they are)',
    run: async (args) => {
      const { values, positionals } = parse(args, {});
      const name = requirePositional(positionals, 0, 'dataset name');
      const dropped = await asOperator(values, (gateway, scope) => gateway.catalog.drop(scope, name));
      process.stdout.write(`dropped ${dropped}\n`);
    },
  },
};
