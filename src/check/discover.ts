/**
 * Which captures `teardown check` looks at: files named on the command line (any name; an `x.expect.json` stands
 * for its capture), and under directories, recursively, every capture file (.pcap, .pcapng, .cap, .dmp, and the
 * same with .gz), skipping dot-directories and node_modules. An expectation file under a directory with no capture
 * next to it is reported: a fixture whose capture went missing must not pass by disappearing.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EXPECTATION_SUFFIX } from '../expect/format.js';
import { expectationPathFor, isCaptureName } from '../expect/load.js';

export interface CheckTarget {
  capture: string;
  expectation: string;
}

export interface DiscoverResult {
  targets: CheckTarget[];
  /** Arguments that do not exist, expectation files without a capture. */
  errors: { path: string; message: string }[];
}

const CAPTURE_EXTS = ['.pcap', '.pcapng', '.cap', '.dmp', '.pcap.gz', '.pcapng.gz', '.cap.gz', '.dmp.gz'];

async function exists(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function walk(dir: string, files: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!e.name.startsWith('.') && e.name !== 'node_modules') await walk(p, files);
    } else if (e.isFile()) {
      files.push(p);
    }
  }
}

/** The capture an expectation file belongs to, if one exists next to it. */
export async function captureForExpectation(expectation: string): Promise<string | null> {
  const stem = basename(expectation).slice(0, -EXPECTATION_SUFFIX.length);
  for (const ext of CAPTURE_EXTS) {
    const p = join(dirname(expectation), stem + ext);
    if (await exists(p)) return p;
  }
  return null;
}

export async function discover(args: readonly string[]): Promise<DiscoverResult> {
  const targets = new Map<string, CheckTarget>();
  const errors: DiscoverResult['errors'] = [];
  const add = (capture: string): void => {
    if (!targets.has(capture)) targets.set(capture, { capture, expectation: expectationPathFor(capture) });
  };
  for (const arg of args) {
    let st;
    try {
      st = await stat(arg);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      errors.push({ path: arg, message: code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${(e as Error).message}` });
      continue;
    }
    if (st.isDirectory()) {
      const files: string[] = [];
      try {
        await walk(arg, files);
      } catch (e) {
        errors.push({ path: arg, message: `cannot list: ${(e as Error).message}` });
        continue;
      }
      files.sort();
      const captures = files.filter((f) => isCaptureName(basename(f)));
      const claimed = new Set(captures.map(expectationPathFor));
      for (const c of captures) add(c);
      for (const f of files) {
        if (f.endsWith(EXPECTATION_SUFFIX) && !claimed.has(f)) {
          errors.push({ path: f, message: `expectation without a capture next to it (looked for ${CAPTURE_EXTS.map((x) => basename(f).slice(0, -EXPECTATION_SUFFIX.length) + x).slice(0, 3).join(', ')}…)` });
        }
      }
      if (captures.length === 0) errors.push({ path: arg, message: 'no captures (.pcap, .pcapng, .cap, .dmp, optionally .gz) in this directory' });
    } else if (arg.endsWith(EXPECTATION_SUFFIX)) {
      const c = await captureForExpectation(arg);
      if (c === null) errors.push({ path: arg, message: 'expectation without a capture next to it' });
      else targets.set(c, { capture: c, expectation: arg });
    } else {
      add(arg);
    }
  }
  return { targets: [...targets.values()], errors };
}
