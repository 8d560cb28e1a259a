import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compare, matchDetails, parseComparison, parseMatcher } from '../../src/expect/detail.js';
import { matchesConnection, parseSelectorText, parseTuple, selectConnections, selectorText } from '../../src/expect/selector.js';
import { fixture, report } from '../check/util.js';
import { endpointText } from '../../src/model/endpoint.js';

describe('detail matchers', () => {
  it('parses comparisons and nothing else', () => {
    assert.deepEqual(parseComparison('>= 30'), { op: '>=', value: 30, text: '>= 30' });
    assert.deepEqual(parseComparison('<0.5'), { op: '<', value: 0.5, text: '< 0.5' });
    assert.equal(parseComparison('!= -1')?.value, -1);
    assert.equal(parseComparison('== 1e3')?.value, 1000);
    for (const t of ['30', '>=', '> x', '=> 3', 'lower']) assert.equal(parseComparison(t), null, t);
    const ge = parseComparison('>= 30')!;
    assert.ok(compare(ge, 30) && compare(ge, 31) && !compare(ge, 29.9), "compare(ge, 30) && compare(ge, 31) && !compare(ge, 29.9)");
    assert.ok(compare(parseComparison('!= 0')!, 1) && !compare(parseComparison('!= 0')!, 0), "compare(parseComparison('!= 0')!, 1) && !compare(parseCompar");
  });

  it('matches literals, comparisons, objects (listed keys only) and arrays', () => {
    const details = { isn: 'lower', ageSeconds: 31.5, stuck: true, lateFinFrame: null, expected: { linux: false, freebsd: false }, profiles: ['linux 60 s'] };
    const m = (spec: Record<string, unknown>) => matchDetails(Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, parseMatcher(v, k)])), details);
    assert.deepEqual(m({ isn: 'lower', ageSeconds: '>= 30', stuck: true, lateFinFrame: null, expected: { linux: false }, profiles: ['linux 60 s'] }), []);
    assert.deepEqual(m({ isn: 'higher' }), [{ path: 'isn', expected: '"higher"', actual: '"lower"' }]);
    assert.deepEqual(m({ ageSeconds: '< 30' }), [{ path: 'ageSeconds', expected: '< 30', actual: '31.5' }]);
    assert.deepEqual(m({ expected: { linux: true } }), [{ path: 'expected.linux', expected: 'true', actual: 'false' }]);
    assert.deepEqual(m({ profiles: [] }), [{ path: 'profiles', expected: '[]', actual: '["linux 60 s"]' }]);
    assert.deepEqual(m({ stuckSide: 'server' }), [{ path: 'stuckSide', expected: '"server"', actual: '(absent)' }]);
    assert.deepEqual(m({ isn: '>= 1' }), [{ path: 'isn', expected: '>= 1', actual: '"lower"' }], 'a comparison needs a number');
    assert.deepEqual(m({ stuck: 'true' }), [{ path: 'stuck', expected: '"true"', actual: 'true' }], 'no type coercion');
  });
});

describe('connection selectors', () => {
  it('reads ids and tuples in every spelling', () => {
    assert.deepEqual(parseSelectorText(' c12 '), { id: 'c12' });
    for (const t of ['10.0.0.1:40000 -> 10.0.0.2:80', '10.0.0.1:40000→10.0.0.2:80', '10.0.0.1:40000,10.0.0.2:80', '10.0.0.1:40000 10.0.0.2:80', '10.0.0.1:40000-10.0.0.2:80', '10.0.0.1:40000 <-> 10.0.0.2:80']) {
      const s = parseSelectorText(t);
      assert.equal(s.tuple?.[0].address, '10.0.0.1', t);
      assert.equal(s.tuple?.[1].port, 80, t);
      assert.equal(s.incarnation, undefined);
    }
    const v6 = parseSelectorText('[0:0:0:0:0:0:0:1]:41021 -> [::1]:5021 #1');
    assert.equal(v6.tuple?.[0].address, '::1');
    assert.equal(v6.incarnation, 1);
    assert.ok(parseTuple('10.0.0.1 -> 10.0.0.2:80') instanceof Error, "parseTuple('10.0.0.1 -> 10.0.0.2:80') instanceof Error");
    assert.equal(parseTuple('c1'), null);
    assert.throws(() => parseSelectorText('first one'), /neither a connection id/);
    assert.equal(selectorText(v6), '[0:0:0:0:0:0:0:1]:41021 ↔ [::1]:5021 #1');
    assert.equal(selectorText(null), 'any connection');
  });

  it('selects connections of a real capture by tuple (either order), incarnation, port and address', async () => {
    // 30 connections from 8 client ports to 127.0.0.1:5018, ports reused: several incarnations per tuple.
    const r = await report(fixture('port-reuse-narrow-range.pcap'));
    const onTuple = r.connections.filter((c) => endpointText(c.client) === '127.0.0.1:40006');
    assert.ok(onTuple.length >= 2, 'the fixture reuses 40006');
    const ids = (sel: string) => selectConnections(parseSelectorText(sel), r.connections).map((c) => c.id);
    assert.deepEqual(ids('127.0.0.1:40006 -> 127.0.0.1:5018'), onTuple.map((c) => c.id));
    assert.deepEqual(ids('127.0.0.1:5018 -> 127.0.0.1:40006'), onTuple.map((c) => c.id), 'either order');
    assert.deepEqual(ids('127.0.0.1:40006 -> 127.0.0.1:5018 #1'), [onTuple[1]!.id]);
    assert.deepEqual(ids(onTuple[0]!.id), [onTuple[0]!.id]);
    const c = onTuple[0]!;
    assert.ok(matchesConnection({ serverPort: 5018, clientPort: 40006, incarnation: 0 }, c), "matchesConnection({ serverPort: 5018, clientPort: 40006, inc");
    assert.ok(!matchesConnection({ serverPort: 40006 }, c), 'ports are role-specific');
    assert.ok(matchesConnection({ server: { address: '127.0.0.1', port: -1, text: '127.0.0.1' } }, c), 'an address without a port');
    assert.ok(!matchesConnection({ client: { address: '127.0.0.1', port: 5018, text: '' } }, c), "!matchesConnection({ client: { address: '127.0.0.1', port: 5");
    assert.equal(selectConnections({}, r.connections).length, r.connections.length);
  });

  it('compares IPv6 endpoints by value', async () => {
    const r = await report(fixture('ipv6-fin-client-first.pcap'));
    const c = r.connections[0]!;
    const port = c.server.port;
    assert.ok(matchesConnection(parseSelectorText(`[0000:0:0::0:0001]:${port} -> ${endpointText(c.client)}`), c), "matchesConnection(parseSelectorText(`[0000:0:0::0:0001]:${po");
  });
});
