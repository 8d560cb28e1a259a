/**
 * The command line's edges: every error is one line that starts with `teardown:` and says what to do, numbers are
 * plain decimals, errors go to stderr, and stdout carries nothing when there is nothing to report.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

function run(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A usage error: exit 2, nothing on stdout, exactly this one line on stderr. */
function usage(args: string[], line: string | RegExp) {
  const r = run(args);
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
  assert.equal(r.out, '', `${args.join(' ')}: nothing on stdout`);
  assert.equal(r.err.split('\n').length, 2, `${args.join(' ')}: one line: ${JSON.stringify(r.err)}`);
  if (typeof line === 'string') assert.equal(r.err, `${line}\n`);
  else assert.match(r.err, line);
}

describe('argument parser errors', () => {
  test('start with teardown: and fit on one line, with a suggestion or where to look', () => {
    usage(['analyz', 'x.pcap'], "teardown: unknown command 'analyz' — did you mean analyze?");
    usage(['bogus'], "teardown: unknown command 'bogus' (commands: analyze, live, interfaces, check, extract)");
    usage(['analyze', 'x.pcap', '--jsn'], "teardown: unknown option '--jsn' — did you mean --json?");
    usage(['analyze', 'x.pcap', '--bogus'], "teardown: unknown option '--bogus' (teardown analyze --help)");
    usage(['analyze'], "teardown: missing required argument 'capture' (teardown analyze --help)");
    usage(['analyze', 'x.pcap', '--ladders', 'nope'], /^teardown: option '--ladders <which>' argument 'nope' is invalid\. Allowed choices are all, findings \(teardown analyze --help\)\n$/);
    usage(['check', 'x.pcap', '--reporter', 'tap'], /^teardown: option '--reporter <format>' argument 'tap' is invalid\. .*\(teardown check --help\)\n$/);
  });
});

describe('numbers are plain decimals', () => {
  test('empty text, hex and exponents are refused; 60, 0.5 and 2s are seconds', () => {
    usage(['analyze', 'fixtures/refused.pcap', '--text', '--half-close-timeout', ''], "teardown: --half-close-timeout takes a number of seconds (like 60 or 0.5), not ''");
    usage(['analyze', 'fixtures/refused.pcap', '--text', '--time-wait', ''], "teardown: --time-wait takes seconds (like 60) or a profile (linux, freebsd, macos, windows, rfc, bsd), not ''");
    usage(['analyze', 'fixtures/refused.pcap', '--text', '--time-wait', '0x10'], /not '0x10'\n$/);
    usage(['analyze', 'fixtures/refused.pcap', '--text', '--half-close-timeout', '1e3'], /not '1e3'\n$/);
    usage(['analyze', 'fixtures/refused.pcap', '--text', '--half-close-timeout', '-5'], /not '-5'\n$/);
    usage(['analyze', 'fixtures/refused.pcap', '--text', '--max-per-kind', ''], "teardown: --max-per-kind takes a whole number, not ''");
    usage(['analyze', 'fixtures/refused.pcap', '--text', '--max-per-kind', '0x10'], "teardown: --max-per-kind takes a whole number, not '0x10'");
    usage(['extract', 'fixtures/refused.pcap', '-c', 'c1', '-w', '/nonexistent/x.pcap', '--link-type', ' 1'], /^teardown: --link-type takes a LINKTYPE number .*, not ' 1'\n$/);
    const ok = run(['analyze', 'fixtures/refused.pcap', '--json', '--half-close-timeout', '2s', '--time-wait', '0.5']);
    assert.equal(ok.code, 0, ok.err);
    const s = JSON.parse(ok.out).settings;
    assert.deepEqual([s.halfCloseTimeout, s.timeWait, s.timeWaitProfile], [2, 0.5, 'custom']);
  });
});

describe('check', () => {
  test('a path that does not exist: its error on stderr, stdout empty, exit 2', () => {
    usage(['check', '/nonexistent'], 'teardown: /nonexistent: no such file or directory');
  });

  test('beside captures that pass, the error is on stderr and in the report', () => {
    const r = run(['check', 'fixtures/refused.pcap', '/nonexistent']);
    assert.equal(r.code, 2);
    assert.equal(r.err, 'teardown: /nonexistent: no such file or directory\n');
    assert.match(r.out, /^PASS fixtures\/refused\.pcap .*\nERROR \/nonexistent: no such file or directory\n2 captures: 1 passed, 0 failed, 1 error\n$/);
  });

  test('options that do not apply are usage errors', () => {
    usage(['check', 'fixtures/refused.pcap', '--force'], 'teardown: --force only applies with --update');
    usage(['check', 'fixtures/refused.pcap', '--update', '--reporter', 'junit'], 'teardown: --update writes expectation files and prints what it did: --reporter applies only when checking');
    usage(['check', 'fixtures/refused.pcap', '--update', '-v', '-o', 'x'], 'teardown: --update writes expectation files and prints what it did: --output, --verbose apply only when checking');
  });
});
