import { Command, CommanderError } from 'commander';
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
    .showHelpAfterError('(run teardown --help for usage)')
    .exitOverride();
  p.addCommand(analyzeCommand());
  p.addCommand(liveCommand());
  p.addCommand(interfacesCommand());
  p.addCommand(checkCommand());
  p.addCommand(extractCommand());
  p.addCommand(reportCommand());
  for (const c of p.commands) c.exitOverride();
  return p;
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
    if (e instanceof UsageError || (e instanceof Error && (e.name === 'CaptureError' || e.name === 'ResultsError'))) {
      process.stderr.write(errorLine(e) + '\n');
      return EXIT_USAGE;
    }
    process.stderr.write(`${errorLine(e)} (an internal error: please report it with the capture if you can)\n`);
    return EXIT_USAGE;
  }
}
