import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, merged, ROOT, tmp } from '../check/util.js';
import { parseXml } from '../check/xml.js';

describe('teardown extract (command line): from a big capture to a fixture with a passing, then failing, check', { concurrency: true }, () => {
  it('extract --finding --anonymize → check --update → check passes → edit → check fails with a diff', async () => {
    const dir = await tmp('teardown-walk-');
    const big = join(dir, 'big.pcap');
    await merged(big, ['fin-client-first.pcap', 'tw-reuse-lower-isn.pcap', 'rst-linger0.pcap', 'lost-final-ack-captured.pcap']);
    const fixturePath = join(dir, 'fixtures', 'tw-reuse.pcap');

    const ex = await cli(['extract', big, '--finding', 'time-wait-reuse', '--anonymize', '-w', fixturePath]);
    assert.equal(ex.code, 2, 'the output directory does not exist yet');
    assert.match(ex.stderr, /^teardown: cannot write .*tw-reuse\.pcap: no such directory/);
    await mkdir(join(dir, 'fixtures'));
    const ok = await cli(['extract', big, '--finding', 'time-wait-reuse', '--anonymize', '-w', fixturePath]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^wrote .*tw-reuse\.pcap: \d+ frames of 2 connections \(link type 1 \(Ethernet\), (µs|ns) timestamps\)$/m);
    assert.match(ok.stdout, /\(added: time-wait-reuse on c\d+ is judged against it\)/);
    assert.match(ok.stdout, /anonymized: 127\.0\.0\.1 → 10\.0\.0\.1; ports .*; payload zeroed/);
    assert.match(ok.stdout, /^\s+\+ end-of-capture marker/m);
    assert.match(ok.stdout, /^verified: analyzing .* gives the same verdicts for these 2 connections$/m);
    assert.equal(ok.stderr, '');

    const upd = await cli(['check', '--update', join(dir, 'fixtures')]);
    assert.equal(upd.code, 0, upd.stderr);
    assert.match(upd.stdout, /^created .*tw-reuse\.expect\.json \(2 connections, 1 finding\)$/m);
    const pass = await cli(['check', join(dir, 'fixtures'), '--reporter', 'junit', '-o', join(dir, 'junit.xml')]);
    assert.equal(pass.code, 0, pass.stdout);
    assert.match(pass.stdout, /^PASS .*tw-reuse\.pcap/);
    assert.equal(parseXml(await readFile(join(dir, 'junit.xml'), 'utf8')).attrs.failures, '0');

    const expPath = join(dir, 'fixtures', 'tw-reuse.expect.json');
    const text = await readFile(expPath, 'utf8');
    assert.match(text, /"isn": "lower"/);
    assert.match(text, /"client": "10\.0\.0\.1:\d+"/, 'the expectation names the anonymized endpoints');
    await writeFile(expPath, text.replace('"isn": "lower"', '"isn": "higher"'));
    const fail = await cli(['check', join(dir, 'fixtures')]);
    assert.equal(fail.code, 1);
    assert.match(fail.stdout, /^FAIL .*tw-reuse\.pcap \(.*: 1 of 4 checks failed\)$/m);
    assert.match(fail.stdout, /- isn: "higher"\n\s+\+ isn: "lower"\n.*SYN \(frame \d+\) hit the server's TIME_WAIT/);
    assert.match(fail.stdout, /evidence:\n\s+frame .*\n(.*\n)*\s+\d+ +\+ +0\.000000  c→s  SYN /);
  });

  it('usage errors exit 2 with one line', async () => {
    const dir = await tmp('teardown-walk-');
    const big = join(dir, 'big.pcap');
    await merged(big, ['fin-client-first.pcap']);
    const none = await cli(['extract', big, '-w', join(dir, 'x.pcap')]);
    assert.equal(none.code, 2);
    assert.equal(none.stderr, 'teardown: say which connections to extract: --connection <id|tuple> and/or --finding <kind>\n');
    const wrong = await cli(['extract', big, '-c', 'c7', '-w', join(dir, 'x.pcap')]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /^teardown: --connection: no connection c7 in the capture \(it has 1: c1 127\.0\.0\.1:41001 → 127\.0\.0\.1:5001 #0\)\n$/);
    const keep = await cli(['extract', big, '-c', 'c1', '--keep-payload', '-w', join(dir, 'x.pcap')]);
    assert.equal(keep.code, 2);
    assert.match(keep.stderr, /--keep-payload only applies with --anonymize/);
    const noW = await cli(['extract', big, '-c', 'c1']);
    assert.equal(noW.code, 2);
    const rebase = await cli(['extract', big, '-c', 'c1', '--rebase-timestamps', '-w', join(dir, 'x.pcap')]);
    assert.equal(rebase.code, 2);
    assert.equal(rebase.stderr, 'teardown: --rebase-timestamps only applies with --anonymize\n');
  });

  it('--anonymize says that TCP timestamps are kept (help and output); --rebase-timestamps rebases them, verdicts verified', async () => {
    const dir = await tmp('teardown-walk-');
    const big = join(dir, 'big.pcap');
    await merged(big, ['rst-linger0.pcap']);
    const help = await cli(['extract', '--help']);
    assert.match(help.stdout.replace(/\s+/g, ' '), /TCP timestamp values \(TSval\/TSecr\) are kept, and they can reveal host uptime: add --rebase-timestamps/);
    const kept = await cli(['extract', big, '-c', 'c1', '--anonymize', '-w', join(dir, 'kept.pcap')]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /payload zeroed; TCP timestamps kept as captured \(--rebase-timestamps rebases them\)$/m);
    const moved = await cli(['extract', big, '-c', 'c1', '--anonymize', '--rebase-timestamps', '-w', join(dir, 'moved.pcap')]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /payload zeroed; TCP timestamps rebased per host \(from 1000000\)$/m);
    assert.match(moved.stdout, /^verified: analyzing .* gives the same verdicts for this connection$/m);
  });

  it('a capture damaged part-way: the frames before the damage are extracted, with a warning and exit code 2', async () => {
    const dir = await tmp('teardown-walk-');
    const cut = join(dir, 'cut.pcap');
    await writeFile(cut, (await readFile(join(ROOT, 'fixtures', 'tw-reuse-lower-isn.pcap'))).subarray(0, 3000));
    const out = join(dir, 'c1.pcap');
    const r = await cli(['extract', cut, '-c', 'c1', '-w', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^teardown: warning: the input is damaged \(.*cut\.pcap: input ends inside record 20 .*\(at byte 2838\)\): extracting from the 19 frames before it\n$/);
    assert.match(r.stdout, /^wrote .*c1\.pcap: \d+ frames of 1 connection /);
    assert.ok((await stat(out)).size > 24);
  });
});
