import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame } from '../../src/decode/decode.js';
import { ACK, CWR, ECE, FIN, LINKTYPE, PSH, RST, SYN, URG, newTcpPacket, type TcpPacket } from '../../src/decode/packet.js';
import { buildFrame, frameOf, type FrameExtras, type SegmentSpec } from '../helpers/packets.js';

const base: SegmentSpec = {
  src: '10.1.1.1', dst: '10.2.2.2', sport: 65535, dport: 1, seq: 0xfffffffe, ack: 0x80000000, flags: 'P.', win: 0xfffe, len: 50,
};

function decode(spec: SegmentSpec, extras: FrameExtras = {}, out: TcpPacket = newTcpPacket()) {
  const frame = frameOf(buildFrame(spec, { type: 'ethernet' }, extras), LINKTYPE.ETHERNET, { at: 11 });
  const status = decodeFrame(frame, out);
  return { status, out, frame };
}

describe('TCP header', () => {
  it('reads ports, unsigned seq/ack, flags, window and payload bounds', () => {
    const { status, out, frame } = decode(base);
    assert.equal(status, 'ok');
    assert.equal(out.srcPort, 65535);
    assert.equal(out.dstPort, 1);
    assert.equal(out.seq, 0xfffffffe);
    assert.equal(out.ack, 0x80000000);
    assert.equal(out.flags, PSH | ACK);
    assert.equal(out.window, 0xfffe);
    assert.equal(out.payloadLen, 50);
    assert.equal(out.capturedPayloadLen, 50);
    // payloadOffset indexes frame.data (the backing buffer), like frame.dataOffset
    assert.equal(out.payloadOffset, frame.dataOffset + 14 + 20 + 20);
  });

  it('reads every flag bit', () => {
    const cases: [string, number][] = [
      ['S', SYN], ['S.', SYN | ACK], ['F.', FIN | ACK], ['R', RST], ['R.', RST | ACK], ['FP.', FIN | PSH | ACK],
      ['SEW', SYN | ECE | CWR], ['U.', URG | ACK], ['', 0],
    ];
    for (const [letters, bits] of cases) assert.equal(decode({ ...base, flags: letters }).out.flags, bits, letters);
  });

  it('keeps only the low 8 flag bits (the AE/NS bit lives in the data-offset byte)', () => {
    const f = buildFrame(base);
    f[14 + 20 + 12] = (5 << 4) | 1;
    const out = newTcpPacket();
    assert.equal(decodeFrame(frameOf(f, LINKTYPE.ETHERNET), out), 'ok');
    assert.equal(out.flags, PSH | ACK);
  });

  it('data offset < 5 is malformed', () => {
    for (const dataOffset of [0, 4]) assert.equal(decode(base, { dataOffset }).status, 'malformed');
  });

  it('data offset beyond the IP payload is malformed', () => {
    assert.equal(decode({ ...base, len: 0 }, { dataOffset: 6 }).status, 'malformed');
    assert.equal(decode({ ...base, len: 0 }, { dataOffset: 15 }).status, 'malformed');
    // IP says 10 bytes of TCP
    assert.equal(decode(base, { ipLength: 30 }).status, 'malformed');
  });

  it('a frame that ends inside the TCP header is truncated, at every cut', () => {
    const spec = { ...base, options: { mss: 1460, sackPermitted: true, ts: [1, 2] as [number, number], wscale: 7 } };
    const hdrEnd = 14 + 20 + 40;
    for (let cut = 14 + 20; cut < hdrEnd; cut++) assert.equal(decode(spec, { snaplen: cut }).status, 'truncated', `${cut}`);
    assert.equal(decode(spec, { snaplen: hdrEnd }).status, 'ok');
  });

  it('a snaplen cut inside the payload is ok: payloadLen from IP, capturedPayloadLen from the frame', () => {
    const { status, out } = decode({ ...base, len: 1400 }, { snaplen: 96 });
    assert.equal(status, 'ok');
    assert.equal(out.payloadLen, 1400);
    assert.equal(out.capturedPayloadLen, 96 - 54);
  });

  it('Ethernet padding is not payload', () => {
    for (const padByte of [0, 0xff]) {
      const { status, out } = decode({ ...base, flags: 'R.', len: 0 }, { padTo: 60, padByte });
      assert.equal(status, 'ok');
      assert.equal(out.payloadLen, 0);
      assert.equal(out.capturedPayloadLen, 0);
    }
    const small = decode({ ...base, len: 2 }, { padTo: 60 });
    assert.equal(small.out.payloadLen, 2);
    assert.equal(small.out.capturedPayloadLen, 2);
  });

  it('never reads past capLength even when the buffer holds more bytes', () => {
    const full = buildFrame({ ...base, options: { ts: [7, 8] } });
    const out = newTcpPacket();
    // the whole frame sits in the buffer, but capLength stops inside the options
    const frame = frameOf(full, LINKTYPE.ETHERNET, { at: 5 });
    frame.capLength = 14 + 20 + 25;
    assert.equal(decodeFrame(frame, out), 'truncated');
    frame.capLength = 14 + 20 + 32 + 5;
    assert.equal(decodeFrame(frame, out), 'ok');
    assert.equal(out.capturedPayloadLen, 5);
    // capLength beyond the backing buffer is clipped, not read
    frame.capLength = 1 << 20;
    assert.equal(decodeFrame(frame, out), 'ok');
    assert.equal(out.capturedPayloadLen, 50);
    // …which matters when no IP length bounds the frame (TSO, Total Length 0)
    const tso = frameOf(buildFrame(base, { type: 'ethernet' }, { ipLength: 0 }), LINKTYPE.ETHERNET);
    tso.capLength += 1000;
    assert.equal(decodeFrame(tso, out), 'ok');
    assert.equal(out.payloadLen, 50);
  });
});

describe('TCP options', () => {
  it('MSS, window scale, SACK-permitted and timestamps (a SYN)', () => {
    const { status, out } = decode({
      ...base, flags: 'S', len: 0, options: { mss: 1460, sackPermitted: true, ts: [0xfedcba98, 0], wscale: 14 },
    });
    assert.equal(status, 'ok');
    assert.equal(out.mss, 1460);
    assert.equal(out.wscale, 14);
    assert.equal(out.sackPermitted, true);
    assert.equal(out.hasTs, true);
    assert.equal(out.tsVal, 0xfedcba98);
    assert.equal(out.tsEcr, 0);
    assert.equal(out.sackCount, 0);
  });

  it('TCP-MD5 signature option (RFC 2385, kind 19) is recognised; absent it is 0', () => {
    assert.equal(decode({ ...base, options: { md5: true, ts: [1, 2] } }).out.auth, 19);
    assert.equal(decode({ ...base, options: { ts: [1, 2] } }).out.auth, 0);
  });

  it('SACK blocks, one to four, unsigned', () => {
    for (let n = 1; n <= 4; n++) {
      const blocks: [number, number][] = [];
      for (let i = 0; i < n; i++) blocks.push([0xffff0000 + i * 100, 0xffff0000 + i * 100 + 50]);
      // 4 blocks fill 34 of 40 option bytes: no room for timestamps, as in real stacks
      const { status, out } = decode({ ...base, options: n < 4 ? { ts: [1, 2], sack: blocks } : { sack: blocks } });
      assert.equal(status, 'ok');
      assert.equal(out.sackCount, n);
      assert.deepEqual([...out.sack.subarray(0, 2 * n)], blocks.flat());
      assert.equal(out.payloadLen, 50);
    }
  });

  it('a SACK option whose length is not 2 + 8n keeps its whole blocks', () => {
    const opt = [5, 2 + 8 + 3, 0, 0, 0, 7, 0, 0, 0, 9, 1, 2, 3];
    const { status, out } = decode(base, { tcpOptions: Uint8Array.from(opt) });
    assert.equal(status, 'ok');
    assert.equal(out.sackCount, 1);
    assert.deepEqual([...out.sack.subarray(0, 2)], [7, 9]);
  });

  it('unknown options are skipped by length; NOPs are skipped; EOL ends the list', () => {
    // NOP, kind 30 (MPTCP) len 6, NOP, kind 254 len 4, MSS
    const opts = [1, 30, 6, 0, 0, 0, 0, 1, 254, 4, 0, 0, 2, 4, 0x05, 0xb4];
    const { out } = decode(base, { tcpOptions: Uint8Array.from(opts) });
    assert.equal(out.mss, 1460);
    // EOL before MSS: MSS not read
    const eol = decode(base, { tcpOptions: Uint8Array.from([0, 0, 0, 0, 2, 4, 0x05, 0xb4]) });
    assert.equal(eol.status, 'ok');
    assert.equal(eol.out.mss, -1);
  });

  it('a garbage option length stops option parsing without failing the packet', () => {
    // MSS, then window scale with length 0, then timestamps that must not be read
    const zero = [2, 4, 0x05, 0xb4, 3, 0, 7, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 9];
    let r = decode(base, { tcpOptions: Uint8Array.from(zero) });
    assert.equal(r.status, 'ok');
    assert.equal(r.out.mss, 1460);
    assert.equal(r.out.wscale, -1);
    assert.equal(r.out.hasTs, false);
    assert.equal(r.out.payloadLen, 50);
    // length 1, and a length running past the header
    for (const bad of [[3, 1, 7, 1], [8, 40, 0, 0], [2, 4, 0x05, 0xb4, 8]]) {
      r = decode(base, { tcpOptions: Uint8Array.from(bad) });
      assert.equal(r.status, 'ok', JSON.stringify(bad));
      assert.equal(r.out.hasTs, false);
      assert.equal(r.out.wscale, -1);
      assert.equal(r.out.payloadLen, 50);
    }
  });

  it('an option whose length runs past the header is not read from the payload', () => {
    // NOP, NOP, then a timestamps kind/length with its value in the payload
    const { status, out } = decode({ ...base, payload: new Uint8Array(50).fill(9) }, { tcpOptions: Uint8Array.from([1, 1, 8, 10]) });
    assert.equal(status, 'ok');
    assert.equal(out.hasTs, false);
    assert.equal(out.payloadLen, 50);
  });

  it('options with the wrong length for their kind are ignored, and parsing goes on', () => {
    // MSS with length 6, timestamps with length 8, then window scale
    const opts = [2, 6, 0x05, 0xb4, 0, 0, 8, 8, 0, 0, 0, 1, 0, 0, 3, 3, 5, 1];
    const { status, out } = decode(base, { tcpOptions: Uint8Array.from(opts) });
    assert.equal(status, 'ok');
    assert.equal(out.mss, -1);
    assert.equal(out.hasTs, false);
    assert.equal(out.wscale, 5);
  });

  it('option fields are reset between packets decoded into the same struct', () => {
    const out = newTcpPacket();
    decode({ ...base, options: { mss: 1200, wscale: 3, sackPermitted: true, ts: [5, 6], sack: [[1, 2]] } }, {}, out);
    assert.equal(out.hasTs, true);
    assert.equal(out.sackCount, 1);
    const { status } = decode(base, {}, out);
    assert.equal(status, 'ok');
    assert.equal(out.mss, -1);
    assert.equal(out.wscale, -1);
    assert.equal(out.sackPermitted, false);
    assert.equal(out.hasTs, false);
    assert.equal(out.tsVal, 0);
    assert.equal(out.tsEcr, 0);
    assert.equal(out.sackCount, 0);
    // and reset even when the next frame is not decoded
    decode({ ...base, options: { ts: [5, 6] } }, {}, out);
    assert.equal(decode(base, { protocol: 17 }, out).status, 'not-tcp');
    assert.equal(out.hasTs, false);
  });
});
