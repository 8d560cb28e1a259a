import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inCi } from '../../src/cli/ci.js';

// ink decides with is-in-ci whether to draw: with CI set to '' it draws nothing until exit, so ours must agree.
test('CI (or CONTINUOUS_INTEGRATION) set to anything but 0 or false, the empty string included, is CI — as ink decides', () => {
  for (const v of ['true', '1', 'yes', 'github', '']) assert.equal(inCi({ CI: v }), true, `CI=${JSON.stringify(v)}`);
  for (const v of ['0', 'false']) assert.equal(inCi({ CI: v }), false, `CI=${JSON.stringify(v)}`);
  assert.equal(inCi({ CONTINUOUS_INTEGRATION: '' }), true);
  assert.equal(inCi({ CONTINUOUS_INTEGRATION: 'false' }), false);
  assert.equal(inCi({}), false);
});

test('ink itself agrees on every case above', async () => {
  const cases: Array<Record<string, string>> = [{ CI: 'true' }, { CI: '' }, { CI: '0' }, { CI: 'false' }, { CONTINUOUS_INTEGRATION: '' }, {}];
  const { spawnSync } = await import('node:child_process');
  for (const env of cases) {
    const clean: Record<string, string> = { PATH: process.env.PATH ?? '' };
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "import c from 'is-in-ci'; process.stdout.write(String(c))"],
      { env: { ...clean, ...env }, cwd: new URL('../..', import.meta.url), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, String(inCi(env)), JSON.stringify(env));
  }
});
