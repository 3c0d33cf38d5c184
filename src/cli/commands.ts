import type { CommandGroup } from './cli-support.ts';
import { AUDIT_COMMANDS } from './commands/audit-commands.ts';
import { CACHE_COMMANDS } from './commands/cache-commands.ts';
import { CATALOG_COMMANDS } from './commands/catalog-commands.ts';
import { DATASET_COMMANDS } from './commands/dataset-commands.ts';
import { KEY_COMMANDS } from './commands/key-commands.ts';
import { TOP_LEVEL_COMMANDS } from './commands/query-commands.ts';
import { TOKEN_COMMANDS } from './commands/token-commands.ts';
import { POLICY_COMMANDS, USER_COMMANDS } from './commands/user-policy-commands.ts';

/** `veil <group> <command>`: each group in its own file under commands/. */
export const COMMANDS: Record<string, CommandGroup> = {
  token: TOKEN_COMMANDS,
  audit: AUDIT_COMMANDS,
  catalog: CATALOG_COMMANDS,
  dataset: DATASET_COMMANDS,
  user: USER_COMMANDS,
  policy: POLICY_COMMANDS,
  cache: CACHE_COMMANDS,
  keys: KEY_COMMANDS,
};

/** `veil <command>`. */
export const TOP_LEVEL: CommandGroup = TOP_LEVEL_COMMANDS;
