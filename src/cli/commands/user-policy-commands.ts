import { readFileSync } from 'node:fs';
import { InvalidRequestError } from '../../errors/index.ts';
import { parseUserDocument } from '../../identity/index.ts';
import { exportPolicyDocument, parsePolicyDocuments, policyToAuthored } from '../../policy/index.ts';
import { asOperator } from '../cli-door.ts';
import { groupPairs, list, parse, printJson, requirePositional, str, type CommandGroup, type Options } from '../cli-support.ts';

const FILE: Options = { file: { type: 'string', short: 'f' } };

function readFileArg(values: Record<string, unknown>): string {
  const file = str(values, 'file');
  if (file === undefined) throw new InvalidRequestError('pass -f FILE (or -f - for standard input)');
  return readFileSync(file === '-' ? 0 : file, 'utf8');
}

export const USER_COMMANDS: CommandGroup = {
  add: {
    usage: 'user add NAME [--group G]... [--attr KEY=VALUE]...   (creates or replaces)',
    run: async (args) => {
      const { values, positionals } = parse(args, { group: { type: 'string', multiple: true }, attr: { type: 'string', multiple: true } });
      const name = requirePositional(positionals, 0, 'user name');
      const attributes = groupPairs(list(values, 'attr'), '--attr');
      const flat = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, v.length === 1 ? v[0] : v]));
      printJson(await asOperator(values, (gateway, scope) => gateway.admin.putUser(scope, name, { groups: list(values, 'group'), attributes: flat })));
    },
  },
  list: {
    usage: 'user list',
    run: async (args) => {
      const { values } = parse(args, {});
      printJson(await asOperator(values, (gateway, scope) => gateway.admin.listUsers(scope)));
    },
  },
  remove: {
    usage: 'user remove NAME',
    run: async (args) => {
      const { values, positionals } = parse(args, {});
      const name = requirePositional(positionals, 0, 'user name');
      await asOperator(values, (gateway, scope) => gateway.admin.deleteUser(scope, name));
      process.stdout.write(`removed ${name}\n`);
    },
  },
  apply: {
    usage: 'user apply -f FILE   (YAML: users: [{name, groups, attributes}])',
    run: async (args) => {
      const { values } = parse(args, FILE);
      const users = parseUserDocument(readFileArg(values));
      await asOperator(values, async (gateway, scope) => {
        for (const user of users) await gateway.admin.putUser(scope, user.name, { groups: user.groups, attributes: user.attributes });
        scope.describe('admin', `apply ${users.length} users`);
      });
      process.stdout.write(`applied ${users.length} user(s)\n`);
    },
  },
};

export const POLICY_COMMANDS: CommandGroup = {
  apply: {
    usage: 'policy apply -f FILE [--prune]   (YAML or JSON; --prune deletes policies not in FILE)',
    run: async (args) => {
      const { values } = parse(args, { ...FILE, prune: { type: 'boolean' } });
      const policies = parsePolicyDocuments(readFileArg(values));
      const result = await asOperator(values, (gateway, scope) => gateway.admin.applyPolicies(scope, policies, { prune: values['prune'] === true }));
      for (const [what, names] of Object.entries(result)) if (names.length > 0) process.stdout.write(`${what}: ${names.join(', ')}\n`);
    },
  },
  list: {
    usage: 'policy list',
    run: async (args) => {
      const { values } = parse(args, {});
      for (const p of await asOperator(values, (gateway, scope) => gateway.admin.listPolicies(scope))) {
        process.stdout.write(`${p.name}\t${p.effect}\t${p.enabled ? 'enabled' : 'disabled'}\t${p.description ?? ''}\n`);
      }
    },
  },
  export: {
    usage: 'policy export [--json]   (YAML that policy apply accepts)',
    run: async (args) => {
      const { values } = parse(args, { json: { type: 'boolean' } });
      const policies = await asOperator(values, (gateway, scope) => gateway.admin.listPolicies(scope));
      if (values['json'] === true) printJson({ policies: policies.map(policyToAuthored) });
      else process.stdout.write(exportPolicyDocument(policies));
    },
  },
  delete: {
    usage: 'policy delete NAME',
    run: async (args) => {
      const { values, positionals } = parse(args, {});
      const name = requirePositional(positionals, 0, 'policy name');
      await asOperator(values, (gateway, scope) => gateway.admin.deletePolicy(scope, name));
      process.stdout.write(`deleted ${name}\n`);
    },
  },
};
