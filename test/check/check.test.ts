import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Report } from '../../src/model/report.js';
import { checkCapture, checkReport, type CheckResult, type Problem } from '../../src/check/check.js';
import { parseExpectation } from '../../src/expect/load.js';
import { expectationFromReport } from '../../src/expect/update.js';
import { copies, fixture, report } from './util.js';
import { fromClients, readFrames, tagSome, toPcap } from '../helpers/rewrite.js';

const exp = (json: Record<string, unknown>) => parseExpectation({ version: 1, ...json }, 'test.expect.json');
const ofType = <T extends Problem['type']>(r: CheckResult, type: T) => r.problems.filter((p): p is Extract<Problem, { type: T }> => p.type === type);

const reports = new Map<string, Promise<Report>>();
const cached = (name: string): Promise<Report> => {
  let r = reports.get(name);
  if (r === undefined) reports.set(name, (r = report(fixture(name))));
  return r;
};

describe('check: captures that pass', () => {
  it('passes a hand-written expectation on a real capture, with comparisons and partial selectors', async () => {
    const r = await cached('tw-reuse-lower-isn.pcap');
    const severity = r.findings.find((f) => f.kind === 'time-wait-reuse')?.severity;
    const res = checkReport(r, exp({
      connections: [
        { connection: { serverPort: 5017, incarnation: 0 }, teardown: 'fin', closer: 'server' },
        { connection: { serverPort: 5017, incarnation: 1 }, teardown: 'fin', closer: 'client', handshake: 'complete', states: { client: 'TIME_WAIT' } },
        { connection: { server: '127.0.0.1:5017' }, count: 2 },
      ],
      findings: [{
        kind: 'time-wait-reuse', connection: { serverPort: 5017, incarnation: 1 }, severity,
        details: { isn: 'lower', holder: 'server', outcome: 'rejected', sinceCloseSeconds: '< 60', retries: '>= 1', expected: { linux: false } },
      }],
    }));
    assert.equal(res.status, 'pass', JSON.stringify(res.problems));
    assert.deepEqual(res.items.map((i) => i.ref), ['connections[0]', 'connections[1]', 'connections[2]', 'findings[0]', 'unexpected']);
    assert.ok(res.items.every((i) => i.ok), "res.items.every((i) => i.ok)");
  });

  it('count: ">= 1" takes every match, 0 asserts absence', async () => {
    const r = await cached('port-reuse-narrow-range.pcap');
    const n = r.findings.filter((f) => f.kind === 'time-wait-reuse').length;
    assert.ok(n > 1, "n > 1");
    assert.equal(checkReport(r, exp({ findings: [{ kind: 'time-wait-reuse', count: '>= 1' }, { kind: 'rst-teardown', count: 0 }] })).status, 'pass');
    assert.equal(checkReport(r, exp({ findings: [{ kind: 'time-wait-reuse', connection: { serverPort: 5018 }, count: n }] })).status, 'pass');
  });

  it('takes the most specific entries first, so a broad entry does not steal a specific one\'s finding', async () => {
    const r = await cached('port-reuse-narrow-range.pcap');
    const f = r.findings.find((x) => x.kind === 'time-wait-reuse')!;
    const n = r.findings.filter((x) => x.kind === 'time-wait-reuse').length;
    const res = checkReport(r, exp({ findings: [
      { kind: 'time-wait-reuse', count: n - 1 },
      { kind: 'time-wait-reuse', connection: f.connection },
    ] }));
    assert.equal(res.status, 'pass', JSON.stringify(res.problems.map((p) => p.type)));
  });

  it('"unexpected": "ignore" passes extra findings and says so; a severity floor ignores the ones below it', async () => {
    const r = await cached('rst-linger0.pcap');
    const ignore = checkReport(r, exp({ unexpected: 'ignore' }));
    assert.equal(ignore.status, 'pass');
    assert.match(ignore.notes.join('\n'), /1 other finding\(s\) not checked \("unexpected": "ignore"\): rst-teardown ×1/);
    assert.notEqual(r.findings[0]!.severity, 'error', 'precondition: the abort is not an error');
    const floor = checkReport(r, exp({ unexpectedSeverity: 'error' }));
    assert.equal(floor.status, 'pass', 'below the floor');
    assert.match(floor.notes.join('\n'), /below error not checked/);
  });

  it('uses the expectation\'s settings over the caller\'s', async () => {
    const { paths: [cap] } = await copies('close-wait-short.pcap');
    // At a 0 s timeout the half-close is stuck (an error); at an hour it is not yet.
    const stuck = exp({ settings: { halfCloseTimeout: 0 }, findings: [{ kind: 'stuck-half-close', severity: 'error', details: { stuck: true, stuckSide: 'server' } }] });
    assert.equal((await checkCapture(cap!, stuck, { settings: { halfCloseTimeout: 3600 } })).status, 'pass');
    const notStuck = exp({ findings: [{ kind: 'stuck-half-close', severity: 'info', details: { stuck: false } }] });
    assert.equal((await checkCapture(cap!, notStuck, { settings: { halfCloseTimeout: 3600 } })).status, 'pass');
    assert.equal((await checkCapture(cap!, notStuck, { settings: { halfCloseTimeout: 0 } })).status, 'fail', 'caller settings apply when the file has none');
  });

  it('a flowKey setting analyzes with that flow key; an unknown one is an expectation error', async () => {
    // fin-client-first with only its client→server frames VLAN-tagged: one connection by the tuple, two by tuple+vlan.
    const frames = await readFrames(fixture('fin-client-first.pcap'));
    const { paths: [cap] } = await copies('fin-client-first.pcap');
    const c2s = fromClients((await cached('fin-client-first.pcap')));
    await writeFile(cap!, toPcap(tagSome(frames, c2s, 10)));
    const one = { connections: [{ connection: { serverPort: 5001 }, teardown: 'fin' }] };
    assert.equal((await checkCapture(cap!, exp(one))).status, 'pass');
    assert.equal((await checkCapture(cap!, exp({ settings: { flowKey: 'tuple+vlan' }, ...one }))).status, 'fail');
    assert.equal((await checkCapture(cap!, exp(one), { settings: { flowKey: 'tuple+vlan' } })).status, 'fail', 'the caller\'s flow key');
    assert.equal(exp({ settings: { flowKey: 'tuple+interface' } }).settings.flowKey, 'tuple+interface');
    assert.throws(() => exp({ settings: { flowKey: 'vlan' } }), /settings\.flowKey: must be one of tuple, tuple\+vlan, tuple\+interface/);
  });
});

describe('check: each way to fail', () => {
  it('missing: no such finding on the selected connection (the connection is named)', async () => {
    const r = await cached('fin-client-first.pcap');
    const res = checkReport(r, exp({ findings: [{ kind: 'lost-final-ack', connection: 'c1' }] }));
    assert.equal(res.status, 'fail');
    const [p] = ofType(res, 'missing');
    assert.equal(p?.entry.kind, 'lost-final-ack');
    assert.deepEqual(p?.connections.map((c) => c.id), ['c1']);
    assert.equal(res.items.find((i) => i.ref === 'findings[0]')?.ok, false);
    assert.equal(res.items.find((i) => i.ref === 'unexpected')?.ok, true);
  });

  it('missing: a selector that matches no connection', async () => {
    const r = await cached('fin-client-first.pcap');
    const [p] = ofType(checkReport(r, exp({ findings: [{ kind: 'rst-teardown', connection: { serverPort: 1 } }] })), 'missing');
    assert.deepEqual(p?.connections, []);
  });

  it('unexpected: a finding no entry asked for', async () => {
    const r = await cached('rst-linger0.pcap');
    const res = checkReport(r, exp({ connections: [{ connection: 'c1', teardown: 'rst' }] }));
    assert.equal(res.status, 'fail');
    const un = ofType(res, 'unexpected');
    assert.deepEqual(un.map((p) => p.finding.kind), ['rst-teardown']);
    assert.equal(res.items.find((i) => i.ref === 'unexpected')?.ok, false);
  });

  it('detail mismatch: the finding is there but a detail, a comparison or the severity differs', async () => {
    const r = await cached('tw-reuse-lower-isn.pcap');
    const actual = r.findings.find((f) => f.kind === 'time-wait-reuse')!.severity;
    const other = actual === 'info' ? 'warn' : 'info';
    const res = checkReport(r, exp({ findings: [{
      kind: 'time-wait-reuse', connection: { serverPort: 5017, incarnation: 1 }, severity: other,
      details: { isn: 'higher', sinceCloseSeconds: '>= 30', holder: 'server' },
    }] }));
    assert.equal(res.status, 'fail');
    const [p, more] = ofType(res, 'details');
    assert.equal(more, undefined);
    assert.deepEqual(p?.mismatches.map((m) => [m.path, m.expected, m.actual]), [
      ['severity', `"${other}"`, `"${actual}"`],
      ['isn', '"higher"', '"lower"'],
      ['sinceCloseSeconds', '>= 30', String(Math.round((p!.finding.details.sinceCloseSeconds as number) * 1e6) / 1e6)],
    ]);
    assert.deepEqual(ofType(res, 'unexpected'), [], 'a finding reported as a mismatch is not also unexpected');
    assert.deepEqual(ofType(res, 'missing'), []);
  });

  it('wrong teardown and closer on a connection', async () => {
    const r = await cached('fin-client-first.pcap');
    const res = checkReport(r, exp({ connections: [{ connection: '127.0.0.1:41001 -> 127.0.0.1:5001', teardown: 'rst', closer: 'server', ending: 'graceful-4way' }] }));
    assert.equal(res.status, 'fail');
    const [p] = ofType(res, 'connection');
    assert.equal(p?.connection.id, 'c1');
    assert.deepEqual(p?.mismatches, [
      { field: 'teardown', expected: 'rst', actual: 'fin' },
      { field: 'closer', expected: 'server', actual: 'client' },
    ]);
    const none = checkReport(r, exp({ connections: [{ connection: 'c1', closer: null }] }));
    assert.deepEqual(ofType(none, 'connection')[0]?.mismatches, [{ field: 'closer', expected: 'none', actual: 'client' }]);
  });

  it('a connection entry that matches nothing, or not `count` connections', async () => {
    const r = await cached('tw-reuse-lower-isn.pcap');
    assert.equal(ofType(checkReport(r, exp({ connections: [{ connection: 'c9', teardown: 'fin' }] })), 'no-connection').length, 1);
    const [p] = ofType(checkReport(r, exp({ connections: [{ connection: { serverPort: 5017 }, count: 3 }] })), 'no-connection');
    assert.equal(p?.found.length, 2);
  });

  it('count: too few or too many matching findings', async () => {
    const r = await cached('port-reuse-narrow-range.pcap');
    const n = r.findings.filter((f) => f.kind === 'time-wait-reuse').length;
    const res = checkReport(r, exp({ findings: [{ kind: 'time-wait-reuse' }] }));
    const [p] = ofType(res, 'count');
    assert.equal(p?.found.length, n);
    assert.deepEqual(ofType(res, 'unexpected'), [], 'counted findings are not also unexpected');
    const absent = ofType(checkReport(await cached('rst-linger0.pcap'), exp({ findings: [{ kind: 'rst-teardown', count: 0 }] })), 'count');
    assert.equal(absent[0]?.found.length, 1);
  });
});

describe('checkCapture: files', () => {
  it('finds x.expect.json next to x.pcap; no file is "no-expectation", a bad one is an error', async () => {
    const { dir, paths: [cap] } = await copies('rst-linger0.pcap');
    assert.equal((await checkCapture(cap!)).status, 'no-expectation');
    const expPath = join(dir, 'rst-linger0.expect.json');
    await writeFile(expPath, JSON.stringify(expectationFromReport(await report(cap!))));
    const ok = await checkCapture(cap!);
    assert.equal(ok.status, 'pass');
    assert.equal(ok.expectationPath, expPath);
    await writeFile(expPath, '{"version": 1, "findings": [{"kind": "rst"}]}');
    const bad = await checkCapture(cap!);
    assert.equal(bad.status, 'error');
    assert.match(bad.error!, /rst-linger0\.expect\.json: findings\[0\]\.kind/);
    assert.equal((await checkCapture(cap!, join(dir, 'other.expect.json'))).status, 'error', 'an expectation named explicitly must exist');
    const gone = await checkCapture(join(dir, 'gone.pcap'), exp({}));
    assert.equal(gone.status, 'error');
    assert.match(gone.error!, /no such file/);
  });

  it('a damaged capture is an input error unless the expectation says "truncated": true', async () => {
    const { paths: [cap] } = await copies('fin-client-first.pcap');
    await truncate(cap!, 1000);
    const r = await report(cap!);
    assert.notEqual(r.capture.error, null);
    const written = parseExpectation(expectationFromReport(r));
    assert.equal(written.truncated, true, '--update records the damage');
    assert.equal((await checkCapture(cap!, written)).status, 'pass');
    const strict = await checkCapture(cap!, exp({ unexpected: 'ignore' }));
    assert.equal(strict.status, 'error');
    assert.match(strict.error!, /capture damaged: .*"truncated": true/);
    const clean = await checkCapture(fixture('fin-client-first.pcap'), exp({ truncated: true, unexpected: 'ignore' }));
    assert.equal(clean.status, 'fail');
    assert.equal(ofType(clean, 'capture').length, 1);
  });
});
