import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inCi } from '../../src/cli/ci.js';

test('CI is a non-empty value other than 0 or false', () => {
  for (const v of ['true', '1', 'yes', 'github']) assert.equal(inCi({ CI: v }), true, `CI=${v}`);
  for (const v of ['', '0', 'false', 'FALSE', 'False']) assert.equal(inCi({ CI: v }), false, `CI=${JSON.stringify(v)}`);
  assert.equal(inCi({}), false);
});
