/** SIGINT/SIGTERM (a second one exits at once) and a closed stdout stop a streaming run through one AbortSignal. */
/** What a streaming command holds while it runs: the stop signal, why it stopped, a stdout that survives EPIPE. */
export interface StopControls {
  readonly signal: AbortSignal;
  stop(why: string): void;
  readonly reason: string;
  out(s: string): void;
  release(): void;
}

export function stopControls(onForce?: () => void): StopControls {
  const ac = new AbortController();
  let reason = 'end of input';
  let broken = false;
  const stop = (why: string): void => {
    if (ac.signal.aborted) return;
    reason = why;
    ac.abort();
  };
  const onStdoutError = (e: NodeJS.ErrnoException): void => {
    broken = true;
    if (e.code !== 'EPIPE') process.stderr.write(`teardown: stdout: ${e.message}\n`);
    stop('stdout closed');
  };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      onForce?.();
      process.stderr.write(`\nteardown: ${sig} again, exiting without the final report\n`);
      process.exit(130);
    }
    stop(sig);
  };
  process.stdout.on('error', onStdoutError);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    stop,
    get reason(): string {
      return reason;
    },
    out: (s: string): void => {
      if (!broken) process.stdout.write(s);
    },
    release: (): void => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.stdout.removeListener('error', onStdoutError);
    },
  };
}
