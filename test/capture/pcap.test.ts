import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RECORD_BYTES, PcapParser } from '../../src/capture/pcap.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import type { PcapWriterOptions } from '../../src/capture/pcap-writer.js';
import type { RawFrame } from '../../src/capture/types.js';
import { CHUNKINGS, copyFrame, feed, payload, randomBytes, rng } from './util.js';

const FRAMES = [
  { tsSec: 1_700_000_000, tsNsec: 123_456_789, data: payload(1, 60) },
  { tsSec: 1_700_000_001, tsNsec: 999_999_999, data: payload(2, 1514), wireLength: 1514 },
  { tsSec: 1_700_000_002, tsNsec: 0, data: payload(3, 0) },
  { tsSec: 4_294_967_295, tsNsec: 1_000, data: payload(4, 97), wireLength: 1500 },
];

/** Record header offsets: 24, then each record is 16 + caplen. */
function recordOffsets(lengths: number[]): number[] {
  const out: number[] = [];
  let o = 24;
  for (const n of lengths) {
    out.push(o);
    o += 16 + n;
  }
  return out;
}

function file(opts: PcapWriterOptions = {}, frames = FRAMES): Buffer {
  return PcapWriter.toBuffer(frames, opts);
}

/** Writes a record header by hand (PcapWriter refuses impossible lengths by construction). */
function recordHeader(le: boolean, sec: number, frac: number, cap: number, wire: number): Buffer {
  const h = Buffer.alloc(16);
  const w = (v: number, p: number): number => (le ? h.writeUInt32LE(v >>> 0, p) : h.writeUInt32BE(v >>> 0, p));
  w(sec, 0);
  w(frac, 4);
  w(cap, 8);
  w(wire, 12);
  return h;
}

test('reads a little-endian microsecond file: fields, 1-based index, offsets, bytes', () => {
  const p = new PcapParser('x.pcap');
  const got = feed(p, file({ linkType: 113, snaplen: 65535 }), 1 << 20);
  assert.equal(p.error, null);
  assert.equal(p.frames, 4);
  assert.deepEqual(p.linkTypes, [113]);
  assert.equal(p.snaplen, 65535);
  assert.deepEqual(
    got.map((f) => [f.index, f.tsSec, f.tsNsec, f.linkType, f.interfaceId, f.capLength, f.wireLength]),
    [
      [1, 1_700_000_000, 123_456_000, 113, 0, 60, 60],
      [2, 1_700_000_001, 999_999_000, 113, 0, 1514, 1514],
      [3, 1_700_000_002, 0, 113, 0, 0, 0],
      [4, 4_294_967_295, 1_000, 113, 0, 97, 1500],
    ],
  );
  assert.deepEqual(got.map((f) => f.fileOffset), recordOffsets([60, 1514, 0, 97]));
  got.forEach((f, i) => assert.deepEqual(f.bytes, FRAMES[i]!.data));
});

test('all four magics (µs/ns × little/big endian) give the same frames; ns keeps full precision', () => {
  for (const bigEndian of [false, true]) {
    for (const nanosecond of [false, true]) {
      const p = new PcapParser();
      const got = feed(p, file({ bigEndian, nanosecond }), 1 << 20);
      assert.equal(p.error, null, `${bigEndian} ${nanosecond}`);
      assert.equal(p.littleEndian, !bigEndian);
      assert.equal(p.nanosecond, nanosecond);
      assert.deepEqual(
        got.map((f) => f.tsNsec),
        nanosecond ? [123_456_789, 999_999_999, 0, 1_000] : [123_456_000, 999_999_000, 0, 1_000],
      );
      got.forEach((f, i) => assert.deepEqual(f.bytes, FRAMES[i]!.data));
    }
  }
});

test('records spanning chunk boundaries: every chunking yields identical frames (both byte orders)', () => {
  for (const bigEndian of [false, true]) {
    const input = file({ bigEndian });
    const whole = feed(new PcapParser(), input, input.length);
    for (const c of CHUNKINGS) {
      const p = new PcapParser();
      assert.deepEqual(feed(p, input, c, 7), whole, `chunking ${c}`);
      assert.equal(p.error, null);
    }
  }
});

test('frames are delivered in place: one reused RawFrame whose data is the pushed chunk', () => {
  const input = file();
  const p = new PcapParser();
  const seen = new Set<RawFrame>();
  let sameBuffer = 0;
  p.push(input, (f) => {
    seen.add(f);
    if (f.data === input) sameBuffer++;
  });
  assert.equal(seen.size, 1);
  assert.equal(sameBuffer, 4);
  assert.equal([...seen][0], p.frame);
});

test('link type: FCS length and flag bits in the upper bits are masked off', () => {
  const input = file({ linkType: 1 });
  input.writeUInt32LE((0x10000000 | (2 << 29) | 1) >>> 0, 20); // P bit + FCS length 2
  const p = new PcapParser();
  const got = feed(p, input, 1 << 20);
  assert.equal(p.error, null);
  assert.deepEqual(p.linkTypes, [1]);
  assert.equal(got[0]!.linkType, 1);
});

test('microsecond field ≥ 1e6 carries into the seconds (tsNsec stays below 1e9)', () => {
  const input = Buffer.concat([PcapWriter.fileHeader(), recordHeader(true, 10, 2_500_000, 4, 4), Buffer.alloc(4)]);
  const got = feed(new PcapParser(), input, 1 << 20);
  assert.equal(got[0]!.tsSec, 12);
  assert.equal(got[0]!.tsNsec, 500_000_000);
});

test('bad magic and unsupported version are reported at their offsets', () => {
  const html = Buffer.from('<html><body>not a capture</body></html>');
  const p1 = new PcapParser('a');
  feed(p1, html, 5);
  assert.equal(p1.error?.code, 'BAD_MAGIC');
  assert.equal(p1.error?.offset, 0);
  assert.match(p1.error!.message, /3c 68 74 6d/);

  const v = file();
  v.writeUInt16LE(3, 4);
  const p2 = new PcapParser('b');
  assert.deepEqual(feed(p2, v, 1 << 20), []);
  assert.equal(p2.error?.code, 'BAD_HEADER');
  assert.equal(p2.error?.offset, 4);
  assert.match(p2.error!.message, /version 3\.4/);
});

test('impossible captured length → BAD_RECORD at the record offset; earlier frames delivered', () => {
  for (const bigEndian of [false, true]) {
    for (const c of [1, 13, 1 << 20]) {
      const good = file({ bigEndian, snaplen: 65535 }, FRAMES.slice(0, 2));
      const badAt = good.length;
      // 300000 > max(65535, 256 KiB): impossible even though libpcap's per-DLT maximum is used as a floor.
      const input = Buffer.concat([good, recordHeader(!bigEndian, 1, 2, 300_000, 300_000), Buffer.alloc(64)]);
      const p = new PcapParser('bad.pcap');
      const got = feed(p, input, c);
      assert.equal(got.length, 2, `chunk ${c}`);
      assert.equal(p.error?.code, 'BAD_RECORD');
      assert.equal(p.error?.offset, badAt);
      assert.match(p.error!.oneLine(), /^bad\.pcap: record 3 claims 300000 captured bytes.*\(at byte \d+\)$/);
    }
  }
});

test('captured length above snaplen but within 256 KiB is accepted (libpcap floor); over 64 MiB never is', () => {
  const big = payload(9, 200_000);
  const hand = Buffer.concat([PcapWriter.fileHeader({ snaplen: 1500 }), recordHeader(true, 1, 0, big.length, big.length), big]);
  const p2 = new PcapParser();
  const got2 = feed(p2, hand, 4096);
  assert.equal(p2.error, null);
  assert.deepEqual(got2[0]!.bytes, big);

  const huge = Buffer.concat([PcapWriter.fileHeader({ snaplen: 0xffffffff }), recordHeader(true, 1, 0, MAX_RECORD_BYTES + 1, 0)]);
  const p3 = new PcapParser();
  feed(p3, huge, 1 << 20);
  assert.equal(p3.error?.code, 'BAD_RECORD');
  assert.equal(p3.error?.offset, 24);
  assert.equal(p3.maxCapLength, MAX_RECORD_BYTES);
});

test('input ending inside a record, a record header, or the file header → TRUNCATED at that offset', () => {
  const input = file();
  const offs = recordOffsets(FRAMES.map((f) => f.data.length));
  const cases: [number, number, number][] = [
    // [cut length, frames delivered, error offset]
    [offs[1]! + 16 + 100, 1, offs[1]!], // inside record 2's data
    [offs[1]! + 5, 1, offs[1]!], // inside record 2's header
    [offs[3]! + 16 + 96, 3, offs[3]!], // one byte short of the end
    [10, 0, 0], // inside the file header
  ];
  for (const [cut, n, at] of cases) {
    for (const c of [1, 3, 1 << 20]) {
      const p = new PcapParser();
      const got = feed(p, input.subarray(0, cut), c);
      assert.equal(got.length, n, `cut ${cut} chunk ${c}`);
      assert.equal(p.error?.code, 'TRUNCATED', `cut ${cut} chunk ${c}`);
      assert.equal(p.error?.offset, at, `cut ${cut} chunk ${c}`);
    }
  }
  // Header only: a valid, empty capture.
  const p = new PcapParser();
  assert.deepEqual(feed(p, input.subarray(0, 24), 1), []);
  assert.equal(p.error, null);
  // Nothing at all.
  const e = new PcapParser();
  e.end();
  assert.equal(e.error?.code, 'EMPTY');
});

test('after an error further input is ignored and push never throws on garbage', () => {
  const rand = rng(42);
  for (let i = 0; i < 300; i++) {
    const body = randomBytes(Math.floor(rand() * 400), rand);
    const input = Buffer.concat([PcapWriter.fileHeader({ bigEndian: rand() < 0.5 }), body]);
    const p = new PcapParser();
    let frames = 0;
    assert.doesNotThrow(() => {
      for (let pos = 0; pos < input.length; pos += 1 + Math.floor(rand() * 50)) {
        p.push(input.subarray(pos, pos + 1 + Math.floor(rand() * 50)), () => frames++);
      }
      p.end();
    });
    assert.equal(frames, p.frames);
  }
  const p = new PcapParser();
  feed(p, Buffer.from('garbage!'), 1);
  let n = 0;
  p.push(file(), () => n++);
  assert.equal(n, 0);
  assert.equal(p.error?.code, 'BAD_MAGIC');
});

test('memory stays bounded: a corrupt huge length fed byte by byte never grows the carry buffer', () => {
  const input = Buffer.concat([PcapWriter.fileHeader(), recordHeader(true, 1, 0, 0xfffffff0, 0xfffffff0), Buffer.alloc(1000)]);
  const p = new PcapParser();
  feed(p, input, 1);
  assert.equal(p.error?.code, 'BAD_RECORD');
  assert.equal(p.error?.offset, 24);
  assert.ok(p.carryCapacity <= 64 * 1024, `carry ${p.carryCapacity}`);

  // A legitimate 200 KB record spanning 1-byte chunks grows the carry once, to about its size.
  const big = payload(5, 200_000);
  const ok = Buffer.concat([PcapWriter.fileHeader(), recordHeader(true, 1, 0, big.length, big.length), big]);
  const p2 = new PcapParser();
  let grows = 0;
  let last = 0;
  const frames: Buffer[] = [];
  for (let i = 0; i < ok.length; i++) {
    p2.push(ok.subarray(i, i + 1), (f) => frames.push(copyFrame(f).bytes));
    if (p2.carryCapacity !== last) {
      grows++;
      last = p2.carryCapacity;
    }
  }
  p2.end();
  assert.equal(p2.error, null);
  assert.deepEqual(frames[0], big);
  assert.ok(grows <= 3, `carry reallocated ${grows} times`);
  assert.ok(last <= 256 * 1024, `carry ${last}`);
});
