/**
 * End to end: the real CLI in a real terminal (tmux), driven by keys, asserting on what a person would see.
 * Runs on its own tmux server (-L) that is killed at the end, bounded in time.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_TMUX, NO_TMUX, tmuxServer } from '../helpers/tmux.js';
import { fixture, reportOf } from './helpers.js';
import { endpointText } from '../../src/model/endpoint.js';

const CW = fixture('close-wait-stuck.pcap');
const skip = !HAVE_TMUX ? NO_TMUX : CW.skip;

const SERVER = `teardown-ui-test-${process.pid}`;
const SESSION = 'ui';

const T = tmuxServer(SERVER, SESSION);
const { tmux, waitFor, keys } = T;

after(() => T.kill());

test('teardown analyze in a terminal: overview counts, a finding opened, its ladder, resize, q restores the terminal', { skip, timeout: 300_000 }, async () => {
  const report = await reportOf(CW.path);
  const finding = report.findings[0]!;
  const conn = report.connections.find((c) => c.id === finding.connection)!;
  // CI=0: ink renders nothing until exit when it believes it runs in CI (is-in-ci).
  const cmd = `env CI=0 CONTINUOUS_INTEGRATION=0 '${process.execPath}' --import tsx src/cli/main.ts analyze ${CW.path}; echo "EXITED=$?"; sleep 60`;
  tmux('new-session', '-d', '-s', SESSION, '-x', '120', '-y', '40', '-c', process.cwd(), cmd);

  // Overview: the capture and the count per finding kind.
  let s = await waitFor('the overview', (x) => x.includes('CLOSE_WAIT pile-ups') && x.includes('read in'));
  assert.match(s, /^ teardown │ 1 Overview │ 2 Findings 1 │/m);
  assert.ok(s.includes(`${report.capture.packets} packets`), s);
  for (const [kind, n] of Object.entries(report.summary.findings)) assert.match(s, new RegExp(`${kind} +${n} `));

  // 3 before any connection is opened: the footer says how to open one.
  keys('3');
  s = await waitFor('the hint for 3', (x) => x.includes('no connection opened yet: open one from the findings list (2, then Enter)'));
  assert.ok(s.includes('CLOSE_WAIT pile-ups'), 'still on the overview');

  // Enter: the list of that kind, the finding selected.
  keys('Enter');
  s = await waitFor('the findings list', (x) => x.includes('sort: time'));
  assert.ok(s.includes(`${endpointText(conn.client)} → ${endpointText(conn.server)}`), s);

  // Enter: the connection, its verdict and ladder.
  keys('Enter');
  s = await waitFor('the ladder', (x) => x.includes('Ladder'));
  assert.ok(s.includes(`3 Connection ${conn.id}`), s);
  assert.ok(s.includes(finding.kind), s);
  const arrows = s.split('\n').filter((l) => /│[─◀].*[─▶]│/.test(l));
  assert.equal(arrows.length, conn.ladder.length, s);
  const ev = new Set(finding.evidence.map((p) => p.frame));
  for (const [i, p] of conn.ladder.entries()) {
    assert.ok(arrows[i]!.includes(p.flags) && arrows[i]!.includes(p.states.server), arrows[i]);
    assert.equal(arrows[i]!.startsWith('▶'), ev.has(p.frame), arrows[i]);
  }

  // Resize down to 80×24: the frame is redrawn to fit.
  tmux('resize-window', '-t', SESSION, '-x', '80', '-y', '24');
  s = await waitFor('the 80×24 redraw', (x) => /scroll \(1–\d+ of \d+\)/.test(x));
  const lines = s.split('\n');
  assert.match(lines[0]!, /^ teardown │/);
  assert.match(lines[22]!, /p\/n incarnation/, 'the footer sits on the 23rd row');

  // q: the UI ends, the normal screen comes back with a one-line summary, exit status 0.
  keys('q');
  s = await waitFor('the exit', (x) => x.includes('EXITED='));
  assert.match(s, /EXITED=0/);
  assert.ok(!s.includes('1 Overview │'), 'the alternate screen is gone');
  assert.ok(s.includes(`teardown: ${CW.path}: ${report.capture.packets} packets`), s);
});
