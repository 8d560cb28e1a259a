/**
 * The report invariants (test/fuzz/invariants.ts) on every fixture and on tcpdump's test captures when they are
 * beside the repository, with the default bound and with a tiny one (eviction everywhere); the CLI's exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { checkReport, schemaValidator } from './invariants.js';
import { tcpdumpCorpus } from './run.js';
import { analyzeBytes, cutOf } from './targets/common.js';
import { jsonChunks } from '../../src/report/json.js';

const ROOT = join(import.meta.dirname, '..', '..');
const fixtures = readdirSync(join(ROOT, 'fixtures')).filter((n) => /\.pcap(ng)?$/.test(n)).sort().map((n) => join(ROOT, 'fixtures', n));
const tmp = mkdtempSync(join(tmpdir(), 'teardown-inv-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('report invariants', () => {
  test('every fixture: schema-valid JSON, ordered frames, evidence in the capture, counts that add up (default and tiny bound)', () => {
    assert.ok(fixtures.length >= 20);
    for (const f of fixtures) {
      const data = readFileSync(f);
      for (const bound of [undefined, 1, 3]) {
        try { analyzeBytes(data, { cut: cutOf(data), maxConnections: bound }); } catch (e) { throw new Error(`${f} (bound ${bound}): ${(e as Error).message}`); }
      }
    }
  });

  test('every fixture through the file reader, gzip-compressed too', async () => {
    for (const f of fixtures.slice(0, 8)) {
      const gz = join(tmp, 'x.pcap.gz');
      writeFileSync(gz, gzipSync(readFileSync(f)));
      const plain = (await analyzeFile(f)).report;
      const packed = (await analyzeFile(gz)).report;
      checkReport(plain);
      checkReport(packed);
      assert.equal(packed.findings.length, plain.findings.length, f);
    }
  });

  const corpus = tcpdumpCorpus();
  test("tcpdump's test captures (830 files of every link type, including its reproducers)", { skip: corpus === null ? 'no ../shared/corpus/tcpdump-tests beside the repository' : false }, () => {
    let n = 0;
    for (const name of readdirSync(corpus!).sort()) {
      const p = join(corpus!, name);
      if (!statSync(p).isFile() || statSync(p).size > 2 * 1024 * 1024) continue;
      const data = readFileSync(p);
      if (data[0] === 0x1f && data[1] === 0x8b) continue;
      try { analyzeBytes(data, { cut: cutOf(data), maxConnections: 4 }); } catch (e) { throw new Error(`${name}: ${(e as Error).message}`); }
      n++;
    }
    assert.ok(n > 500, `${n} captures`);
  });

  test('the schema rejects what the documentation does not allow', () => {
    const v = schemaValidator();
    const fixture = fixtures.find((f) => f.endsWith('rst-linger0.pcap')) ?? fixtures[0]!;
    const r = JSON.parse([...jsonChunks(analyzeBytes(readFileSync(fixture)), { ladders: 'all' })].join(''));
    assert.equal(v(r), true, JSON.stringify(v.errors));
    assert.equal(v({ ...r, extra: 1 }), false);
    const c = r.connections[0];
    assert.equal(v({ ...r, connections: [{ ...c, firstFrame: 0 }] }), false);
    assert.equal(v({ ...r, connections: [{ ...c, teardown: 'other' }] }), false);
    assert.equal(v({ ...r, summary: { ...r.summary, evicted: { ...r.summary.evicted, total: -1 } } }), false);
  });
});

describe('CLI exit codes are 0, 1 or 2, with one line on stderr for bad input', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', cwd: ROOT });
  test('good, findings with --fail-on, empty, garbage, truncated', () => {
    const withFindings = fixtures.find((f) => f.endsWith('close-wait-stuck.pcap'))!;
    const ok = cli('analyze', withFindings, '--json');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(schemaValidator()(JSON.parse(ok.stdout)), true);
    assert.equal(cli('analyze', withFindings, '--text', '--fail-on', 'warn').status, 1);
    const empty = join(tmp, 'empty.pcap');
    writeFileSync(empty, '');
    const garbage = join(tmp, 'garbage.pcap');
    writeFileSync(garbage, Buffer.from('this is not a capture file at all'));
    const cut = join(tmp, 'cut.pcap');
    const whole = readFileSync(withFindings);
    writeFileSync(cut, whole.subarray(0, whole.length - 7));
    for (const [file, readSome] of [[empty, false], [garbage, false], [cut, true]] as const) {
      const r = cli('analyze', file, '--json');
      assert.equal(r.status, 2, `${file}: ${r.stderr}`);
      assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      if (readSome) assert.equal(schemaValidator()(JSON.parse(r.stdout)), true);
      else assert.equal(r.stdout, '');
    }
  });
});
