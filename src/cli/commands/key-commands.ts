import { HomeOperator } from '../../gateway/index.ts';
import { parse, printJson, str, type CommandGroup } from '../cli-support.ts';

/** `veil keys …`: the home's secret keys. Needs only the home's files: no engine. */
export const KEY_COMMANDS: CommandGroup = {
  rotate: {
    usage: 'keys rotate   replaces the masking key of tokenize and hmac: every token and hash changes (docs/policies.md)',
    run: async (args) => {
      const { values } = parse(args, {});
      const { fingerprint } = await HomeOperator.open(str(values, 'home')).rotateMaskingKey();
      printJson({
        rotated: 'masking',
        fingerprint,
        effect:
          'tokenize and hmac now give new values; running servers use the new key from their next query; columnar copies are rebuilt; tokens and hashes exported before no longer match new ones',
      });
    },
  },
};
