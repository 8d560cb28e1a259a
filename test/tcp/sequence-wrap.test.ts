import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Report } from '../../src/model/report.js';
import { add32, between, d32, ge, gt, le, lt } from '../../src/tcp/seq.js';
import { Conversation } from '../helpers/conversation.js';

function verdicts(r: Report) {
  return {
    conns: r.connections.map((c) => [c.teardown, c.closer, c.ending, c.states.client, c.states.server]),
    findings: r.findings.map((f) => [f.kind, f.severity, f.details.class ?? null, f.details.variant ?? null, f.evidence.map((e) => [e.frame, e.relSeq, e.relAck])]),
  };
}

/** The lost-final-ack story with data, as a function of the two ISNs. */
function story(cIsn: number, sIsn: number): Report {
  const cv = new Conversation({ cIsn, sIsn }).handshake();
  for (let i = 0; i < 5; i++) cv.c('P.', { len: 1400 }).s('.');
  cv.c('R', { seq: cv.client.nxt - 2_000_000 }); // out of window: ignored
  cv.s('P.', { len: 3000 }).c('.');
  cv.c('F.').s('.').s('F.', { dt: 0.1 });
  const fin = cv.server.nxt - 1;
  cv.c('.').s('F.', { seq: fin, dt: 0.2 }).c('.');
  return cv.report();
}

describe('sequence arithmetic (rules §0.1)', () => {
  test('comparisons go through the signed distance across the wrap', () => {
    assert.equal(d32(5, 0xfffffffb), 10);
    assert.ok(lt(0xfffffff0, 0x10) && gt(0x10, 0xfffffff0) && le(7, 7) && ge(7, 7));
    assert.equal(add32(0xffffffff, 2), 1);
    assert.ok(between(2, 0xfffffffe, 5) && !between(6, 0xfffffffe, 5));
  });

  test('metamorphic: adding a constant (mod 2^32) to either direction\'s sequence numbers changes no verdict, even when the close straddles the wrap', () => {
    const base = verdicts(story(1000, 5000));
    assert.ok(base.findings.length >= 2);
    for (const [c, s] of [[0xffffffff - 3000, 5000], [1000, 0xffffffff - 1500], [0xfffffff0, 0xffffffff - 2999], [0x7fffffff, 0x80000000]] as const) {
      assert.deepEqual(verdicts(story(c, s)), base, `cIsn=${c} sIsn=${s}`);
    }
  });
});
