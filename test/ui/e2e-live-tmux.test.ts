/**
 * End to end: `teardown live -i lo` in a real terminal (tmux), inside a private network namespace whose loopback
 * carries only the test's own traffic (test/live/scenarios.ts). The live UI must show its header and a finding
 * made on the clock; q stops the capture: exit 0, the terminal restored, the -w file a valid pcap.
 * Runs as root only (CI); its own tmux server (-L) and namespace are removed in finally. Bounded to ~20 s.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_TMUX, NO_TMUX, tmuxServer } from '../helpers/tmux.js';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { MAIN, netnsUnavailable, nodeArgs, start } from '../live/netns.js';
import type { Running } from '../live/netns.js';

const skip = !HAVE_TMUX ? NO_TMUX : netnsUnavailable();

const SERVER = `teardown-liveui-test-${process.pid}`;
const SESSION = 'live';
const NS = `td-liveui-${process.pid}`;

const T = tmuxServer(SERVER, SESSION);
const { tmux, waitFor } = T;

// Bounds for conditions that normally hold within a second: generous, so a loaded machine cannot fail the test.
const LONG = 60_000;

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || r.error?.message}`);
}

after(() => T.kill());

test('teardown live in a terminal: live header, a stuck half-close announced by the clock, q stops cleanly with a valid -w file', { skip: skip ?? false, timeout: 300_000 }, async (t) => {
  const pcap = join(tmpdir(), `td-liveui-${process.pid}.pcap`);
  const screenFile = join(tmpdir(), `td-liveui-${process.pid}.screen.txt`);
  let scen: Running | null = null;
  let passed = false;
  ip('netns', 'add', NS);
  try {
    ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    // CI=0: ink draws nothing until exit when it believes it runs in CI (and teardown falls back to text).
    const argv = ['ip', 'netns', 'exec', NS, ...nodeArgs(MAIN, ['live', '-i', 'lo', '-f', 'tcp', '-w', pcap, '--half-close-timeout', '1'])];
    const cmd = `env CI=0 CONTINUOUS_INTEGRATION=0 ${argv.map((a) => `'${a}'`).join(' ')}; echo "EXITED=$?"; sleep 60`;
    tmux('new-session', '-d', '-s', SESSION, '-x', '110', '-y', '30', '-c', process.cwd(), cmd);

    let s = await waitFor('the live header', (x) => /^ live  lo  filter: tcp .*drops (n\/a|\d+)/m.test(x), LONG);
    assert.match(s, /● capturing/);

    // A server that never closes: the client's FIN, then silence; the clock (1 s timeout) declares it stuck.
    scen = start(['ip', 'netns', 'exec', NS, ...nodeArgs('test/live/scenarios.ts', ['stuck', 'abort'])], { stdin: 'pipe' });
    await scen.waitFor('stdout', /@@done/, LONG);
    s = await waitFor('the stuck half-close', (x) => x.includes('stuck-half-close') && /[1-9]\d* ended/.test(x), LONG);
    writeFileSync(screenFile, s);
    t.diagnostic(`screen saved to ${screenFile} (kept if the test fails)`);
    assert.match(s, /Findings\s+[1-9]\d* so far/);
    assert.match(s, /drops 0 /); // libpcap's counters: nothing lost

    tmux('send-keys', '-t', SESSION, 'q');
    s = await waitFor('the exit', (x) => x.includes('EXITED='), LONG);
    assert.match(s, /EXITED=0/);
    assert.ok(!s.includes('● capturing'), 'the alternate screen is gone');
    assert.match(s, /teardown: stopped \(q\) after \d+ packets/);
    assert.match(s, /stuck-half-close/, 'the final report is printed on the normal screen');

    // The -w file is complete: read back offline, the same stuck half-close.
    const { report, result } = await analyzeFile(pcap, { settings: { halfCloseTimeout: 1 } });
    assert.equal(result.error, null);
    assert.ok(report.capture.packets > 0);
    assert.ok(report.findings.some((f) => f.kind === 'stuck-half-close'), JSON.stringify(report.summary));
    passed = true;
  } finally {
    scen?.kill('SIGKILL');
    T.kill();
    spawnSync('ip', ['netns', 'delete', NS], { timeout: 5000 });
    // The saved screen stays only when the test failed (its diagnostic names it).
    for (const f of [pcap, `${pcap}.drops.json`, ...(passed ? [screenFile] : [])]) if (existsSync(f)) rmSync(f);
  }
});
