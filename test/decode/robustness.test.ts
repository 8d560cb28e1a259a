import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame } from '../../src/decode/decode.js';
import { newTcpPacket, type DecodeStatus } from '../../src/decode/packet.js';
import { buildFrame, frameOf, linkTypeOf, type FrameExtras, type LinkSpec, type SegmentSpec } from '../helpers/packets.js';

const STATUSES: DecodeStatus[] = ['ok', 'not-ip', 'not-tcp', 'fragment', 'truncated', 'malformed', 'too-deep', 'unsupported-link'];

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const spec: SegmentSpec = {
  src: '10.0.0.1', dst: '10.0.0.2', sport: 1234, dport: 80, seq: 1, ack: 1, flags: 'P.', len: 24,
  options: { ts: [1, 2], sack: [[3, 4]] },
};
const links: LinkSpec[] = [
  { type: 'ethernet', vlans: [1, 2] }, { type: 'sll' }, { type: 'sll2' }, { type: 'null', littleEndian: true }, { type: 'loop' },
  { type: 'raw' },
];
const shapes: [SegmentSpec, FrameExtras][] = [
  [spec, {}], [{ ...spec, src: '2001:db8::1', dst: '2001:db8::2' }, { ipv6Ext: [{ type: 0 }, { type: 51 }, { type: 44 }] }],
  [spec, { ipOptions: Uint8Array.from([1, 1, 1, 1]) }],
];

/** Decodes the frame with two different fills around it: the results must not differ. */
function decodeTwice(bytes: Uint8Array, linkType: number, capLength: number) {
  const a = newTcpPacket();
  const b = newTcpPacket();
  const fa = frameOf(bytes, linkType, { at: 17, fill: 0x00 });
  const fb = frameOf(bytes, linkType, { at: 17, fill: 0xff });
  fa.capLength = capLength;
  fb.capLength = capLength;
  const sa = decodeFrame(fa, a);
  const sb = decodeFrame(fb, b);
  return { sa, sb, a, b, frame: fa };
}

describe('robustness', () => {
  it('every cut of every frame: no throw, no read outside the frame, truncated or ok', () => {
    for (const link of links) {
      for (const [s, x] of shapes) {
        const bytes = buildFrame(s, link, x);
        for (let cut = 0; cut <= bytes.length; cut++) {
          const { sa, sb, a, b } = decodeTwice(bytes, linkTypeOf(link), cut);
          assert.equal(sa, sb);
          assert.deepEqual(a, b);
          assert.ok(sa === 'ok' || sa === 'truncated', `${link.type} cut ${cut}: ${sa}`);
          if (sa === 'ok') {
            assert.equal(a.payloadLen, 24);
            assert.equal(a.capturedPayloadLen, Math.max(0, cut - (bytes.length - 24)));
          }
        }
      }
    }
  });

  it('random byte damage: no throw, a known status, payload bounds inside the frame', () => {
    const rand = rng(20240607);
    const seen = new Set<DecodeStatus>();
    for (let n = 0; n < 20000; n++) {
      const link = links[n % links.length]!;
      const [s, x] = shapes[(n >> 3) % shapes.length]!;
      const bytes = buildFrame(s, link, x);
      const hits = 1 + Math.floor(rand() * 4);
      for (let h = 0; h < hits; h++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      const cap = rand() < 0.3 ? Math.floor(rand() * bytes.length) : bytes.length;
      const { sa, sb, a, b, frame } = decodeTwice(bytes, linkTypeOf(link), cap);
      assert.equal(sa, sb);
      assert.ok(STATUSES.includes(sa), sa);
      seen.add(sa);
      if (sa === 'ok') {
        assert.deepEqual(a, b);
        assert.ok(a.payloadOffset >= frame.dataOffset);
        assert.ok(a.capturedPayloadLen >= 0 && a.capturedPayloadLen <= a.payloadLen);
        assert.ok(a.payloadOffset + a.capturedPayloadLen <= frame.dataOffset + cap);
        assert.ok(a.sackCount >= 0 && a.sackCount <= 4);
        assert.ok(a.seq >= 0 && a.seq <= 0xffffffff && a.ack >= 0 && a.ack <= 0xffffffff);
      }
    }
    for (const st of ['ok', 'not-ip', 'not-tcp', 'truncated', 'malformed'] as const) assert.ok(seen.has(st), st);
  });

  it('garbage fields on the RawFrame do not throw', () => {
    const out = newTcpPacket();
    const data = buildFrame(spec);
    const weird = [
      { dataOffset: -5, capLength: 10 }, { dataOffset: 0, capLength: -1 }, { dataOffset: 1e9, capLength: 100 },
      { dataOffset: NaN, capLength: NaN }, { dataOffset: 0, capLength: 0 },
    ];
    for (const w of weird) {
      const f = { ...frameOf(data, 1), ...w };
      assert.ok(STATUSES.includes(decodeFrame(f, out)), JSON.stringify(w));
    }
  });
});
