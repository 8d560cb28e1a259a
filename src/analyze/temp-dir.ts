/**
 * A private temporary directory for the view's on-disk index (mode 0700 in the OS temp dir, files 0600). It is
 * removed by remove(), and in any case when the process exits; a signal that ends the process must call
 * removeAllIndexDirs() first (a death by signal runs no 'exit' handler): the UI's signal handler does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<string>();
let hooked = false;

export class TempDir {
  readonly path: string;

  constructor(prefix = 'teardown-view-') {
    this.path = mkdtempSync(join(tmpdir(), prefix));
    live.add(this.path);
    if (!hooked) { hooked = true; process.once('exit', removeAllIndexDirs); }
  }

  file(name: string): string {
    return join(this.path, name);
  }

  remove(): void {
    if (!live.delete(this.path)) return;
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Every index directory still there (process exit, or a signal about to end the process). */
export function removeAllIndexDirs(): void {
  for (const d of live) rmSync(d, { recursive: true, force: true });
  live.clear();
}

/** Directories not removed yet (tests check the cleanup). */
export function indexDirs(): string[] {
  return [...live];
}
