/**
 * End to end: `teardown report DIR...` in a real terminal (tmux) opens the interactive view over the merged
 * folders; q restores the terminal and prints a one-line summary. Its own tmux server (-L), killed at the end.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_TMUX, NO_TMUX, tmuxServer } from '../helpers/tmux.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/results/duckdb.js';
import { analyzeTo, reportOf } from '../results/util.js';
import { endpointText } from '../../src/model/endpoint.js';

const skip = HAVE_TMUX ? false : NO_TMUX;
const SERVER = `teardown-report-ui-test-${process.pid}`;
const SESSION = 'report';
const tmp = mkdtempSync(join(tmpdir(), 'teardown-report-ui-'));

const T = tmuxServer(SERVER, SESSION);
const { tmux, waitFor, keys } = T;

after(() => {
  T.kill();
  rmSync(tmp, { recursive: true, force: true });
});

test('teardown report in a terminal: the overview of the merged folders, a finding opened, its ladder, a ladder not kept, q restores the terminal', { skip, timeout: 300_000 }, async () => {
  const db = await openDb('test');
  const a = join(tmp, 'lb');
  const b = join(tmp, 'api');
  let merged;
  try {
    await analyzeTo(db, 'fixtures/tw-reuse-lower-isn.pcap', a, { label: 'lb-1' });
    await analyzeTo(db, 'fixtures/close-wait-stuck.pcap', b, { label: 'api-1' });
    merged = await reportOf(db, [a, b]);
  } finally {
    db.close();
  }
  // CI=0: ink renders nothing until exit when it believes it runs in CI (is-in-ci).
  const cmd = `env CI=0 CONTINUOUS_INTEGRATION=0 '${process.execPath}' --import tsx src/cli/main.ts report ${a} ${b}; echo "EXITED=$?"; sleep 60`;
  tmux('new-session', '-d', '-s', SESSION, '-x', '120', '-y', '40', '-c', process.cwd(), cmd);

  let s = await waitFor('the overview', (x) => x.includes('CLOSE_WAIT pile-ups'));
  assert.match(s, /^ teardown │ 1 Overview │ 2 Findings \d+ │.*merged from 2 result folders/m);
  assert.match(s, /2 captures +pcap · Ethernet/);
  assert.match(s, /2 labels: /);
  for (const [kind, n] of Object.entries(merged.summary.findings)) assert.match(s, new RegExp(`${kind} +${n} `));
  const server = merged.aggregates.servers.find((x) => x.halfClosed > 0)!;
  assert.ok(s.includes(endpointText(server.server)), s);

  // The time-wait-reuse finding: its connection and ladder, then p to the previous incarnation.
  const finding = merged.findings.find((f) => f.kind === 'time-wait-reuse')!;
  const conn = merged.connections.find((c) => c.id === finding.connection)!;
  keys('2');
  await waitFor('the findings list', (x) => x.includes('sort: time'));
  keys('/');
  keys('-l', 'time-wait');
  keys('Enter');
  await waitFor('the filtered list', (x) => x.includes('sort: time') && !x.includes('stuck-half-close  '));
  keys('Enter');
  s = await waitFor('the ladder', (x) => x.includes(`3 Connection ${conn.id}`) && x.includes('Ladder'));
  assert.ok(s.includes(`${endpointText(conn.client)} → ${endpointText(conn.server)}`), s);
  keys('p');
  s = await waitFor('the previous incarnation', (x) => x.includes(`3 Connection ${conn.previous}`));
  assert.match(s, /Not kept: the result folder holds packet ladders only/);

  keys('q');
  s = await waitFor('the exit', (x) => x.includes('EXITED='));
  assert.match(s, /EXITED=0/);
  assert.ok(!s.includes('1 Overview │'), 'the alternate screen is gone');
  assert.ok(s.includes(`teardown: 2 result folders, 2 captures: ${merged.summary.connections} connections`), s);
});
