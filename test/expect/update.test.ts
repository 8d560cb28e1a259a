import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { checkReport } from '../../src/check/check.js';
import { parseExpectation } from '../../src/expect/load.js';
import { expectationFromReport, formatExpectationJson } from '../../src/expect/update.js';
import { FIXTURES, fixture, report } from '../check/util.js';
import { endpointText } from '../../src/model/endpoint.js';

describe('expectations written from verdicts', () => {
  it('pass against the capture they were written from, for every real fixture', async () => {
    const names = (await readdir(FIXTURES)).filter((n) => /\.(pcap|pcapng)(\.gz)?$/.test(n)).sort();
    assert.ok(names.length >= 10, `fixtures: ${names.join(', ')}`);
    for (const n of names) {
      const r = await report(fixture(n));
      const json = expectationFromReport(r);
      const text = formatExpectationJson(json);
      assert.deepEqual(JSON.parse(text), json, `${n}: the formatted JSON is the same JSON`);
      const exp = parseExpectation(JSON.parse(text), `${n}.expect.json`);
      assert.equal(exp.connections.length, r.connections.length, n);
      assert.equal(exp.findings.reduce((k, f) => k + f.count.value, 0), r.findings.length, `${n}: every finding is expected`);
      const res = checkReport(r, exp);
      assert.equal(res.status, 'pass', `${n}: ${JSON.stringify(res.problems.map((p) => p.type))}`);
    }
  });

  it('record categorical details, severity and the connection by client, server and incarnation', async () => {
    const r = await report(fixture('tw-reuse-lower-isn.pcap'));
    const json = expectationFromReport(r) as { findings: Record<string, unknown>[]; connections: Record<string, unknown>[] };
    const f = json.findings.find((x) => x.kind === 'time-wait-reuse')!;
    const reuse = r.findings.find((x) => x.kind === 'time-wait-reuse')!;
    const c = r.connections.find((x) => x.id === reuse.connection)!;
    assert.deepEqual(f.connection, { client: endpointText(c.client), server: endpointText(c.server), incarnation: c.incarnation });
    assert.equal(f.severity, reuse.severity);
    const d = f.details as Record<string, unknown>;
    assert.equal(d.isn, 'lower');
    assert.equal(d.holder, reuse.details.holder);
    assert.deepEqual(d.expected, reuse.details.expected, 'objects of booleans are verdicts');
    assert.equal(d.previous, undefined, 'connection ids are references, not verdicts');
    assert.equal(d.sinceCloseSeconds, undefined, 'numbers are evidence');
    assert.equal(d.profiles, undefined, 'arrays are left out');
    assert.deepEqual(json.connections.map((x) => x.teardown), r.connections.map((x) => x.teardown));
  });

  it('keep the header of the file they refresh', async () => {
    const r = await report(fixture('rst-linger0.pcap'));
    const base = { version: 1, $comment: 'kept', description: 'linger 0', settings: { halfCloseTimeout: 5 }, unexpected: 'ignore', unexpectedSeverity: 'warn', findings: [{ kind: 'refused' }] };
    const json = expectationFromReport(r, base, { timeWait: 30 });
    assert.equal(json.$comment, 'kept');
    assert.equal(json.description, 'linger 0');
    assert.deepEqual(json.settings, { halfCloseTimeout: 5 }, "the file's settings, not the flags");
    assert.equal(json.unexpected, 'ignore');
    assert.equal(json.unexpectedSeverity, 'warn');
    assert.ok(Array.isArray(json.findings) && json.findings.every((x) => (x as { kind: string }).kind !== 'refused'), "Array.isArray(json.findings) && json.findings.every((x) => (");
    const fresh = expectationFromReport(r, null, { timeWait: 30 });
    assert.deepEqual(fresh.settings, { timeWait: 30 }, 'a new file records the flags it was made with');
    assert.equal(fresh.unexpected, 'fail');
    assert.equal(fresh.truncated, undefined);
  });

  it('format short objects on one line and long ones over several', () => {
    const text = formatExpectationJson({ version: 1, findings: [{ kind: 'refused', connection: { client: '10.0.0.1:40000', server: '10.0.0.2:80', incarnation: 0 } }] });
    assert.match(text, /^ {6}"connection": \{ "client": "10\.0\.0\.1:40000", "server": "10\.0\.0\.2:80", "incarnation": 0 \}$/m);
    assert.ok(text.startsWith('{\n  "version": 1,\n'), "text.startsWith('{\\n  \"version\": 1,\\n')");
    assert.ok(text.endsWith('}\n'), "text.endsWith('}\\n')");
  });
});
