import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AggregateAccumulator, peakPortsInUse, type AggregateInput } from '../../src/findings/aggregates.js';
import { endpointText } from '../../src/model/endpoint.js';
import { Conversation } from '../helpers/conversation.js';

/** n short connections from one client to one server, cycling over `ports` client ports, `gap` seconds apart. */
function churn(n: number, ports: number, gap: number) {
  const first = new Conversation({ cport: 50000 });
  for (let i = 0; i < n; i++) {
    const cv = i === 0 ? first : first.sibling({ cport: 50000 + (i % ports), cIsn: 1000 + i * 100_000, sIsn: 5000 + i * 100_000, t0: first.t });
    cv.c('S', { dt: gap }).s('S.').c('.').c('F.').s('F.').c('.');
    if (i > 0) first.t = cv.t;
  }
  return first.report();
}

describe('pair aggregates are honest (docs/json-format.md "Aggregates")', () => {
  test('ports reused long before TIME_WAIT ends: pressure is at most 1 (all ports tied up at once), not a rate quotient', () => {
    const r = churn(12, 2, 0.1);
    const p = r.aggregates.pairs[0]!;
    assert.equal(p.connections, 12);
    assert.equal(p.distinctClientPorts, 2);
    assert.equal(p.portsInUsePeak, 2);
    assert.equal(p.exhaustionRatio, 1);
    assert.ok(p.ratePerSecond !== null && p.ratePerSecond > 0);
  });

  test('fewer than 10 connections: no rate and no pressure (not enough data)', () => {
    const p = churn(4, 1, 0.1).aggregates.pairs[0]!;
    assert.equal(p.ratePerSecond, null);
    assert.equal(p.exhaustionRatio, null);
    assert.equal(p.portsInUsePeak, null);
  });

  test('sweep: distinct ports at one instant; an end and a start at the same time do not overlap', () => {
    assert.equal(peakPortsInUse([[1, 0, 10], [2, 5, 15], [1, 10, 20], [3, 20, 30]]), 2);
    assert.equal(peakPortsInUse([[1, 0, 10], [1, 2, 8]]), 1);
  });
});

describe('server rows', () => {
  test('one row per server endpoint (an address on two ports is two rows), ties in order of first appearance', () => {
    const input = (server: string, port: number, teardown: 'fin' | 'rst' = 'fin'): AggregateInput => ({
      client: { ipVersion: server.includes(':') ? 6 : 4, address: server.includes(':') ? '2001:db8::9' : '10.9.9.9', port: 40000 },
      server: { ipVersion: server.includes(':') ? 6 : 4, address: server, port }, teardown, start: 1, end: 2, timeWaitUntil: null, halfCloses: [], reuses: [],
    });
    const acc = new AggregateAccumulator(false);
    for (const c of [input('10.0.0.2', 443), input('10.0.0.1', 80), input('10.0.0.1', 443, 'rst'), input('2001:db8::1', 80), input('10.0.0.1', 80), input('10.0.0.2', 443)]) acc.add(c);
    assert.deepEqual(acc.serverRows().map((a) => [endpointText(a.server), a.connections, a.resets]), [
      // Resets first (byPileUp), then connections; 10.0.0.2:443 and 10.0.0.1:80 tie: first seen first.
      ['10.0.0.1:443', 1, 1], ['10.0.0.2:443', 2, 0], ['10.0.0.1:80', 2, 0], ['[2001:db8::1]:80', 1, 0],
    ]);
  });
});
