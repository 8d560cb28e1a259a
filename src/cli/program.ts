import { Command, CommanderError } from 'commander';
import { ThreadStop } from '../analyze/parallel.js';
import { VERSION } from '../model/version.js';
import { analyzeCommand } from './commands/analyze.js';
import { checkCommand } from './commands/check.js';
import { extractCommand } from './commands/extract.js';
import { interfacesCommand } from './commands/interfaces.js';
import { liveCommand } from './commands/live.js';
import { reportCommand } from './commands/report.js';
import { errorLine, EXIT_USAGE, UsageError } from './errors.js';

/** The teardown command line. Each command lives in ./commands/; errors become one line and exit code 2. */
export function program(): Command {
  const p = new Command('teardown')
    .description('Rebuild TCP connection state from packet captures and explain how connections were torn down')
    .version(VERSION)
    .exitOverride();
  p.addCommand(analyzeCommand());
  p.addCommand(liveCommand());
  p.addCommand(interfacesCommand());
  p.addCommand(checkCommand());
  p.addCommand(extractCommand());
  p.addCommand(reportCommand());
  for (const c of [p, ...p.commands]) c.exitOverride().configureOutput({ outputError: (str, write) => write(`${parserErrorLine(str, c, p)}\n`) });
  return p;
}

/**
 * commander's error text (`error: unknown command 'analyz'\n(Did you mean analyze?)\n`) as the one line every
 * teardown error is: `teardown: unknown command 'analyz' — did you mean analyze?`, with where to look next.
 */
export function parserErrorLine(text: string, cmd: Command, root: Command): string {
  const lines = text.trim().replace(/^error: /, '').split('\n');
  const suggestion = lines.map((l) => /^\(Did you mean (.+)\?\)$/.exec(l)?.[1]).find((x) => x !== undefined);
  const message = lines.filter((l) => !/^\(Did you mean /.test(l)).join(' ').replace(/\.$/, '');
  const name = cmd === root ? 'teardown' : `teardown ${cmd.name()}`;
  const next = suggestion !== undefined
    ? ` — did you mean ${suggestion}?`
    : /^unknown command/.test(message)
      ? ` (commands: ${root.commands.map((c) => c.name()).filter((n) => n !== 'help').join(', ')})`
      : ` (${name} --help)`;
  return `teardown: ${message}${next}`;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; every other commander error is a usage error (already printed by commander).
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    // A thread that stopped on a frame it could not take or near its heap limit, or a temporary directory that is full or missing, is not
    // a bug: its line says what to do.
    if (e instanceof UsageError || (e instanceof ThreadStop && e.why !== 'internal') || (e instanceof Error && (e.name === 'CaptureError' || e.name === 'ResultsError' || e.name === 'TempDirError'))) {
      process.stderr.write(errorLine(e) + '\n');
      return EXIT_USAGE;
    }
    process.stderr.write(`${errorLine(e)} (an internal error: please report it with the capture if you can)\n`);
    return EXIT_USAGE;
  }
}
