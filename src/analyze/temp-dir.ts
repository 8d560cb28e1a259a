/**
 * A private temporary directory (mode 0700 in the OS temp dir, files 0600): the sorted runs of a spill, the view's
 * on-disk index. It is removed by remove(), and in any case when the process exits; a death by signal runs no
 * 'exit' handler, so whoever re-raises a signal removes its directories first (the UI closes its store). An analysis
 * thread's 'exit' handlers do not run when it is terminated: its directories are made inside one of the reading
 * thread's (useTempRoot()), removed with it.
 *
 * Every temporary directory and file is made and written here (TempDir, openTemp(), writeTemp()): a temporary directory
 * that is full (ENOSPC, a quota: EDQUOT, a file size limit: EFBIG), missing or not writable is the user's to fix, not
 * a bug, and throws a TempDirError that says so and how.
 */
import { mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PacketSource } from '../capture/types.js';

const live = new Set<string>();
let hooked = false;
/** Where this thread makes its directories: the OS temp dir, or the directory useTempRoot() named. */
let root: string | null = null;

/** What each failure the user can fix says about the temporary directory, and what to set TMPDIR to. */
// The bench capture (505 MB) peaked at 568 MiB of temporary files with --json and 56 MiB with --text (bench/README.md).
// (The --json spool holds the report's JSON: 1.3× the bench capture's size, 4.5× fixtures/port-reuse-narrow-range.pcap's,
// whose connections all have findings and so their ladders.)
const MORE_ROOM = 'a directory with more free space (--json needs about its report\'s size there, often more than the capture\'s; --text about a tenth of the capture\'s)';
const FIXES: Record<string, [string, string]> = {
  ENOSPC: ['is full', MORE_ROOM],
  EDQUOT: ['is over its quota', MORE_ROOM],
  EFBIG: ['does not take files this large', 'a directory on another file system'],
  ENOENT: ['does not exist', 'a directory that does'],
  ENOTDIR: ['is not a directory', 'a directory'],
  EACCES: ['cannot be written', 'a directory you can write'],
  EPERM: ['cannot be written', 'a directory you can write'],
  EROFS: ['is on a read-only file system', 'a directory you can write'],
};

/** The temporary directory is full, missing or cannot be written: the message says which and where TMPDIR should point. */
export class TempDirError extends Error {
  override readonly name = 'TempDirError';
  constructor(readonly code: string) {
    const [what, fix] = FIXES[code] ?? ['failed', 'another directory'];
    super(`the temporary directory ${tmpdir()} ${what} (${code}): set TMPDIR to ${fix}`);
  }
}

/** `e` as a TempDirError when it is one of the failures the user can fix (FIXES), else itself. */
function asTempDirError(e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code !== undefined && code in FIXES ? new TempDirError(code) : e;
}

/** This thread's directories go inside `dir` (an analysis thread's: the reading thread removes it, and them). */
export function useTempRoot(dir: string): void {
  root = dir;
}

/** Opens a file in a TempDir (mode 0600); a full file system (no inode left) throws a TempDirError. */
export function openTemp(path: string, flags: string): number {
  try {
    return openSync(path, flags, 0o600);
  } catch (e) {
    throw asTempDirError(e);
  }
}

/**
 * Writes b[from .. from + len) to `fd` (at file offset `at`, or at its position when null). A full file system
 * throws a TempDirError; any other failure is thrown as it is.
 */
export function writeTemp(fd: number, b: Uint8Array, from: number, len: number, at: number | null = null): void {
  try {
    for (let o = 0; o < len;) o += writeSync(fd, b, from + o, len - o, at === null ? null : at + o);
  } catch (e) {
    throw asTempDirError(e);
  }
}

export class TempDir {
  readonly path: string;

  constructor(prefix: string) {
    try {
      this.path = mkdtempSync(join(root ?? tmpdir(), prefix));
    } catch (e) {
      throw asTempDirError(e);
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

/**
 * A TempDir made before `source` is read. When it cannot be made, the source is closed unread (a run that stops
 * before its first byte; left open, the garbage collector would close it with a warning) and the error thrown.
 */
export async function tempDirBefore(source: PacketSource, prefix: string): Promise<TempDir> {
  try {
    return new TempDir(prefix);
  } catch (e) {
    await source.run(() => undefined, AbortSignal.abort());
    throw e;
  }
}
