/**
 * A private temporary directory (mode 0700 in the OS temp dir, files 0600): the sorted runs of a spill, the view's
 * on-disk index. It is removed by remove(), and in any case when the process exits; a death by signal runs no
 * 'exit' handler, so whoever re-raises a signal removes its directories first (the UI closes its store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<string>();
let hooked = false;

export class TempDir {
  readonly path: string;

  constructor(prefix: string) {
    this.path = mkdtempSync(join(tmpdir(), prefix));
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
