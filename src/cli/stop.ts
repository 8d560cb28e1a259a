/**
 * What a streaming command holds while it runs: the stop signal, why it stopped, a stdout that survives EPIPE, and
 * the backpressure gate for the loop (reading waits while stdout's buffer is full: a stalled reader cannot make
 * the output pile up in memory).
 */
export interface StopControls {
  readonly signal: AbortSignal;
  stop(why: string): void;
  readonly reason: string;
  /** The signal that stopped the run (SIGINT/SIGTERM), or null. */
  readonly interruptedBy: NodeJS.Signals | null;
  /** stdout failed (EPIPE, ENOSPC…): said on stderr once; nothing more is written to it. */
  readonly broken: boolean;
  /**
   * Writes to stdout. True when stdout is done with the bytes already (written through: a file, or a pipe that took
   * them all), so the caller may reuse them; false when it still holds some (or nothing was written).
   */
  out(s: string | Uint8Array): boolean;
  /** For the loop's `gate`: a promise while stdout's buffer is full, null otherwise. */
  gate(): Promise<void> | null;
  release(): void;
}

/** Exit code for a run ended by a signal: 128 + its number (SIGINT 130, SIGTERM 143). */
export function signalExitCode(sig: NodeJS.Signals): number {
  return sig === 'SIGTERM' ? 143 : sig === 'SIGHUP' ? 129 : 130;
}

/** SIGINT/SIGTERM (a second one exits at once) and a closed stdout stop a streaming run through one AbortSignal. */
export function stopControls(onForce?: () => void): StopControls {
  const ac = new AbortController();
  let reason = 'end of input';
  let broken = false;
  let interruptedBy: NodeJS.Signals | null = null;
  const stop = (why: string): void => {
    if (ac.signal.aborted) return;
    reason = why;
    ac.abort();
  };
  const onStdoutError = (e: NodeJS.ErrnoException): void => {
    if (broken) return;
    broken = true;
    process.stderr.write(`teardown: stdout: ${e.code === 'EPIPE' ? 'the reader closed the pipe (EPIPE)' : e.message}; stopped\n`);
    stop('stdout closed');
  };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      onForce?.();
      process.stderr.write(`\nteardown: ${sig} again, exiting without the final report\n`);
      process.exit(signalExitCode(sig));
    }
    interruptedBy ??= sig;
    stop(sig);
  };
  let drained: Promise<void> | null = null;
  process.stdout.on('error', onStdoutError);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    stop,
    get reason(): string {
      return reason;
    },
    get interruptedBy(): NodeJS.Signals | null {
      return interruptedBy;
    },
    get broken(): boolean {
      return broken;
    },
    out: (s: string | Uint8Array): boolean => {
      if (broken) return false;
      process.stdout.write(s);
      // Not a write callback: writing the report to a file, the loop never yields, so the callbacks would only run at
      // the end, and with one per write RSS grew with the report (~120 MiB over the bench capture's 550 MB).
      return process.stdout.writableLength === 0;
    },
    gate: (): Promise<void> | null => {
      if (broken || !process.stdout.writableNeedDrain) return null;
      drained ??= new Promise<void>((resolve) => {
        const out = process.stdout;
        // An error is handled by onStdoutError: it only ends the wait here.
        const done = (): void => {
          out.off('drain', done).off('close', done).off('error', done);
          drained = null;
          resolve();
        };
        out.on('drain', done).on('close', done).on('error', done);
      });
      return drained;
    },
    release: (): void => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.stdout.removeListener('error', onStdoutError);
    },
  };
}
