import { CaptureError } from '../capture/types.js';

/** A usage or input problem the user can fix: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

/** One line for stderr, never a stack trace. */
export function errorLine(e: unknown): string {
  if (e instanceof CaptureError) return `teardown: ${e.oneLine()}`;
  if (e instanceof Error) return `teardown: ${e.message}`;
  return `teardown: ${String(e)}`;
}
