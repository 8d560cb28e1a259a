/**
 * End to end: `teardown analyze` in a real terminal (tmux) on a capture of 12,000 connections keeps its rows in a
 * temporary on-disk index, and removes it (and any spill) however it ends: q, SIGTERM, SIGINT. TMPDIR points at a
 * private directory, so whatever the process leaves there is seen.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAVE_TMUX, NO_TMUX, tmuxServer } from '../helpers/tmux.js';
import { writeBigCapture } from '../helpers/big-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'teardown-e2e-index-'));
const big = join(dir, 'big.pcap');
const ready = writeBigCapture(big, 400);

const SERVER = `teardown-index-test-${process.pid}`;
const T = tmuxServer(SERVER, 'ui');
after(() => { T.kill(); rmSync(dir, { recursive: true, force: true }); });

for (const end of ['q', 'SIGTERM', 'SIGINT'] as const) {
  test(`the index is written to TMPDIR while the view is open and removed on ${end}`, { skip: HAVE_TMUX ? false : NO_TMUX, timeout: 300_000 }, async () => {
    await ready;
    const tmp = join(dir, `tmp-${end}`);
    mkdirSync(tmp, { mode: 0o700 });
    const session = `ui-${end}`;
    // exec: the pane's process is node itself (its pid is the pane's).
    const cmd = `exec env TMPDIR='${tmp}' CI=0 CONTINUOUS_INTEGRATION=0 '${process.execPath}' --import tsx src/cli/main.ts analyze '${big}'`;
    T.tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', process.cwd(), cmd);
    T.tmux('set-option', '-t', session, 'remain-on-exit', 'on');
    const pane = () => T.tmux('capture-pane', '-p', '-t', session);
    const wait = async (what: string, ok: (s: string) => boolean) => {
      const until = Date.now() + 120_000;
      for (;;) {
        const s = pane();
        if (ok(s)) return s;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}:\n${s}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const s = await wait('the overview', (x) => x.includes('read in'));
    assert.match(s, /12,000 connections/);
    const made = readdirSync(tmp);
    assert.ok(made.some((d) => d.startsWith('teardown-view-')), `the index directory in TMPDIR: ${made.join(' ')}`);
    assert.ok(readdirSync(join(tmp, made.find((d) => d.startsWith('teardown-view-'))!)).includes('findings.jsonl'));
    const pid = Number(T.tmux('display-message', '-p', '-t', session, '#{pane_pid}').trim());
    if (end === 'q') T.keys('-t', session, 'q');
    else process.kill(pid, end);
    await wait('the end', () => T.tmux('display-message', '-p', '-t', session, '#{pane_dead}').trim() === '1');
    // (tsx, which runs the sources here, keeps its cache there too.)
    assert.deepEqual(readdirSync(tmp).filter((d) => d.startsWith('teardown-')), [], 'no index or spill left in TMPDIR');
    T.tmux('kill-session', '-t', session);
  });
}
