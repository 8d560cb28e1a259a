import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const HIDE = join('test', 'results', 'hide-duckdb.mjs');

function cli(args: string[], hide: boolean) {
  return spawnSync(process.execPath, ['--import', 'tsx', ...(hide ? ['--import', `./${HIDE}`] : []), 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('without @duckdb/node-api: --out and report stop at once with one line saying how to install it; analyze alone works', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'teardown-noduck-'));
  try {
    const out = join(tmp, 'r');
    const a = cli(['analyze', 'fixtures/rst-linger0.pcap', '--out', out], true);
    assert.equal(a.status, 2, a.stderr);
    assert.equal(a.stderr.trimEnd().split('\n').length, 1, a.stderr);
    assert.match(a.stderr, /^teardown: --out .*npm install @duckdb\/node-api\n$/);
    assert.equal(existsSync(out), false, 'nothing written');
    const r = cli(['report', out], true);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    const plain = cli(['analyze', 'fixtures/rst-linger0.pcap', '--text'], true);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /rst-teardown/);
    // The same command with the package present writes the folder (the hook above is what hides it).
    assert.equal(cli(['analyze', 'fixtures/rst-linger0.pcap', '--out', out], false).status, 0);
    assert.equal(existsSync(join(out, 'run.json')), true);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
