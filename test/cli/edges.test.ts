/**
 * The command line's edges: every error is one line that starts with `teardown:` and says what to do, numbers are
 * plain decimals, errors go to stderr, and stdout carries nothing when there is nothing to report.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';

const dir = mkdtempSync(join(tmpdir(), 'teardown-edges-'));
after(() => rmSync(dir, { recursive: true, force: true }));

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
    usage(['bogus'], "teardown: unknown command 'bogus' (commands: analyze, live, interfaces, check, extract, report)");
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

describe('analyze: input errors', () => {
  test('an empty file, /dev/null or a text file: one line on stderr, nothing on stdout, exit 2, in every output mode', () => {
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'GET / HTTP/1.1\r\nHost: example\r\n\r\n');
    for (const mode of ['--text', '--json', '--ndjson']) {
      usage(['analyze', '/dev/null', mode], 'teardown: /dev/null: the file is empty');
      usage(['analyze', empty, mode], `teardown: ${empty}: the file is empty`);
      usage(['analyze', text, mode], `teardown: ${text}: not a pcap or pcapng file (starts with 47 45 54 20) (at byte 0)`);
    }
  });

  test('damage after some packets: the report of what came before is still written, with the error on stderr and exit 2', () => {
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, readFileSync('fixtures/tw-reuse-lower-isn.pcap').subarray(0, 3000));
    for (const mode of ['--text', '--json', '--ndjson']) {
      const r = run(['analyze', cut, mode]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /^teardown: .*cut\.pcap: input ends inside record 20 .*\(at byte 2838\) — reporting the 19 packets before it\n$/);
      assert.match(r.out, mode === '--text' ? /19 packets .*\n {2}WARNING: input damaged/ : /"packets":\s?19/, mode);
    }
  });

  test('a gzip file whose trailer alone is damaged is read whole, with a note, and exits 0 as an undamaged one', () => {
    const gz = Buffer.from(gzipSync(readFileSync('fixtures/tw-reuse-lower-isn.pcap')));
    gz[gz.length - 8]! ^= 0x5a; // CRC32
    const p = join(dir, 'crc.pcap.gz');
    writeFileSync(p, gz);
    const whole = run(['analyze', 'fixtures/tw-reuse-lower-isn.pcap', '--json']);
    const r = run(['analyze', p, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const [a, b] = [whole, r].map((x) => JSON.parse(x.out).capture as { packets: number; error: string | null; warnings: string[] });
    assert.equal(b!.packets, a!.packets);
    assert.equal(b!.error, null);
    assert.match(b!.warnings.join('\n'), /gzip trailer is damaged/);
  });
});

describe('options that conflict or do not apply', () => {
  test('analyze: one output format; --ladders with --json/--ndjson only; --max-per-kind with the text report only', () => {
    const cap = 'fixtures/refused.pcap';
    usage(['analyze', cap, '--json', '--text'], "teardown: option '--text' cannot be used with option '--json' (teardown analyze --help)");
    usage(['analyze', cap, '--ndjson', '--text'], "teardown: option '--text' cannot be used with option '--ndjson' (teardown analyze --help)");
    usage(['analyze', cap, '--json', '--ndjson'], "teardown: option '--json' cannot be used with option '--ndjson' (teardown analyze --help)");
    usage(['analyze', cap, '--ladders', 'all', '--text'], 'teardown: --ladders only applies with --json or --ndjson');
    usage(['analyze', cap, '--ladders', 'findings'], 'teardown: --ladders only applies with --json or --ndjson');
    usage(['analyze', cap, '--max-per-kind', '3', '--json'], 'teardown: --max-per-kind only applies to the text report, not with --json');
    const all = run(['analyze', cap, '--ladders', 'all', '--ndjson']);
    assert.equal(all.code, 0, all.err);
    assert.match(all.out, /"type":"connection"/);
    const text = run(['analyze', cap, '--max-per-kind', '0']);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^teardown \S+ — fixtures\/refused\.pcap/);
  });

  test('live: --text or --ndjson; --ladders only for NDJSON; counts are whole decimals (checked before any capture starts)', () => {
    usage(['live', '-i', 'lo', '--text', '--ndjson'], "teardown: option '--ndjson' cannot be used with option '--text' (teardown live --help)");
    usage(['live', '-i', 'lo', '--text', '--ladders', 'all'], 'teardown: --ladders only applies to NDJSON output (--ndjson, or stdout not a terminal)');
    usage(['live', '-i', 'lo', '--count', '0x10'], "teardown: --count takes a whole number above 0, not '0x10'");
    usage(['live', '-i', 'lo', '--duration', ''], "teardown: --duration takes a number of seconds above 0 (like 60 or 0.5), not ''");
  });
});
