import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Conversation, kinds } from '../helpers/conversation.js';
import { endpointText } from '../../src/model/endpoint.js';
import { lateFinReopen } from '../helpers/late-fin.js';

function close(lose: 'captured' | 'uncaptured' | 'never') {
  const cv = new Conversation().handshake();
  cv.c('F.').s('.').s('F.', { dt: 0.1 });
  const finSeq = cv.server.nxt - 1;
  if (lose === 'captured') cv.c('.');
  cv.s('F.', { seq: finSeq, dt: 0.21 });
  if (lose !== 'never') cv.c('.');
  return cv.report();
}

describe('lost-final-ack (rules §6.5)', () => {
  test('ACK captured, then the FIN retransmitted: lost after the capture point', () => {
    const r = close('captured');
    const f = kinds(r, 'lost-final-ack')[0]!;
    assert.equal(f.details.variant, 'ack-captured-then-lost');
    assert.equal(f.details.ackCaptured, true);
    assert.equal(f.details.lostBy, 'client');
    assert.equal(f.details.retransmissions, 1);
    assert.ok(Math.abs((f.details.rtoSeconds as number) - 0.211) < 1e-6, String(f.details.rtoSeconds));
    assert.equal(r.connections[0]!.closer, 'client');
    assert.deepEqual(r.connections[0]!.states, { client: 'TIME_WAIT', server: 'CLOSED' });
  });

  test('no ACK before the retransmission: lost before the capture point', () => {
    const f = kinds(close('uncaptured'), 'lost-final-ack')[0]!;
    assert.equal(f.details.variant, 'ack-not-captured');
    assert.equal(f.details.ackCaptured, false);
  });

  test('never acknowledged: stuck in LAST_ACK, error', () => {
    const r = close('never');
    const f = kinds(r, 'lost-final-ack')[0]!;
    assert.equal(f.details.variant, 'last-ack-unanswered');
    assert.equal(f.severity, 'error');
    assert.equal(r.connections[0]!.states.server, 'LAST_ACK');
  });

  test('a plain close has no lost-final-ack', () => {
    const cv = new Conversation().handshake();
    cv.c('F.').s('.').s('F.').c('.');
    assert.equal(kinds(cv.report(), 'lost-final-ack').length, 0);
  });
});

describe('late segments after a connection was judged', () => {
  test('a FIN retransmitted after the linger reopens and re-judges the connection (no bogus midstream connection)', () => {
    const cv = lateFinReopen();
    const r = cv.report();
    const mine = r.connections.filter((c) => endpointText(c.client) === '10.0.0.1:40000');
    assert.equal(mine.length, 1, JSON.stringify(mine.map((c) => [c.id, c.handshake, c.teardown])));
    const f = kinds(r, 'lost-final-ack');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.details.variant, 'ack-captured-then-lost');
  });
});
