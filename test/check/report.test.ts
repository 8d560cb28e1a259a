import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCapture, checkReport, type CheckResult } from '../../src/check/check.js';
import { formatCheckResult, formatCheckSummary } from '../../src/check/diff.js';
import { parseExpectation } from '../../src/expect/load.js';
import { expectationFromReport } from '../../src/expect/update.js';
import { junitReport, xmlEscape } from '../../src/check/junit.js';
import { copies, fixture, report } from './util.js';
import { parseXml, type XmlElement } from './xml.js';

const exp = (json: Record<string, unknown>) => parseExpectation({ version: 1, ...json }, 'test.expect.json');

/** One result of every status, from real captures. */
async function mixedResults(): Promise<CheckResult[]> {
  const tw = await report(fixture('tw-reuse-lower-isn.pcap'));
  const pass = checkReport(await report(fixture('fin-client-first.pcap')), parseExpectation(expectationFromReport(await report(fixture('fin-client-first.pcap')))));
  const fail = checkReport(tw, exp({
    connections: [{ connection: { serverPort: 5017, incarnation: 0 }, teardown: 'rst' }],
    findings: [
      { kind: 'time-wait-reuse', connection: { serverPort: 5017, incarnation: 1 }, details: { isn: 'higher' } },
      { kind: 'lost-final-ack', connection: { serverPort: 5017, incarnation: 0 } },
    ],
  }));
  const { paths: [lone] } = await copies('rst-linger0.pcap');
  const none = await checkCapture(lone!);
  const error = await checkCapture('/nonexistent/<&>"quoted".pcap', exp({}));
  return [pass, fail, none, error];
}

describe('the readable diff', () => {
  it('shows expected (-) against found (+) with evidence frames, for each failure kind', async () => {
    const [pass, fail, none, error] = await mixedResults();
    assert.match(formatCheckResult(pass!), /^PASS .*fin-client-first\.pcap \(expectation: \d+ checks\)\n$/);
    const text = formatCheckResult(fail!);
    assert.match(text, /^FAIL .*tw-reuse-lower-isn\.pcap \(test\.expect\.json: 3 of 4 checks failed\)$/m);
    assert.match(text, /✗ connections\[0\] server port 5017 #0: teardown rst\n {6}c1 127\.0\.0\.1:41017 → 127\.0\.0\.1:5017 #0 \(frames 1-\d+\) differs:\n {8}- teardown: rst\n {8}\+ teardown: fin/);
    assert.match(text, /✗ findings\[0\] time-wait-reuse on server port 5017 #1\n {6}\[(info|warn|error)\] time-wait-reuse on c2 .* differs:\n {8}- isn: "higher"\n {8}\+ isn: "lower"/);
    // Evidence: the SYN that reused the tuple, by frame number, as in the text report.
    const syn = fail!.report!.findings[0]!.evidence.find((p) => p.flags === 'SYN')!;
    assert.match(text, new RegExp(`evidence:\\n\\s+frame .*\\n(.*\\n)*\\s+${syn.frame}  \\+ +0\\.000000  c→s  SYN `));
    assert.match(text, /✗ findings\[1\] lost-final-ack on server port 5017 #0\n {6}missing: no lost-final-ack finding on server port 5017 #0\n {8}c1 .*teardown fin, closer server/);
    assert.doesNotMatch(text, /✓/, 'passing assertions only with verbose');
    assert.match(formatCheckResult(fail!, { verbose: true }), /✓ unexpected no other findings/);
    assert.match(formatCheckResult(none!), /^NO EXPECTATION .*rst-linger0\.pcap: .*rst-linger0\.expect\.json does not exist \(write it from the current verdicts: teardown check --update /);
    assert.match(formatCheckResult(error!), /^ERROR \/nonexistent\/.*: .*no such file/);
    assert.equal(formatCheckSummary([pass!, fail!, none!, error!]), '4 captures: 1 passed, 1 failed, 1 without expectation, 1 error\n');
  });

  it('lists unexpected findings with their summary and evidence', async () => {
    const r = await report(fixture('rst-linger0.pcap'));
    const text = formatCheckResult(checkReport(r, exp({})));
    const f = r.findings[0]!;
    assert.match(text, /✗ unexpected: 1 finding\(s\) not in the expectation \("unexpected": "fail"\)\n {6}\+ \[(info|warn|error)\] rst-teardown on c1 /);
    assert.ok(text.includes(f.summary), "text.includes(f.summary)");
    for (const p of f.evidence) assert.match(text, new RegExp(`^ +${p.frame}  \\+`, 'm'));
  });
});

function all(el: XmlElement, name: string): XmlElement[] {
  return [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];
}

describe('JUnit XML', () => {
  it('is well-formed and its counts match its test cases', async () => {
    const results = await mixedResults();
    const xml = junitReport(results);
    const root = parseXml(xml);
    assert.equal(root.name, 'testsuites');
    const suites = root.children;
    assert.equal(suites.length, 4);
    assert.ok(suites.every((s) => s.name === 'testsuite'), "suites.every((s) => s.name === 'testsuite')");
    const cases = all(root, 'testcase');
    assert.equal(Number(root.attrs.tests), cases.length);
    assert.equal(Number(root.attrs.failures), all(root, 'failure').length);
    assert.equal(Number(root.attrs.errors), all(root, 'error').length);
    for (const s of suites) {
      const sc = s.children.filter((c) => c.name === 'testcase');
      assert.equal(Number(s.attrs.tests), sc.length, s.attrs.name);
      assert.equal(Number(s.attrs.failures), sc.filter((c) => c.children.some((x) => x.name === 'failure')).length);
      assert.equal(Number(s.attrs.errors), sc.filter((c) => c.children.some((x) => x.name === 'error')).length);
    }
    const [pass, fail, none, error] = suites;
    assert.equal(all(pass!, 'failure').length, 0);
    assert.equal(Number(fail!.attrs.failures), 3);
    const details = all(fail!, 'testcase').find((c) => c.attrs.name!.startsWith('findings[0]'))!;
    const failure = details.children[0]!;
    assert.equal(failure.attrs.type, 'details');
    assert.match(failure.attrs.message!, /isn expected "higher", got "lower"/, 'entities decode back to the text');
    assert.match(failure.text, /- isn: "higher"\n {2}\+ isn: "lower"/);
    assert.equal(all(none!, 'failure')[0]?.attrs.type, 'no-expectation');
    assert.equal(error!.attrs.name, '/nonexistent/<&>"quoted".pcap', 'special characters survive escaping');
    assert.equal(all(error!, 'error').length, 1);
    assert.equal(all(pass!, 'property').find((p) => p.attrs.name === 'status')?.attrs.value, 'pass');
  });

  it('escapes markup and drops characters XML cannot hold', () => {
    assert.equal(xmlEscape(`a<b>&"c'\u0001\t`), 'a&lt;b&gt;&amp;&quot;c&apos;\uFFFD\t');
    const r: CheckResult = { capture: 'x\u0007.pcap', expectationPath: null, status: 'error', items: [], problems: [], notes: [], error: 'bad ]]> </testsuite>', report: null, expectation: null };
    const root = parseXml(junitReport([r]));
    assert.equal(all(root, 'error')[0]?.text, 'bad ]]> </testsuite>');
  });

  it('the XML reader used here rejects broken XML', () => {
    for (const bad of ['<a><b></a></b>', '<a x=1/>', '<a>&nbsp;</a>', '<a>x & y</a>', '<a/><b/>', '<a x="1" x="2"/>', '<a>\u0001</a>']) {
      assert.throws(() => parseXml(bad), Error, bad);
    }
    assert.equal(parseXml('<?xml version="1.0"?>\n<a k="&lt;"><b/>t&amp;</a>\n').attrs.k, '<');
  });
});
