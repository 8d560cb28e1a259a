/**
 * Property tests (fast-check): 32-bit sequence arithmetic, incarnation splitting on one 4-tuple, and the report
 * invariants over random segment streams (any flags, any numbers, a random table bound).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { add32, between, d32, ge, gt, le, lt, rel32 } from '../../src/tcp/seq.js';
import { Conversation } from '../helpers/conversation.js';
import { buildFrame, type SegmentSpec } from '../helpers/packets.js';
import { analyzeBytes } from './targets/common.js';
import { endpointText } from '../../src/model/endpoint.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** Distances the comparisons are defined for (|d| < 2^31). */
const dist = fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 });
const RUNS = { numRuns: 300, seed: 42 };

describe('sequence arithmetic (src/tcp/seq.ts)', () => {
  test('add32 stays in [0, 2^32) and d32 inverts it within ±2^31', () => {
    fc.assert(fc.property(u32, dist, (a, d) => {
      const b = add32(a, d);
      assert.ok(Number.isInteger(b) && b >= 0 && b <= 0xffffffff);
      assert.equal(d32(b, a), d);
      assert.equal(rel32(b, a), ((d % 2 ** 32) + 2 ** 32) % 2 ** 32);
    }), RUNS);
  });

  test('comparisons agree with the signed distance across the wrap, and are consistent with each other', () => {
    fc.assert(fc.property(u32, dist, (a, d) => {
      const b = add32(a, d);
      assert.equal(lt(a, b), d > 0);
      assert.equal(gt(a, b), d < 0);
      assert.equal(le(a, b), d >= 0);
      assert.equal(ge(a, b), d <= 0);
      assert.equal(lt(a, b), gt(b, a));
      assert.equal(le(a, b) && ge(a, b), a === b);
    }), RUNS);
  });

  test('between(x, lo, hi) is lo ≤ x ≤ hi on the circle', () => {
    fc.assert(fc.property(u32, fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 2 ** 31 }), (lo, w, k) => {
      const hi = add32(lo, w);
      const x = add32(lo, k);
      assert.equal(between(x, lo, hi), k <= w);
    }), RUNS);
  });
});

describe('incarnation splitting', () => {
  test('k closed sessions on one 4-tuple are k incarnations, in order and linked, whatever the ISNs and the gaps', () => {
    const session = fc.record({
      cIsn: u32, sIsn: u32, gap: fc.double({ min: 0.001, max: 400, noNaN: true }), data: fc.integer({ min: 0, max: 3000 }),
      rst: fc.boolean(),
    });
    fc.assert(fc.property(fc.array(session, { minLength: 1, maxLength: 6 }), fc.boolean(), (sessions, interleave) => {
      const first = new Conversation({ cIsn: sessions[0]!.cIsn, sIsn: sessions[0]!.sIsn });
      let t = first.t;
      sessions.forEach((s, i) => {
        const cv = i === 0 ? first : first.sibling({ cIsn: s.cIsn, sIsn: s.sIsn, t0: t + s.gap });
        cv.handshake();
        if (s.data > 0) { cv.c('P.', { len: s.data }); cv.s('.'); }
        if (s.rst) cv.c('R.');
        else { cv.c('F.'); cv.s('F.'); cv.c('.'); }
        if (interleave) first.sibling({ client: '10.9.9.9', cport: 5000 + i, t0: cv.t + 0.0005 }).handshake();
        t = cv.t;
      });
      const frames = first.rawFrames();
      const bytes = PcapWriter.toBuffer(frames.map((f) => ({ tsSec: f.tsSec, tsNsec: f.tsNsec, data: f.data.subarray(f.dataOffset, f.dataOffset + f.capLength) })));
      const r = analyzeBytes(bytes);
      const onTuple = r.connections.filter((c) => endpointText(c.client) === '10.0.0.1:40000');
      assert.equal(onTuple.length, sessions.length, JSON.stringify(onTuple.map((c) => [c.incarnation, c.handshake, c.teardown])));
      onTuple.forEach((c, i) => {
        assert.equal(c.incarnation, i);
        assert.equal(c.previous, i === 0 ? null : onTuple[i - 1]!.id);
        assert.equal(c.handshake, 'complete');
        assert.equal(c.teardown, sessions[i]!.rst ? 'rst' : 'fin');
      });
    }), { numRuns: 150, seed: 7 });
  });
});

describe('report invariants over random segment streams', () => {
  const FLAGS = ['S', 'S.', '.', 'P.', 'F.', 'FP.', 'R', 'R.', ''];
  const segment = fc.record({
    tuple: fc.integer({ min: 0, max: 3 }), fromClient: fc.boolean(), flags: fc.constantFrom(...FLAGS),
    seq: fc.oneof(fc.integer({ min: 0, max: 40 }), u32), ack: fc.oneof(fc.integer({ min: 0, max: 40 }), u32),
    len: fc.constantFrom(0, 0, 1, 100, 1448), dt: fc.constantFrom(0, 0.0001, 0.01, 1, 70, 400), v6: fc.boolean(),
  });
  test('any stream, any bound: valid JSON per schema, frames ordered and in the capture, counts add up', () => {
    fc.assert(fc.property(fc.array(segment, { maxLength: 60 }), fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), (segs, bound) => {
      let t = 1_700_000_000;
      const frames = segs.map((s) => {
        t += s.dt;
        const cl = s.v6 ? `fd00::${s.tuple + 1}` : `10.0.0.${s.tuple + 1}`;
        const sv = s.v6 ? 'fd00::ff' : '10.0.0.255';
        const spec: SegmentSpec = {
          src: s.fromClient ? cl : sv, dst: s.fromClient ? sv : cl, sport: s.fromClient ? 40000 : 80, dport: s.fromClient ? 80 : 40000,
          seq: 1000 + s.seq >>> 0, flags: s.flags, len: s.len,
        };
        if (s.flags.includes('.')) spec.ack = 5000 + s.ack >>> 0;
        const sec = Math.floor(t);
        return { tsSec: sec, tsNsec: Math.round((t - sec) * 1e9) % 1e9, data: buildFrame(spec) };
      });
      analyzeBytes(PcapWriter.toBuffer(frames), { maxConnections: bound });
    }), { numRuns: 300, seed: 11 });
  });
});
