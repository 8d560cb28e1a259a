/**
 * End to end: the interactive view (`teardown analyze FILE` on a terminal) with a TMPDIR that does not exist. It
 * must leave the alternate screen, print its one line on the normal screen and exit 2; it used to print the line
 * and then hang (its progress clock, started before the view's directory was made, kept the process alive).
 *
 * The terminal is a pty from util-linux's `script`, whose output is the bytes the program wrote, in order. (A tmux
 * pane is not used here: replaying the very same bytes with `cat` into a fresh tmux pane with remain-on-exit, the
 * line after the alternate screen was missing from the pane in 6 of 8 runs, so a pane's content cannot tell.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LEAVE_ALT_SCREEN, ENTER_ALT_SCREEN } from '../../src/ui/screen.js';

const HAVE_SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'teardown-pty-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a TMPDIR that does not exist: the view leaves the alternate screen, prints one line, exits 2 (it hung)', { skip: HAVE_SCRIPT ? false : 'util-linux script is not installed', timeout: 120_000 }, () => {
  const missing = join(dir, 'no-such-dir');
  // CI=0: ink and teardown would take the terminal for a CI log and print the text report instead. tsx's cache is off
  // (it would use TMPDIR too).
  const cmd = `env TMPDIR='${missing}' TSX_DISABLE_CACHE=1 CI=0 CONTINUOUS_INTEGRATION=0 '${process.execPath}' --import tsx src/cli/main.ts analyze fixtures/rst-linger0.pcap`;
  // -e: script exits with the program's status; its output file is not needed (stdout has the bytes).
  const r = spawnSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { encoding: 'utf8', timeout: 90_000, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(r.error, undefined, `the view did not end within 90 s (it hung):\n${r.stdout.slice(-2000)}`);
  assert.equal(r.status, 2, r.stdout.slice(-2000));
  const out = r.stdout;
  assert.ok(out.includes(ENTER_ALT_SCREEN), 'the view opened');
  const left = out.lastIndexOf(LEAVE_ALT_SCREEN);
  assert.ok(left > out.indexOf(ENTER_ALT_SCREEN), 'and left the alternate screen');
  // After it, the one line and nothing but the cursor shown again.
  const rest = out.slice(left + LEAVE_ALT_SCREEN.length).replaceAll('\x1b[?25h', '').replace(/\r?\n$/, '');
  assert.equal(rest, `teardown: the temporary directory ${missing} does not exist (ENOENT): set TMPDIR to a directory that does`);
});
