/**
 * The `teacherlm` command. Each subcommand lives in its own file under src/cli/ and
 * registers here; errors become one line on stderr, never a stack trace.
 */
import { TeacherlmError } from '../errors.js';
import { COMMANDS } from './commands.js';
import { exitAfter } from './exit-guard.js';

function usage(): string {
  const lines = ['Usage: teacherlm <command> [options]', '', 'Commands:'];
  for (const [name, cmd] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${cmd.summary}`);
  lines.push('', "Run 'teacherlm <command> --help' for a command's options.");
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`teacherlm: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return cmd.run(rest);
}

/** Everything a command opened is closed when it returns; a process still alive after this is forced out. */
const EXIT_GRACE_MS = 5_000;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    exitAfter(code, EXIT_GRACE_MS, (line) => console.error(line));
  },
  (err: unknown) => {
    if (err instanceof TeacherlmError) {
      console.error(`teacherlm: ${err.message}${err.hint ? ` (${err.hint})` : ''} [${err.code}]`);
      if (process.env.TEACHERLM_DEBUG) console.error(err);
    } else {
      console.error(`teacherlm: ${err instanceof Error ? err.message : String(err)}`);
      if (process.env.TEACHERLM_DEBUG) console.error(err);
    }
    process.exitCode = 1;
    exitAfter(1, EXIT_GRACE_MS, (line) => console.error(line));
  },
);
