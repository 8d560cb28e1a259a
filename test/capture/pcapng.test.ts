import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcapngParser } from '../../src/capture/pcapng.js';
import { PcapngBuilder } from '../helpers/pcapng-writer.js';
import { CHUNKINGS, feed, payload, rng } from './util.js';

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;

/** Reference conversion with BigInt: floor division, as the reader must do. */
function refTs(ts: bigint, resol: number, offset = 0n): [number, number] {
  const units = (resol & 0x80) !== 0 ? 1n << BigInt(resol & 0x7f) : 10n ** BigInt(resol);
  return [Number(ts / units + offset), Number(((ts % units) * 1_000_000_000n) / units)];
}

function parse(input: Uint8Array, chunking: Parameters<typeof feed>[2] = 1 << 20): { p: PcapngParser; frames: ReturnType<typeof feed> } {
  const p = new PcapngParser('t.pcapng');
  const frames = feed(p, input, chunking);
  return { p, frames };
}

test('one section, default µs resolution: EPB fields, offsets, options after the data', () => {
  const b = new PcapngBuilder().shb().idb(LINKTYPE_ETHERNET, { snaplen: 65535 });
  const ts = 1_700_000_000_123_456n;
  b.epb(0, ts, payload(1, 61), { origLength: 1514 });
  b.epb(0, ts + 1_000_000n, payload(2, 60), { options: [{ code: 1, value: Buffer.from('a comment') }] });
  const { p, frames } = parse(b.build());
  assert.equal(p.error, null);
  assert.equal(p.sections, 1);
  assert.deepEqual(p.linkTypes, [LINKTYPE_ETHERNET]);
  assert.deepEqual(
    frames.map((f) => [f.index, f.tsSec, f.tsNsec, f.linkType, f.interfaceId, f.capLength, f.wireLength, f.fileOffset]),
    [
      [1, 1_700_000_000, 123_456_000, 1, 0, 61, 1514, b.offsets[2]],
      [2, 1_700_000_001, 123_456_000, 1, 0, 60, 60, b.offsets[3]],
    ],
  );
  assert.deepEqual(frames[0]!.bytes, payload(1, 61));
  assert.deepEqual(frames[1]!.bytes, payload(2, 60));
});

test('big-endian section reads the same as little-endian', () => {
  const build = (bigEndian: boolean): Buffer =>
    new PcapngBuilder()
      .shb({ bigEndian })
      .idb(LINKTYPE_RAW, { tsresol: 9, tsoffset: -5 })
      .epb(0, 1_700_000_000_987_654_321n, payload(3, 40))
      .isb(0, 0, { ifdrop: 7 })
      .build();
  const le = parse(build(false));
  const be = parse(build(true));
  assert.equal(be.p.error, null);
  assert.deepEqual(be.frames, le.frames);
  assert.deepEqual(be.frames.map((f) => [f.tsSec, f.tsNsec, f.linkType]), [[1_699_999_995, 987_654_321, LINKTYPE_RAW]]);
  assert.equal(be.p.drops, 7);
});

test('two interfaces with different link types and resolutions (ns and 2^-20)', () => {
  const b = new PcapngBuilder()
    .shb()
    .idb(LINKTYPE_ETHERNET, { tsresol: 9 })
    .idb(LINKTYPE_LINUX_SLL, { tsresol: 0x80 | 20 });
  const tNs = 1_700_000_000_000_000_001n; // > 2^53: must not go through a double
  const tBin = (1_700_000_000n << 20n) + 524_289n; // half a second and one unit
  b.epb(0, tNs, payload(1, 20)).epb(1, tBin, payload(2, 30)).epb(0, tNs + 999_999_999n, payload(3, 10));
  const { p, frames } = parse(b.build());
  assert.equal(p.error, null);
  assert.deepEqual(p.linkTypes, [LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL]);
  assert.deepEqual(
    frames.map((f) => [f.interfaceId, f.linkType, f.tsSec, f.tsNsec]),
    [
      [0, LINKTYPE_ETHERNET, 1_700_000_000, 1],
      [1, LINKTYPE_LINUX_SLL, 1_700_000_000, 500_000_953], // 524289 / 2^20 s = 0.500000953674… → rounded down
      [0, LINKTYPE_ETHERNET, 1_700_000_001, 0],
    ],
  );
});

test('timestamp conversion is exact for every resolution, up to 2^64-1 units', () => {
  const rand = rng(9);
  const resolutions = [0, 1, 3, 6, 9, 12, 18, 0x80, 0x80 | 1, 0x80 | 9, 0x80 | 10, 0x80 | 20, 0x80 | 30, 0x80 | 32, 0x80 | 40, 0x80 | 64];
  const stamps = [0n, 1n, (1n << 32n) - 1n, 1n << 32n, (1n << 53n) + 1n, (1n << 64n) - 1n, 1_700_000_000_123_456_789n];
  for (let i = 0; i < 40; i++) stamps.push((BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32)));
  for (const resol of resolutions) {
    for (const offset of [0n, -3600n, 86_400n]) {
      const b = new PcapngBuilder().shb().idb(LINKTYPE_ETHERNET, { tsresol: resol, tsoffset: offset });
      for (const ts of stamps) b.epb(0, ts, payload(0, 4));
      const { p, frames } = parse(b.build());
      assert.equal(p.error, null);
      frames.forEach((f, i) => {
        const [sec, ns] = refTs(stamps[i]!, resol, offset);
        // Seconds beyond 2^53 (only 1-second-ish resolutions get there) cannot be held by a number.
        if (!Number.isSafeInteger(refTs(stamps[i]!, resol)[0])) return;
        assert.deepEqual([f.tsSec, f.tsNsec], [sec, ns], `resol 0x${resol.toString(16)} ts ${stamps[i]} offset ${offset}`);
        assert.ok(f.tsNsec >= 0 && f.tsNsec < 1e9);
      });
    }
  }
});

test('several sections: interface ids restart, byte order may change, ids in frames are file-wide', () => {
  const b = new PcapngBuilder()
    .shb()
    .idb(LINKTYPE_ETHERNET)
    .epb(0, 1_000_000n, payload(1, 14))
    .shb({ bigEndian: true })
    .idb(LINKTYPE_RAW, { tsresol: 3 })
    .idb(LINKTYPE_ETHERNET)
    .epb(0, 2_000n, payload(2, 20))
    .epb(1, 3_000_000n, payload(3, 20));
  const { p, frames } = parse(b.build(), 'random');
  assert.equal(p.error, null);
  assert.equal(p.sections, 2);
  assert.deepEqual(p.linkTypes, [LINKTYPE_ETHERNET, LINKTYPE_RAW]);
  assert.deepEqual(
    frames.map((f) => [f.interfaceId, f.linkType, f.tsSec]),
    [
      [0, LINKTYPE_ETHERNET, 1],
      [1, LINKTYPE_RAW, 2],
      [2, LINKTYPE_ETHERNET, 3],
    ],
  );
  // The first section's interface 1 does not exist in section 2's numbering… and vice versa.
  const bad = new PcapngBuilder().shb().idb(1).idb(1).shb().idb(1).epb(1, 0n, payload(0, 4));
  const r = parse(bad.build());
  assert.equal(r.p.error?.code, 'BAD_RECORD');
  assert.equal(r.p.error?.offset, bad.offsets[5]);
  assert.match(r.p.error!.message, /interface 1/);
});

test('SPB: interface 0, previous timestamp, captured = min(original, snaplen, room)', () => {
  const b = new PcapngBuilder()
    .shb()
    .idb(LINKTYPE_ETHERNET, { snaplen: 50, tsresol: 9 })
    .spb(payload(1, 40)) // before any timestamp: 0
    .epb(0, 5_000_000_007n, payload(2, 44))
    .spb(payload(3, 48), { origLength: 1500 }) // snaplen does not cut 48; orig 1500 → room (48) wins
    .spb(payload(4, 64)) // snaplen 50 wins
    .spb(payload(5, 30), { origLength: 21 }); // original length shorter than the padded room
  const { p, frames } = parse(b.build(), 3);
  assert.equal(p.error, null);
  assert.deepEqual(
    frames.map((f) => [f.tsSec, f.tsNsec, f.capLength, f.wireLength, f.interfaceId]),
    [
      [0, 0, 40, 40, 0],
      [5, 7, 44, 44, 0],
      [5, 7, 48, 1500, 0],
      [5, 7, 50, 64, 0],
      [5, 7, 21, 21, 0],
    ],
  );
  assert.deepEqual(frames[3]!.bytes, payload(4, 64).subarray(0, 50));
  // An SPB needs interface 0.
  const orphan = new PcapngBuilder().shb().spb(payload(0, 8));
  const r = parse(orphan.build());
  assert.equal(r.p.error?.code, 'BAD_RECORD');
  assert.equal(r.p.error?.offset, orphan.offsets[1]);
});

test('obsolete Packet Block (type 2) is read like an EPB', () => {
  const b = new PcapngBuilder().shb().idb(LINKTYPE_RAW).idb(LINKTYPE_ETHERNET, { tsresol: 9 });
  b.opb(1, 1_500_000_000_000_000_042n, payload(7, 33), { origLength: 99, drops: 3 });
  const { p, frames } = parse(b.build(), 5);
  assert.equal(p.error, null);
  assert.deepEqual(
    frames.map((f) => [f.interfaceId, f.linkType, f.tsSec, f.tsNsec, f.capLength, f.wireLength]),
    [[1, LINKTYPE_ETHERNET, 1_500_000_000, 42, 33, 99]],
  );
  assert.deepEqual(frames[0]!.bytes, payload(7, 33));
});

test('ISB isb_ifdrop: latest count per interface, summed over interfaces', () => {
  const b = new PcapngBuilder().shb().idb(1).idb(1);
  assert.equal(parse(b.build()).p.drops, null);
  b.isb(0, 0, { ifdrop: 10, options: [{ code: 4, value: Buffer.alloc(8) }] }) // isb_ifrecv first
    .isb(1, 0, { ifdrop: 5 })
    .isb(0, 0, { ifdrop: 12 }) // cumulative: replaces 10
    .isb(1, 0); // no ifdrop option
  const { p } = parse(b.build(), 7);
  assert.equal(p.error, null);
  assert.equal(p.drops, 17);
});

test('unknown block types are skipped with one warning per type; known unused blocks silently', () => {
  const b = new PcapngBuilder()
    .shb()
    .idb(1)
    .block(0x99, Buffer.alloc(8))
    .block(4, Buffer.alloc(4)) // Name Resolution Block
    .epb(0, 0n, payload(1, 10))
    .block(0x99, Buffer.alloc(12))
    .block(0x80000077, Buffer.alloc(0))
    .block(0x0a, Buffer.alloc(16)) // Decryption Secrets Block
    .epb(0, 1n, payload(2, 10));
  const { p, frames } = parse(b.build(), 'random');
  assert.equal(p.error, null);
  assert.equal(frames.length, 2);
  assert.equal(p.warnings.length, 2);
  assert.match(p.warnings[0]!, new RegExp(`0x00000099.*byte ${b.offsets[2]}`));
  assert.match(p.warnings[1]!, /0x80000077/);
});

test('block length checks → BAD_RECORD at the block offset, frames before it delivered', () => {
  const cases: [string, (b: PcapngBuilder) => PcapngBuilder, RegExp][] = [
    ['total < 12', (b) => b.block(0x99, Buffer.alloc(4), { totalLength: 8 }), /less than 12/],
    ['not a multiple of 4', (b) => b.block(0x99, Buffer.alloc(4), { totalLength: 18 }), /multiple of 4/],
    ['trailer differs', (b) => b.epb(0, 0n, payload(0, 8), { trailerLength: 44 }), /trailer length 44/],
    ['over 64 MiB', (b) => b.epb(0, 0n, payload(0, 8), { totalLength: 0x7ffffff0 }), /limit/],
    ['caplen beyond the block', (b) => b.epb(0, 0n, payload(0, 8), { capLength: 9 }), /9 captured bytes/],
    ['EPB too short', (b) => b.block(6, Buffer.alloc(8)), /at least 32/],
    ['ISB too short', (b) => b.block(5, Buffer.alloc(4)), /at least 24/],
    ['undefined interface', (b) => b.epb(2, 0n, payload(0, 8)), /interface 2.*2 interface/],
  ];
  for (const [name, corrupt, message] of cases) {
    for (const bigEndian of [false, true]) {
      const b = new PcapngBuilder().shb({ bigEndian }).idb(1).idb(1).epb(0, 0n, payload(1, 20)).epb(1, 0n, payload(2, 20));
      const at = b.nextOffset;
      corrupt(b).epb(0, 0n, payload(3, 20));
      for (const c of [1, 13, 1 << 20]) {
        const { p, frames } = parse(b.build(), c);
        assert.equal(frames.length, 2, `${name} chunk ${c}`);
        assert.equal(p.error?.code, 'BAD_RECORD', name);
        assert.equal(p.error?.offset, at, name);
        assert.match(p.error!.message, message, name);
      }
    }
  }
});

test('section header checks: byte-order magic, version, first block', () => {
  const badBom = new PcapngBuilder().shb({ byteOrderMagic: Buffer.from([1, 2, 3, 4]) }).build();
  const r1 = parse(badBom);
  assert.equal(r1.p.error?.code, 'BAD_HEADER');
  assert.equal(r1.p.error?.offset, 0);

  const v2 = new PcapngBuilder().shb().idb(1).epb(0, 0n, payload(0, 4)).shb({ major: 2 }).build();
  const r2 = parse(v2, 1);
  assert.equal(r2.frames.length, 1);
  assert.equal(r2.p.error?.code, 'BAD_HEADER');
  assert.match(r2.p.error!.message, /version 2\.0/);

  const noShb = new PcapngBuilder().idb(1).build();
  const r3 = parse(noShb);
  assert.equal(r3.p.error?.code, 'BAD_MAGIC');
  assert.equal(r3.p.error?.offset, 0);
});

test('input ending inside a block → TRUNCATED at that block; a cut exactly between blocks is fine', () => {
  const b = new PcapngBuilder().shb().idb(1).epb(0, 0n, payload(1, 100)).epb(0, 1n, payload(2, 100));
  const input = b.build();
  const third = b.offsets[3]!;
  for (const c of [1, 7, 1 << 20]) {
    for (const cut of [third + 3, third + 12, third + 50, input.length - 1]) {
      const { p, frames } = parse(input.subarray(0, cut), c);
      assert.equal(frames.length, 1, `cut ${cut}`);
      assert.equal(p.error?.code, 'TRUNCATED');
      assert.equal(p.error?.offset, third);
    }
    const whole = parse(input.subarray(0, third), c);
    assert.equal(whole.p.error, null);
    assert.equal(whole.frames.length, 1);
    const inShb = parse(input.subarray(0, 20), c);
    assert.equal(inShb.p.error?.code, 'TRUNCATED');
    assert.equal(inShb.p.error?.offset, 0);
  }
});

test('every chunking yields the same frames (multi-section, mixed byte orders, all packet blocks)', () => {
  const b = new PcapngBuilder()
    .shb()
    .idb(LINKTYPE_ETHERNET, { tsresol: 9 })
    .idb(LINKTYPE_RAW, { tsresol: 0x80 | 32 })
    .epb(0, 1_700_000_000_000_000_000n, payload(1, 77))
    .epb(1, 7n << 32n, payload(2, 1514))
    .block(0x1234, Buffer.alloc(20))
    .shb({ bigEndian: true })
    .idb(LINKTYPE_LINUX_SLL)
    .spb(payload(3, 55))
    .opb(0, 42_000_000n, payload(4, 3))
    .epb(0, 43_000_000n, payload(5, 999))
    .isb(0, 0, { ifdrop: 1 });
  const input = b.build();
  const whole = parse(input, input.length);
  assert.equal(whole.p.error, null);
  assert.equal(whole.frames.length, 5);
  for (const c of CHUNKINGS) {
    const r = parse(input, c);
    assert.equal(r.p.error, null, `chunking ${c}`);
    assert.deepEqual(r.frames, whole.frames, `chunking ${c}`);
    assert.deepEqual(r.p.warnings, whole.p.warnings);
    assert.equal(r.p.drops, 1);
  }
});

test('memory stays bounded: a huge block length fed byte by byte fails at once without allocating', () => {
  const b = new PcapngBuilder().shb().idb(1).epb(0, 0n, payload(0, 8), { totalLength: 0xfffffff0 });
  const p = new PcapngParser();
  feed(p, Buffer.concat([b.build(), Buffer.alloc(4096)]), 1);
  assert.equal(p.error?.code, 'BAD_RECORD');
  assert.equal(p.error?.offset, b.offsets[2]);
  assert.ok(p.carryCapacity <= 64 * 1024, `carry ${p.carryCapacity}`);
});

test('memory follows the bytes that arrived: a 67-byte file whose section header claims 16 MB allocates 64 KiB (fuzz regression)', () => {
  // Found by the pcapng fuzz target as a slow unit: the carry buffer grew straight to the claimed block size.
  const input = readFileSync(new URL('../fuzz/regressions/pcapng/slow-unit-huge-block-length', import.meta.url));
  assert.equal(input.length, 67);
  const p = new PcapngParser();
  p.push(input, () => {});
  assert.ok(p.carryCapacity <= 64 * 1024, `carry ${p.carryCapacity}`);
  p.end();
  assert.equal(p.error?.code, 'TRUNCATED');
});

test('push never throws on garbage after a valid section header', () => {
  const rand = rng(3);
  const head = new PcapngBuilder().shb().idb(1).build();
  for (let i = 0; i < 300; i++) {
    const junk = Buffer.alloc(Math.floor(rand() * 300));
    for (let k = 0; k < junk.length; k++) junk[k] = rand() < 0.3 ? 0 : Math.floor(rand() * 256);
    const p = new PcapngParser();
    let n = 0;
    assert.doesNotThrow(() => {
      const input = Buffer.concat([head, junk]);
      for (let pos = 0; pos < input.length; pos += 9) p.push(input.subarray(pos, pos + 9), () => n++);
      p.end();
    });
    assert.equal(n, p.frames);
  }
});
