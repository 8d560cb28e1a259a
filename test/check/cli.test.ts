import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inCi } from '../../src/cli/ci.js';
import { cli, copies, fixture } from './util.js';
import { parseXml } from './xml.js';

const exists = (p: string) => stat(p).then(() => true, () => false);

describe('teardown check (command line)', { concurrency: true }, () => {
  it('goes from no expectation (exit 1) to --update to passing (exit 0) to failing with a diff (exit 1)', async () => {
    const { dir } = await copies('rst-linger0.pcap', 'fin-client-first.pcap');
    const sub = join(dir, 'nested', 'deeper');
    await mkdir(sub, { recursive: true });
    await copyFile(fixture('tw-reuse-lower-isn.pcap'), join(sub, 'tw.pcap'));

    const first = await cli(['check', dir]);
    assert.equal(first.code, 1, first.stderr);
    assert.equal(first.stdout.match(/^NO EXPECTATION /gm)?.length, 3, 'directories are searched recursively');
    assert.match(first.stdout, /3 captures: 0 passed, 0 failed, 3 without expectation/);

    const upd = await cli(['check', '--update', dir]);
    assert.equal(upd.code, 0, upd.stderr);
    assert.match(upd.stdout, /^created .*rst-linger0\.expect\.json \(1 connection, 1 finding\)$/m);
    assert.match(upd.stdout, /^created .*nested\/deeper\/tw\.expect\.json \(2 connections, 1 finding\)$/m);

    const ok = await cli(['check', dir]);
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(ok.stdout.match(/^PASS /gm)?.length, 3);

    const again = await cli(['check', '--update', join(dir, 'rst-linger0.pcap')]);
    assert.match(again.stdout, /^unchanged /m);

    const expPath = join(dir, 'rst-linger0.expect.json');
    const edited = (await readFile(expPath, 'utf8')).replace('"teardown": "rst"', '"teardown": "fin"').replace('"class": "abort"', '"class": "after-fin"');
    await writeFile(expPath, edited);
    const bad = await cli(['check', dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^FAIL .*rst-linger0\.pcap \(.*: 2 of 3 checks failed\)$/m);
    assert.match(bad.stdout, /- teardown: fin\n\s+\+ teardown: rst/);
    assert.match(bad.stdout, /- class: "after-fin"\n\s+\+ class: "abort"/);
    assert.match(bad.stdout, /3 captures: 2 passed, 1 failed/);

    const refreshed = await cli(['check', '--update', join(dir, 'rst-linger0.expect.json')]);
    assert.match(refreshed.stdout, /^updated .*rst-linger0\.expect\.json \(1 connection, 1 finding, it was failing 2 of 3 checks\)$/m, 'an expectation file names its capture');
    assert.equal((await cli(['check', dir])).code, 0);
  });

  it('refuses --update in CI unless --force, and writes nothing', async () => {
    assert.ok(inCi({ CI: 'true' }) && inCi({ CI: '1' }) && inCi({ CI: '' }) && !inCi({ CI: 'false' }) && !inCi({}), 'the CI rule check --update relies on');
    const { dir } = await copies('fin-3way.pcap');
    const refused = await cli(['check', '--update', dir], { CI: 'true' });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^teardown: refusing --update: CI is set.*--force/);
    assert.equal(await exists(join(dir, 'fin-3way.expect.json')), false);
    const forced = await cli(['check', '--update', '--force', '--half-close-timeout', '5', '--time-wait', 'macos', dir], { CI: 'true' });
    assert.equal(forced.code, 0, forced.stderr);
    const json = JSON.parse(await readFile(join(dir, 'fin-3way.expect.json'), 'utf8')) as { settings: unknown };
    assert.deepEqual(json.settings, { halfCloseTimeout: 5, timeWait: 'macos' }, 'the flags it was made with are recorded');
  });

  it('writes JUnit XML to stdout, or to --output with the text diff on stdout', async () => {
    const { dir } = await copies('rst-linger0.pcap');
    await writeFile(join(dir, 'rst-linger0.expect.json'), JSON.stringify({ version: 1, findings: [{ kind: 'rst-teardown', details: { by: 'server' } }] }));
    const out = await cli(['check', '--reporter', 'junit', dir]);
    assert.equal(out.code, 1);
    const root = parseXml(out.stdout);
    assert.equal(root.attrs.failures, '1');
    const file = join(dir, 'junit.xml');
    const both = await cli(['check', '--reporter', 'junit', '--output', file, dir]);
    assert.equal(both.code, 1);
    assert.match(both.stdout, /^FAIL /);
    assert.match(both.stdout, /- by: "server"\n\s+\+ by: "client"/);
    assert.equal(parseXml(await readFile(file, 'utf8')).attrs.failures, '1');
  });

  it('exits 2 on input errors: a missing path, an invalid expectation, an expectation whose capture is gone', async () => {
    const { dir, paths: [cap] } = await copies('fin-client-first.pcap');
    const missing = await cli(['check', join(dir, 'nope.pcap')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^teardown: .*nope\.pcap: .*no such file.*\n$/);
    assert.equal(missing.stdout, '', 'nothing was checked: nothing on stdout');

    await writeFile(join(dir, 'fin-client-first.expect.json'), '{"version": 1, "findings": [{"kind": "fin"}]}');
    const invalid = await cli(['check', cap!]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /^teardown: .*fin-client-first\.expect\.json: findings\[0\]\.kind: "fin" is not one of/m);
    const noOverwrite = await cli(['check', '--update', cap!]);
    assert.equal(noOverwrite.code, 2);
    assert.match(noOverwrite.stderr, /not overwriting it/);

    await rename(cap!, join(dir, 'moved.bin'));
    const orphan = await cli(['check', dir]);
    assert.equal(orphan.code, 2);
    assert.match(orphan.stderr, /^teardown: .*fin-client-first\.expect\.json: expectation without a capture next to it/m);

    const usage = await cli(['check', '--reporter', 'xml', dir]);
    assert.equal(usage.code, 2);
  });
});
