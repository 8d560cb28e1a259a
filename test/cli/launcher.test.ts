import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/teardown.js', import.meta.url));

/** What the analysis process (bin/teardown.js's child, started with the heap limit) sees as its malloc threshold. */
function thresholdSeen(env: Record<string, string>): string[] {
  const probe = `process.stderr.write('mmap-threshold=' + process.env.MALLOC_MMAP_THRESHOLD_ + ' ' + process.execArgv.some((a) => a.startsWith('--max-old-space-size')) + '\\n')`;
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.MALLOC_MMAP_THRESHOLD_;
  const r = spawnSync(process.execPath, [BIN, '--version'], {
    encoding: 'utf8', timeout: 60_000,
    env: { ...base, ...env, NODE_OPTIONS: `--import=data:text/javascript;base64,${Buffer.from(probe).toString('base64')}` },
  });
  // The launcher and its child both run the probe: keep the child's line (it has the heap limit).
  return r.stderr.split('\n').filter((l) => l.startsWith('mmap-threshold=') && l.endsWith(' true'));
}

test('the launcher starts the analysis with glibc\'s mmap threshold fixed at 128 KiB, or the user\'s own', () => {
  assert.deepEqual(thresholdSeen({}), ['mmap-threshold=131072 true']);
  assert.deepEqual(thresholdSeen({ MALLOC_MMAP_THRESHOLD_: '65536' }), ['mmap-threshold=65536 true']);
});
