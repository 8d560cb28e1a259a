import type { SourceResult } from '../capture/types.js';
import type { Report, Severity } from '../model/report.js';
import { atLeast } from '../model/severity.js';

const SEVERITIES: readonly Severity[] = ['info', 'warn', 'error'];
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from './errors.js';
import { signalExitCode, type StopControls } from './stop.js';

/**
 * Exit code for a finished analysis: 2 when the input was damaged or unreadable (the report of what came before the
 * damage is still written), else 1 when --fail-on matched.
 */
export function exitCodeFor(report: Report, failOn: Severity | undefined): number {
  if (report.capture.error !== null) return EXIT_USAGE;
  // From the summary's counts: a streamed report does not list its findings.
  if (failOn !== undefined && SEVERITIES.some((v) => report.summary.severity[v] > 0 && atLeast(v, failOn))) return EXIT_FINDINGS;
  return EXIT_OK;
}

/**
 * After a streaming command wrote its report: the one line on stderr that says how the run ended, when it did not
 * simply end, and the exit code. Interrupted: 130 (SIGINT) or 143 (SIGTERM). Out of memory, a failure of the
 * analysis, or stdout failing: 2. Damaged input: 2 when nothing was read. Otherwise --fail-on decides.
 */
export function outcome(report: Report, result: SourceResult, io: StopControls, failOn: Severity | undefined): number {
  const n = report.capture.packets;
  if (io.interruptedBy !== null) {
    process.stderr.write(report.capture.interrupted
      ? `teardown: interrupted by ${io.interruptedBy} after ${n} packets: the report covers what was read\n`
      : `teardown: ${io.interruptedBy} while writing the report of all ${n} packets\n`);
    return signalExitCode(io.interruptedBy);
  }
  if (result.error !== null) {
    process.stderr.write(`teardown: ${result.error.oneLine()}${n ? ` — reporting the ${n} packets before it` : ''}\n`);
    return EXIT_USAGE;
  }
  if (io.broken) return EXIT_USAGE;
  return exitCodeFor(report, failOn);
}

/**
 * Exits once stdout has taken everything written to it. After an interrupt a read may still be pending on a pipe
 * or FIFO whose writer is idle, and it would keep the process alive.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  await new Promise<void>((resolve) => {
    if (process.stdout.writableLength === 0 || process.stdout.destroyed) resolve();
    else process.stdout.write('', () => resolve());
  });
  process.exit(code);
}
