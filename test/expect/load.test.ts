import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExpectationError, expectationPathFor, isCaptureName, loadExpectation, parseExpectation, parseExpectationText } from '../../src/expect/load.js';
import { tmp } from '../check/util.js';

const errorOf = (json: unknown): string => {
  try {
    parseExpectation(json, 'x.expect.json');
  } catch (e) {
    assert.ok(e instanceof ExpectationError, `not an ExpectationError: ${String(e)}`);
    return e.oneLine();
  }
  assert.fail('expected a validation error');
};

describe('expectation files: parsing', () => {
  it('reads every field and fills the defaults', () => {
    const e = parseExpectation({
      version: 1,
      $comment: 'ignored',
      description: 'server leaks CLOSE_WAIT',
      settings: { halfCloseTimeout: 30, timeWait: 'windows' },
      connections: [{ connection: 'c1', teardown: 'half-close', closer: 'client', ending: 'half-closed', states: { server: 'CLOSE_WAIT' } }],
      findings: [
        { kind: 'stuck-half-close', connection: { server: '10.0.0.2:80', incarnation: 0 }, details: { stuckSide: 'server', ageSeconds: '>= 30' } },
        { kind: 'rst-teardown', count: '>= 2', severity: 'warn' },
      ],
    });
    assert.equal(e.unexpected, 'fail');
    assert.equal(e.unexpectedSeverity, 'info');
    assert.equal(e.truncated, false);
    assert.deepEqual(e.settings, { halfCloseTimeout: 30, timeWait: 'windows' });
    assert.equal(e.connections[0]!.closer, 'client');
    assert.equal(e.connections[0]!.states.server, 'CLOSE_WAIT');
    assert.equal(e.connections[0]!.states.client, null);
    const [a, b] = e.findings;
    assert.deepEqual(a!.count, { op: '==', value: 1, text: '1' });
    assert.equal(a!.connection!.server!.address, '10.0.0.2');
    assert.equal(a!.connection!.server!.port, 80);
    assert.deepEqual(a!.details.ageSeconds, { type: 'compare', cmp: { op: '>=', value: 30, text: '>= 30' } });
    assert.deepEqual(a!.details.stuckSide, { type: 'literal', value: 'server' });
    assert.equal(b!.connection, null);
    assert.equal(b!.count.op, '>=');
    assert.equal(b!.severity, 'warn');
  });

  it('keeps "closer": null (expects no closer) apart from a missing closer (not checked)', () => {
    const e = parseExpectation({ version: 1, connections: [{ connection: 'c1', closer: null }, { connection: 'c2' }] });
    assert.equal(e.connections[0]!.closer, null);
    assert.equal(e.connections[1]!.closer, undefined);
  });

  it('names the place of every mistake', () => {
    assert.match(errorOf({}), /no "version"/);
    assert.match(errorOf({ version: 2 }), /version: 2 is not supported.*newer teardown/);
    assert.match(errorOf({ version: 1, finding: [] }), /unknown key 'finding'/);
    assert.match(errorOf({ version: 1, findings: [{ kind: 'stuck-half-close', Details: {} }] }), /findings\[0\]: unknown key 'Details' \(did you mean 'details'\?\)/);
    assert.match(errorOf({ version: 1, findings: [{ kind: 'stuck' }] }), /findings\[0\]\.kind: "stuck" is not one of stuck-half-close/);
    assert.match(errorOf({ version: 1, findings: [{}] }), /findings\[0\]: needs a 'kind'/);
    assert.match(errorOf({ version: 1, findings: [{ kind: 'refused', count: 'two' }] }), /findings\[0\]\.count: must be a number or a comparison/);
    assert.match(errorOf({ version: 1, findings: [{ kind: 'refused', details: { ageSeconds: '>= soon' } }] }), /findings\[0\]\.details\.ageSeconds: '>= soon' starts like a comparison/);
    assert.match(errorOf({ version: 1, findings: [{ kind: 'refused', connection: '10.0.0.1:5 -> 10.0.0.2' }] }), /a tuple needs both ports/);
    assert.match(errorOf({ version: 1, findings: [{ kind: 'refused', connection: 'conn1' }] }), /neither a connection id/);
    assert.match(errorOf({ version: 1, findings: [{ kind: 'refused', connection: { server: '10.0.0.300' } }] }), /connection\.server: '10\.0\.0\.300' is not an address/);
    assert.match(errorOf({ version: 1, findings: [{ kind: 'refused', connection: { serverPort: 70000 } }] }), /serverPort: must be a port number/);
    assert.match(errorOf({ version: 1, connections: [{ teardown: 'fin' }] }), /connections\[0\]: needs a 'connection' selector/);
    assert.match(errorOf({ version: 1, connections: [{ connection: 'c1', teardown: 'closed' }] }), /connections\[0\]\.teardown: "closed" is not one of fin, rst/);
    assert.match(errorOf({ version: 1, connections: [{ connection: 'c1', states: { client: 'TIMEWAIT' } }] }), /states\.client: "TIMEWAIT"/);
    assert.match(errorOf({ version: 1, unexpected: 'warn' }), /unexpected: "warn" is not one of fail, ignore/);
    assert.match(errorOf({ version: 1, settings: { timeWait: 'solaris' } }), /settings\.timeWait: must be seconds or a profile/);
    assert.match(errorOf([]), /one JSON object/);
    assert.ok(errorOf({ version: 1, truncated: 'yes' }).startsWith('x.expect.json: truncated:'), "errorOf({ version: 1, truncated: 'yes' }).startsWith('x.expe");
  });

  it('reports text that is not JSON', () => {
    assert.throws(() => parseExpectationText('{ "version": 1,', 'a.expect.json'), (e: unknown) => e instanceof ExpectationError && /^a\.expect\.json: not valid JSON/.test(e.oneLine()));
  });
});

describe('expectation files: names and loading', () => {
  it('pairs captures with x.expect.json', () => {
    assert.equal(expectationPathFor('fixtures/x.pcap'), join('fixtures', 'x.expect.json'));
    assert.equal(expectationPathFor('a/b/x.pcapng'), join('a/b', 'x.expect.json'));
    assert.equal(expectationPathFor('x.pcap.gz'), 'x.expect.json');
    assert.equal(expectationPathFor('x.v2.cap'), 'x.v2.expect.json');
    assert.equal(expectationPathFor('dump'), 'dump.expect.json');
    assert.ok(isCaptureName('x.pcapng.gz'), "isCaptureName('x.pcapng.gz')");
    assert.ok(!isCaptureName('x.expect.json'), "!isCaptureName('x.expect.json')");
    assert.ok(!isCaptureName('notes.txt'), "!isCaptureName('notes.txt')");
  });

  it('loads a file, returns null when there is none, and names the file in errors', async () => {
    const dir = await tmp();
    const good = join(dir, 'a.expect.json');
    await writeFile(good, JSON.stringify({ version: 1, findings: [{ kind: 'refused' }] }));
    const e = await loadExpectation(good);
    assert.equal(e?.path, good);
    assert.equal(e?.findings[0]?.kind, 'refused');
    assert.equal(await loadExpectation(join(dir, 'none.expect.json')), null);
    const bad = join(dir, 'b.expect.json');
    await writeFile(bad, '{ "version": 1, "findings": [{ "kind": "nope" }] }');
    await assert.rejects(loadExpectation(bad), (err: unknown) => err instanceof ExpectationError && err.oneLine().startsWith(`${bad}: findings[0].kind`));
    await assert.rejects(loadExpectation(dir), (err: unknown) => err instanceof ExpectationError && /is a directory/.test(err.message));
  });
});
