import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapParser } from '../../src/capture/pcap.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { feed, payload } from './util.js';

test('file header: magic, version 2.4, snaplen, link type in the chosen byte order', () => {
  const le = PcapWriter.fileHeader({ linkType: 113, snaplen: 1234 });
  assert.equal(le.toString('hex', 0, 8), 'd4c3b2a102000400');
  assert.equal(le.readUInt32LE(16), 1234);
  assert.equal(le.readUInt32LE(20), 113);
  const be = PcapWriter.fileHeader({ nanosecond: true, bigEndian: true });
  assert.equal(be.toString('hex', 0, 8), 'a1b23c4d00020004');
  assert.equal(be.readUInt32BE(16), 262144);
  assert.equal(be.readUInt32BE(20), 1);
});

test('round trip through the reader: µs floors nanoseconds, ns keeps them, snaplen cuts, wire length kept', () => {
  const frames = [
    { tsSec: 5, tsNsec: 999_999_999, data: payload(1, 100) },
    { tsSec: 6, tsNsec: 1_999, data: payload(2, 3000), wireLength: 9000 },
  ];
  for (const nanosecond of [false, true]) {
    for (const bigEndian of [false, true]) {
      const got = feed(new PcapParser(), PcapWriter.toBuffer(frames, { nanosecond, bigEndian, snaplen: 2000 }), 1 << 20);
      assert.deepEqual(
        got.map((f) => [f.tsSec, f.tsNsec, f.capLength, f.wireLength]),
        [
          [5, nanosecond ? 999_999_999 : 999_999_000, 100, 100],
          [6, nanosecond ? 1_999 : 1_000, 2000, 9000],
        ],
      );
      assert.deepEqual(got[1]!.bytes, frames[1]!.data.subarray(0, 2000));
    }
  }
});

test('streams get copies (the batch buffer is reused); frames bigger than the batch pass through', () => {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter({ write: (c: Uint8Array) => chunks.push(c) }, { snaplen: 200_000 });
  const data = payload(3, 100);
  w.writeFrame(1, 0, data);
  data.fill(0); // caller reuses its buffer
  w.writeFrame(2, 0, payload(4, 150_000));
  for (let i = 0; i < 2000; i++) w.writeFrame(3, i, payload(i, 60));
  w.close();
  assert.equal(w.framesWritten, 2002);
  const got = feed(new PcapParser(), Buffer.concat(chunks), 1 << 20);
  assert.equal(got.length, 2002);
  assert.deepEqual(got[0]!.bytes, payload(3, 100));
  assert.deepEqual(got[1]!.bytes, payload(4, 150_000));
  assert.deepEqual(got[2001]!.bytes, payload(1999, 60));
  assert.equal(w.bytesWritten, Buffer.concat(chunks).length);
  assert.throws(() => w.writeFrame(1, 0, data), /after close/);
});

test('createFile writes a readable file; writeRawFrame copies a reader frame in place', () => {
  const dir = mkdtempSync(join(tmpdir(), 'teardown-writer-'));
  try {
    const src = PcapWriter.toBuffer([
      { tsSec: 1, tsNsec: 2000, data: payload(1, 70) },
      { tsSec: 3, tsNsec: 4000, data: payload(2, 80), wireLength: 1500 },
    ]);
    const path = join(dir, 'out.pcap');
    const w = PcapWriter.createFile(path, { linkType: 1 });
    new PcapParser().push(src, (f) => w.writeRawFrame(f));
    w.close();
    assert.deepEqual(readFileSync(path), src);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
