import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createNetns, exitWithin, MAIN, ndjson, netnsUnavailable, nodeArgs, start } from '../live/netns.js';

const skip = netnsUnavailable();

test('live --out: the capture stopped by SIGTERM leaves a result folder that report reads back', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const ns = createNetns();
  const tmp = mkdtempSync(join(tmpdir(), 'teardown-live-out-'));
  const out = join(tmp, 'live');
  try {
    const live = start(ns.exec(nodeArgs(MAIN, ['live', '-i', 'lo', '--ndjson', '--out', out, '--label', 'probe'])));
    await live.waitFor('stderr', /capturing on lo/, 20_000);
    const played = start(ns.exec(nodeArgs('test/live/scenarios.ts', ['abort'])), { stdin: 'pipe' });
    try {
      await played.waitFor('stdout', /@@done/, 20_000);
      await new Promise((r) => setTimeout(r, 200));
      live.kill('SIGTERM');
      assert.equal(await exitWithin(live, 20_000), 0, live.stderr);
    } finally {
      played.kill('SIGKILL');
      live.kill('SIGKILL');
    }
    assert.match(live.stderr, new RegExp(`wrote ${out}: 1 connections, 1 findings`));
    const summary = ndjson(live.stdout).at(-1)!;
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { label: string; capture: { format: string; packets: number }; counts: { connections: number } };
    assert.equal(run.label, 'probe');
    assert.equal(run.capture.format, 'live');
    assert.equal(run.capture.packets, summary.capture.packets);
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'report', out, '--sql', 'SELECT label, teardown, findings FROM connections'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'label\tteardown\tfindings\nprobe\trst\t["rst-teardown"]\n');
  } finally {
    ns.delete();
    rmSync(tmp, { recursive: true, force: true });
  }
});
