import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Conversation, kinds } from '../helpers/conversation.js';

/** A client FIN acknowledged by a server that never closes; another connection keeps the capture clock going. */
function stuck(afterFin: (cv: Conversation) => void, clockUntil: number) {
  const cv = new Conversation().handshake();
  cv.c('P.', { len: 50 }).s('.').c('F.').s('.');
  afterFin(cv);
  const clock = cv.sibling({ cport: 41000, t0: cv.t });
  clock.handshake();
  clock.c('P.', { at: cv.t + clockUntil, len: 1 });
  return cv.report();
}

describe('stuck-half-close (rules §6.1)', () => {
  test('server idle in CLOSE_WAIT past the timeout, open at capture end: error, server stuck', () => {
    const r = stuck(() => {}, 70);
    const f = kinds(r, 'stuck-half-close');
    assert.equal(f.length, 1);
    const d = f[0]!.details;
    assert.equal(f[0]!.severity, 'error');
    assert.equal(d.stuckSide, 'server');
    assert.equal(d.closedSide, 'client');
    assert.equal(d.openAtEnd, true);
    assert.equal(d.stuck, true);
    assert.ok((d.ageSeconds as number) > 69 && (d.ageSeconds as number) < 71);
    const c = r.connections.find((x) => x.id === f[0]!.connection)!;
    assert.deepEqual(c.states, { client: 'FIN_WAIT_2', server: 'CLOSE_WAIT' });
    assert.equal(r.aggregates.servers[0]!.halfClosed, 1);
    assert.equal(r.aggregates.servers[0]!.stuck, 1);
    assert.deepEqual(f[0]!.evidence.map((e) => e.note), ['FIN', 'ACK of FIN']);
  });

  test('younger than the timeout: reported at capture end, info, not stuck', () => {
    const f = kinds(stuck(() => {}, 10), 'stuck-half-close');
    assert.equal(f[0]!.severity, 'info');
    assert.equal(f[0]!.details.stuck, false);
  });

  test('keepalives from the stuck side are not activity', () => {
    const r = stuck((cv) => {
      for (let i = 1; i <= 6; i++) cv.s('.', { at: cv.t + 10, seq: cv.server.nxt - 1, noAdvance: true }).c('.', { dt: 0.0001 });
    }, 75);
    const f = kinds(r, 'stuck-half-close')[0]!;
    assert.equal(f.details.stuck, true);
  });

  test('data still flowing from the half-closed peer is a legitimate half-close', () => {
    const r = stuck((cv) => {
      for (let i = 0; i < 5; i++) cv.s('P.', { len: 1000, dt: 1 }).c('.');
    }, 10);
    const f = kinds(r, 'stuck-half-close')[0]!;
    assert.equal(f.details.legitimate, true);
    assert.equal(f.details.bytesAfterFin, 5000);
    assert.equal(f.severity, 'info');
  });

  test('a close within the timeout is no finding; a late close after the timeout is a warn', () => {
    const quick = new Conversation().handshake();
    quick.c('F.').s('.').s('F.', { dt: 2 }).c('.');
    assert.equal(kinds(quick.report(), 'stuck-half-close').length, 0);
    const late = new Conversation().handshake();
    late.c('F.').s('.').s('F.', { dt: 90 }).c('.');
    const f = kinds(late.report(), 'stuck-half-close');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.severity, 'warn');
    assert.equal(f[0]!.details.openAtEnd, false);
  });

  test('--half-close-timeout moves the threshold', () => {
    const cv = new Conversation().handshake();
    cv.c('F.').s('.');
    const clock = cv.sibling({ cport: 41000, t0: cv.t });
    clock.handshake().c('P.', { at: cv.t + 5, len: 1 });
    assert.equal(kinds(cv.report({ halfCloseTimeout: 3 }), 'stuck-half-close')[0]!.details.stuck, true);
    assert.equal(kinds(cv.report({ halfCloseTimeout: 60 }), 'stuck-half-close')[0]!.details.stuck, false);
  });
});

describe('stuck vs open at capture end are counted apart (summary, text)', () => {
  test('one half-close stuck for 70 s and one 1 ms old at capture end: 1 stuck, 1 open at capture end', async () => {
    const { textReport } = await import('../../src/report/text.js');
    const cv = new Conversation().handshake();
    cv.c('F.').s('.');
    const young = cv.sibling({ cport: 40001 });
    young.t = cv.t + 70;
    young.handshake().c('F.').s('.', { dt: 0.001 });
    const r = cv.report();
    assert.deepEqual(r.summary.halfCloses, { stuck: 1, openAtEnd: 1, legitimate: 0, other: 0 });
    const text = textReport(r);
    assert.match(text, /stuck-half-close\s+2 {2}Half-close \(CLOSE_WAIT\): 1 stuck, 1 open at capture end \(not yet stuck\)/);
    assert.doesNotMatch(text, /Stuck half-close \(CLOSE_WAIT\)/);
  });
});
