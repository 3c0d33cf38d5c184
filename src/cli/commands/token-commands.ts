import { readFileSync } from 'node:fs';
import { InvalidRequestError } from '../../errors/index.ts';
import { HomeOperator } from '../../gateway/index.ts';
import { parse, printJson, requirePositional, str, type CommandGroup } from '../cli-support.ts';

/** Tokens need only the control database: no engine, so they are instant. */
export const TOKEN_COMMANDS: CommandGroup = {
  issue: {
    usage: 'token issue --user NAME [--ttl SECONDS]   prints a signed token for NAME',
    run: async (args) => {
      const { values } = parse(args, { user: { type: 'string', short: 'u' }, ttl: { type: 'string' } });
      const user = str(values, 'user');
      if (user === undefined) throw new InvalidRequestError('--user is required');
      const ttl = str(values, 'ttl');
      process.stdout.write(`${await HomeOperator.open(str(values, 'home')).issueToken(user, ttl === undefined ? undefined : Number(ttl))}\n`);
    },
  },
  inspect: {
    usage: 'token inspect [TOKEN | -]   who a token makes its holder (OIDC, API or local), or why it is refused',
    run: async (args) => {
      const { values, positionals } = parse(args, {});
      const given = positionals[0];
      // From standard input by default, so the token stays out of shell history and ps.
      const token = (given === undefined || given === '-' ? readFileSync(0, 'utf8') : given).trim();
      if (token === '') throw new InvalidRequestError('pass the token as an argument or on standard input');
      printJson(await HomeOperator.open(str(values, 'home')).inspectToken(token));
    },
  },
  create: {
    usage: 'token create --user NAME --label TEXT [--expires-days N]   creates an API token (printed once; only its hash is kept)',
    run: async (args) => {
      const { values } = parse(args, { user: { type: 'string', short: 'u' }, label: { type: 'string' }, 'expires-days': { type: 'string' } });
      const user = str(values, 'user');
      const label = str(values, 'label');
      if (user === undefined || label === undefined) throw new InvalidRequestError('--user and --label are required');
      const days = str(values, 'expires-days');
      const { token, info } = await HomeOperator.open(str(values, 'home')).createApiToken(user, label, days === undefined ? undefined : Number(days));
      process.stderr.write(`API token ${info.id} for ${user}${info.expires_at === null ? '' : `, expires ${info.expires_at}`}. Store it now: it cannot be shown again.\n`);
      process.stdout.write(`${token}\n`);
    },
  },
  list: {
    usage: 'token list [--user NAME]   API tokens (never their secrets)',
    run: async (args) => {
      const { values } = parse(args, { user: { type: 'string', short: 'u' } });
      printJson(await HomeOperator.open(str(values, 'home')).listApiTokens(str(values, 'user')));
    },
  },
  revoke: {
    usage: 'token revoke ID   revokes an API token at once',
    run: async (args) => {
      const { values, positionals } = parse(args, {});
      printJson(await HomeOperator.open(str(values, 'home')).revokeApiToken(requirePositional(positionals, 0, 'token id')));
    },
  },
};
