/**
 * A private temporary directory (mode 0700 in the OS temp dir, files 0600): the sorted runs of a spill, the view's
 * on-disk index. It is removed by remove(), and in any case when the process exits; a death by signal runs no
 * 'exit' handler, so whoever re-raises a signal removes its directories first (the UI closes its store). An analysis
 * thread's 'exit' handlers do not run when it is terminated: its directories are made inside one of the reading
 * thread's (useTempRoot()), removed with it.
 *
 * Every temporary file is written through writeTemp(): a full file system (ENOSPC, a quota: EDQUOT, a file size limit:
 * EFBIG) is the user's to fix, not a bug, and throws a TempDirError that says so and how.
 */
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<string>();
let hooked = false;
/** Where this thread makes its directories: the OS temp dir, or the directory useTempRoot() named. */
let root: string | null = null;

/** The errors of a file system without room for more: the temporary directory needs more space, or another place. */
const FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** A temporary file could not be written because its file system is full (or a quota or size limit was reached). */
export class TempDirError extends Error {
  override readonly name = 'TempDirError';
  constructor(readonly code: string) {
    // The bench capture (505 MB) peaked at 568 MiB of temporary files with --json and 56 MiB with --text (bench/README.md).
    super(`the temporary directory ${tmpdir()} is full (${code}): set TMPDIR to a directory with more free space `
      + '(--json needs about the capture\'s size there, --text about a tenth of it)');
  }
}

/** This thread's directories go inside `dir` (an analysis thread's: the reading thread removes it, and them). */
export function useTempRoot(dir: string): void {
  root = dir;
}

/**
 * Writes b[from .. from + len) to `fd` (at file offset `at`, or at its position when null). A full file system
 * throws a TempDirError; any other failure is thrown as it is.
 */
export function writeTemp(fd: number, b: Uint8Array, from: number, len: number, at: number | null = null): void {
  try {
    for (let o = 0; o < len;) o += writeSync(fd, b, from + o, len - o, at === null ? null : at + o);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && FULL.has(code)) throw new TempDirError(code);
    throw e;
  }
}

export class TempDir {
  readonly path: string;

  constructor(prefix: string) {
    try {
      this.path = mkdtempSync(join(root ?? tmpdir(), prefix));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw code !== undefined && FULL.has(code) ? new TempDirError(code) : e;
    }
    live.add(this.path);
    if (!hooked) { hooked = true; process.once('exit', removeAll); }
  }

  file(name: string): string {
    return join(this.path, name);
  }

  remove(): void {
    if (!live.delete(this.path)) return;
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Every directory still there, when the process exits. */
function removeAll(): void {
  for (const d of live) rmSync(d, { recursive: true, force: true });
  live.clear();
}

/** Directories not removed yet (tests check the cleanup). */
export function tempDirs(): string[] {
  return [...live];
}
