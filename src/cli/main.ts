import { errorLine, EXIT_USAGE } from './errors.js';
import { main } from './program.js';

/** Ends the process with one line on stderr and exit code 2: never a stack trace. */
function fatal(line: string): never {
  try {
    process.stderr.write(`${line}\n`);
  } catch {
    /* stderr is gone too */
  }
  process.exit(EXIT_USAGE);
}

// Output that fails (the reader went away: EPIPE; a full disk: ENOSPC) ends the run. Streaming commands watch
// stdout themselves (src/cli/stop.ts) to still report what they can; this is for everything else.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (process.stdout.listenerCount('error') > 1) return;
  fatal(`teardown: stdout: ${e.code === 'EPIPE' ? 'the reader closed the pipe (EPIPE)' : e.message}`);
});
process.stderr.on('error', () => process.exit(EXIT_USAGE));
// A bug anywhere else (a timer, a stream callback): one line, exit 2.
const internal = (e: unknown): never => fatal(`${errorLine(e)} (an internal error: please report it with the capture if you can)`);
process.on('uncaughtException', internal);
process.on('unhandledRejection', internal);

process.exitCode = await main(process.argv);
