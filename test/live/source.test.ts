/**
 * The live PacketSource over a stand-in for cap (test/live/fake-cap.cjs, same surface): frames from cap's shared
 * buffer, arrival stamps, --count, abort, original lengths past the snaplen, open failures mapped to one line,
 * and a throwing sink. No root or libpcap needed; the real thing is exercised in live.test.ts.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ArrivalClock, LIVE_SNAPLEN, LiveCaptureError, openLive } from '../../src/capture/live.js';
import type { RawFrame } from '../../src/capture/types.js';
import { buildFrame } from '../helpers/packets.js';

const FAKE = fileURLToPath(new URL('./fake-cap.cjs', import.meta.url));
interface FakeHandle { deliver(b: Uint8Array): boolean; closed: boolean; opened: { device: string; filter: string; bufSize: number } | null }
interface FakeCap { last: FakeHandle | null; openError: string | null; linkType: string }
const fake = (createRequire(import.meta.url)(FAKE) as { Cap: FakeCap }).Cap;

const seg = (sport: number, flags: string, len = 0) =>
  buildFrame({ src: '192.0.2.1', dst: '192.0.2.2', sport, dport: 80, seq: 1, ack: 1, flags, len });

test('frames come from cap\'s shared buffer with arrival stamps, numbered from 1, until --count', async () => {
  fake.openError = null;
  fake.linkType = 'ETHERNET';
  const clock = new ArrivalClock();
  const src = openLive({ device: 'fake0', filter: 'tcp', bufferSize: 1 << 20, count: 3, clock, moduleName: FAKE });
  const cap = fake.last!;
  assert.deepEqual(cap.opened, { device: 'fake0', filter: 'tcp', bufSize: 1 << 20 });
  assert.equal(src.linkType, 1);
  assert.deepEqual(src.info.linkTypes, [1]);
  assert.equal(src.info.format, 'live');
  const seen: { index: number; t: number; bytes: Buffer; sameBuffer: boolean; fileOffset: number }[] = [];
  let firstData: Uint8Array | null = null;
  const run = src.run((f: RawFrame) => {
    firstData ??= f.data;
    seen.push({
      index: f.index, t: f.tsSec + f.tsNsec * 1e-9, bytes: Buffer.from(f.data.subarray(f.dataOffset, f.dataOffset + f.capLength)),
      sameBuffer: f.data === firstData, fileOffset: f.fileOffset,
    });
    assert.equal(f.tsNsec % 1000, 0, 'microsecond stamps');
    assert.equal(f.wireLength, f.capLength);
  });
  const a = seg(1000, 'S');
  const b = seg(1001, 'P.', 100);
  const c = seg(1002, 'F.');
  const before = Date.now() / 1000;
  assert.ok(cap.deliver(a) && cap.deliver(b) && cap.deliver(c));
  assert.equal(cap.deliver(seg(1003, 'R')), false, 'closed after --count');
  const result = await run;
  assert.deepEqual(result, { frames: 3, error: null, warnings: [] });
  assert.equal(src.stopReason, 'count');
  assert.equal(cap.closed, true);
  assert.deepEqual(seen.map((s) => s.index), [1, 2, 3]);
  assert.deepEqual(seen.map((s) => s.bytes), [Buffer.from(a), Buffer.from(b), Buffer.from(c)]);
  assert.ok(seen.every((s) => s.sameBuffer), 'one shared buffer: the sink copies what it keeps');
  assert.ok(seen[0]!.t <= seen[1]!.t && seen[1]!.t <= seen[2]!.t);
  assert.ok(Math.abs(seen[0]!.t - before) < 1);
  // Offsets are where the records sit in the -w file: 24-byte header, 16-byte record headers.
  assert.deepEqual(seen.map((s) => s.fileOffset), [24, 24 + 16 + a.length, 24 + 32 + a.length + b.length]);
  assert.equal(src.bytesRead, 48 + a.length + b.length + c.length);
});

test('abort stops the capture; a frame cut at the snaplen keeps its IP length as the original length', async () => {
  fake.openError = null;
  const src = openLive({ device: 'lo', moduleName: FAKE });
  const cap = fake.last!;
  const ac = new AbortController();
  const wires: [number, number][] = [];
  const run = src.run((f) => wires.push([f.capLength, f.wireLength]), ac.signal);
  // A 65483-byte TCP payload on loopback (MTU 65536): 14 + 20 + 32 + 65483 bytes on the wire, cut to 65535.
  const big = buildFrame({ src: '127.0.0.1', dst: '127.0.0.1', sport: 1, dport: 2, seq: 1, ack: 1, flags: '.', len: 65483 - 12, options: { ts: [1, 2] } });
  assert.ok(big.length > LIVE_SNAPLEN);
  cap.deliver(big.subarray(0, LIVE_SNAPLEN));
  ac.abort();
  const r = await run;
  assert.equal(r.frames, 1);
  assert.equal(src.stopReason, 'signal');
  assert.deepEqual(wires, [[LIVE_SNAPLEN, big.length]]);
  assert.equal(cap.closed, true);
});

test('open failures become one line with the reason; a throwing sink stops the capture and rejects run()', async () => {
  const cases: [string, string, RegExp][] = [
    ['socket: Operation not permitted', 'permission', /^fake0: no permission to capture \(socket: Operation not permitted\): run as root, or .*setcap cap_net_raw,cap_net_admin=eip/],
    ["can't parse filter expression: syntax error", 'bad-filter', /^bad capture filter 'tcp porr 1': can't parse filter expression: syntax error$/],
    ['No such device exists', 'no-device', /^fake0: no such interface/],
    ['fake0: That device is not up', 'open-failed', /^fake0: interface is down/],
  ];
  for (const [message, reason, re] of cases) {
    fake.openError = message;
    assert.throws(() => openLive({ device: 'fake0', filter: 'tcp porr 1', moduleName: FAKE }), (e: unknown) => {
      assert.ok(e instanceof LiveCaptureError);
      assert.equal(e.reason, reason);
      assert.match(e.message, re);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
  fake.openError = null;
  assert.throws(() => openLive({ device: 'td-nosuch0', moduleName: FAKE }), /^LiveCaptureError: td-nosuch0: no such interface \(teardown interfaces lists them: fake0, lo\)$/);

  const src = openLive({ device: 'fake0', moduleName: FAKE });
  const cap = fake.last!;
  const run = src.run(() => { throw new Error('sink bug'); });
  cap.deliver(seg(1, 'S'));
  await assert.rejects(run, /sink bug/);
  assert.equal(cap.closed, true);
});
