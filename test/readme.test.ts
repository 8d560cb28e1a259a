/**
 * The README is true as written: every output block is what its command prints now (scripts/readme.ts regenerates
 * them), the tool is invoked as `npx teardown` (what works in a fresh clone), every option the usage lines name
 * exists, and the way it gives for a plain `teardown` command works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputBlocks, README, ROOT, run } from '../scripts/readme.js';

const text = readFileSync(README, 'utf8');

/** Fenced blocks: language and body. */
function fenced(md: string): { lang: string; body: string; at: number }[] {
  return [...md.matchAll(/^( *)```([a-z]*)\n([\s\S]*?)^\1```$/gm)].map((m) => ({ lang: m[2]!, body: m[3]!, at: m.index }));
}

test('README: every output block is what its command prints now (npm run readme regenerates them)', () => {
  const blocks = outputBlocks(text);
  assert.ok(blocks.length >= 1, 'the README shows output');
  for (const b of blocks) {
    const now = run(b.command);
    assert.ok(now.length > 0, `${b.command} printed nothing`);
    assert.equal(b.shown, now, `README block for '${b.command}' differs from the program's output: run npm run readme`);
  }
});

test('README: every text block is a generated output block', () => {
  const marked = new Set(outputBlocks(text).map((b) => b.start));
  for (const f of fenced(text).filter((x) => x.lang === 'text')) {
    const bodyStart = text.indexOf('\n', f.at) + 1;
    assert.ok(marked.has(bodyStart), `the text block at offset ${f.at} has no '<!-- output: … -->' marker: ${f.body.slice(0, 60)}`);
  }
});

test('README: commands run the tool as `npx teardown` (a plain `teardown` only after the npm link that provides it)', () => {
  for (const f of fenced(text).filter((x) => x.lang === 'sh')) {
    if (f.body.includes('npm link')) continue;
    for (const line of f.body.split('\n')) {
      assert.doesNotMatch(line, /(^|[|;&]\s*)teardown\s/, `a bare teardown command (not found after npm ci): ${line.trim()}`);
    }
  }
});

test('README: every option in the usage lines exists in that command\'s --help', () => {
  const usage = fenced(text).find((f) => f.lang === 'sh' && f.body.includes('npx teardown analyze <capture'));
  assert.ok(usage, 'the usage block');
  let command = '';
  const seen: string[] = [];
  for (const line of usage.body.split('\n')) {
    command = /^npx teardown (\S+)/.exec(line)?.[1] ?? command;
    const help = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', command, '--help'], { cwd: ROOT, encoding: 'utf8' }).stdout;
    for (const opt of line.matchAll(/(?<=[[\s|])(-{1,2}[a-z][a-z-]*)/g)) {
      assert.ok(help.includes(opt[1]!), `${command} ${opt[1]} is in the README but not in teardown ${command} --help`);
      seen.push(opt[1]!);
    }
  }
  assert.ok(seen.length > 20, `options checked: ${seen.join(' ')}`);
});

test('README: npm link --ignore-scripts puts a working teardown on PATH', { timeout: 120_000 }, (t) => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) return t.skip('dist/ not built (npm ci builds it)');
  const prefix = mkdtempSync(join(tmpdir(), 'teardown-prefix-'));
  try {
    // The README's command, into a prefix of its own instead of the machine's global one.
    const env = { ...process.env, npm_config_prefix: prefix, npm_config_audit: 'false', npm_config_fund: 'false' };
    const link = spawnSync('npm', ['link', '--ignore-scripts'], { cwd: ROOT, env, encoding: 'utf8' });
    assert.equal(link.status, 0, link.stderr);
    assert.doesNotMatch(link.stderr, /install-scripts/, 'quiet');
    const bin = join(prefix, 'bin');
    const r = spawnSync('teardown', ['analyze', join(ROOT, 'fixtures/refused.pcap'), '--text'], {
      cwd: prefix, env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` }, encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^teardown \d+\.\d+\.\d+ — .*refused\.pcap \(pcap, Ethernet\)\n {2}2 packets \(2 TCP\), 1 connection, /);
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});
