import './threadpool.ts';
import { isVeilError } from '../errors/index.ts';
import { COMMANDS, TOP_LEVEL } from './commands.ts';
import { serveCommand } from './serve-command.ts';

const HELP = `veil: secure data access gateway

usage: npm run veil -- <command> [options]      (every command takes --home DIR, default $VEIL_HOME or ./.veil)

  serve [--demo] [--host 127.0.0.1] [--port 7070] [--pg-host 127.0.0.1] [--pg-port 7432 (0: off)] [--trino-port P (default off)] [--trino-host 127.0.0.1] [--rows 100000]
${Object.entries(COMMANDS)
  .flatMap(([, subs]) => Object.values(subs).map((s) => `  ${s.usage}`))
  .join('\n')}
${Object.values(TOP_LEVEL)
  .map((c) => `  ${c.usage}`)
  .join('\n')}
`;

async function main(argv: readonly string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return;
  }
  if (command === 'serve') return serveCommand(argv.slice(1));
  const top = TOP_LEVEL[command];
  if (top !== undefined) return top.run(argv.slice(1));
  const group = COMMANDS[command];
  const action = sub === undefined ? undefined : group?.[sub];
  if (group === undefined || action === undefined) {
    process.stderr.write(`unknown command: ${[command, sub].filter(Boolean).join(' ')}\n\n${HELP}`);
    process.exitCode = 2;
    return;
  }
  return action.run(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (isVeilError(error)) {
    process.stderr.write(`error ${error.code}: ${error.message}\n`);
  } else {
    process.stderr.write(`internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  }
  process.exitCode = 1;
});
