import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame } from '../../src/decode/decode.js';
import { LINKTYPE, newTcpPacket } from '../../src/decode/packet.js';
import { formatAddress } from '../../src/decode/format.js';
import { buildFrame, frameOf, type FrameExtras, type LinkSpec, type SegmentSpec } from '../helpers/packets.js';

const v4: SegmentSpec = {
  src: '192.0.2.10', dst: '198.51.100.20', sport: 51000, dport: 443, seq: 5, ack: 6, flags: 'P.', len: 100, ttl: 57, ipId: 0xbeef,
  options: { ts: [10, 20] },
};
const v6: SegmentSpec = { ...v4, src: '2001:db8::10', dst: '2001:db8:1::20' };
const ETH: LinkSpec = { type: 'ethernet' };

function decode(spec: SegmentSpec, extras: FrameExtras = {}, link: LinkSpec = ETH) {
  const out = newTcpPacket();
  const linkType = link.type === 'raw' ? LINKTYPE.RAW : LINKTYPE.ETHERNET;
  const status = decodeFrame(frameOf(buildFrame(spec, link, extras), linkType, { at: 3 }), out);
  return { status, out };
}

describe('IPv4', () => {
  it('reads addresses, TTL and identification', () => {
    const { status, out } = decode(v4);
    assert.equal(status, 'ok');
    assert.equal(out.ipVersion, 4);
    assert.equal(formatAddress(4, out.src), '192.0.2.10');
    assert.equal(formatAddress(4, out.dst), '198.51.100.20');
    assert.deepEqual([...out.src.subarray(1)], [0, 0, 0]);
    assert.equal(out.ttl, 57);
    assert.equal(out.ipId, 0xbeef);
  });

  it('skips IPv4 options by IHL', () => {
    // Record Route with room for 2 addresses (11 bytes) + EOL → IHL 8
    const rr = Uint8Array.from([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    const { status, out } = decode(v4, { ipOptions: rr });
    assert.equal(status, 'ok');
    assert.equal(out.srcPort, 51000);
    assert.equal(out.payloadLen, 100);
    assert.equal(out.tsVal, 10);
  });

  it('IHL < 5 and Total Length shorter than the header are malformed', () => {
    assert.equal(decode(v4, { ihl: 4 }).status, 'malformed');
    assert.equal(decode(v4, { ipLength: 19 }).status, 'malformed');
  });

  it('an IHL past the end of the frame is truncated', () => {
    assert.equal(decode(v4, { ihl: 15, snaplen: 14 + 40 }).status, 'truncated');
  });

  it('Total Length 0 (TSO super-packet on the sending host) uses the captured bytes', () => {
    const { status, out } = decode({ ...v4, len: 20000 }, { ipLength: 0 });
    assert.equal(status, 'ok');
    assert.equal(out.payloadLen, 20000);
    assert.equal(out.capturedPayloadLen, 20000);
  });

  it('a first fragment with MF set is decoded; its payload is what this fragment carries', () => {
    const { status, out } = decode(v4, { fragment: { offset: 0, more: true } });
    assert.equal(status, 'ok');
    assert.equal(out.srcPort, 51000);
    assert.equal(out.payloadLen, 100);
  });

  it('non-first fragments are fragment (not decoded)', () => {
    assert.equal(decode(v4, { fragment: { offset: 1480 } }).status, 'fragment');
    assert.equal(decode(v4, { fragment: { offset: 8, more: true } }).status, 'fragment');
  });

  it('a first fragment too short for the TCP header is fragment, not malformed', () => {
    // 12 bytes of TCP header in the first fragment (RFC 1858 tiny fragment)
    const f = decode({ ...v4, len: 0, options: undefined }, { fragment: { offset: 0, more: true }, ipLength: 32 });
    assert.equal(f.status, 'fragment');
    // header with options longer than the fragment
    assert.equal(decode({ ...v4, len: 0 }, { fragment: { offset: 0, more: true }, ipLength: 44 }).status, 'fragment');
  });

  it('fragments of other protocols are not-tcp', () => {
    assert.equal(decode(v4, { fragment: { offset: 1480 }, protocol: 17 }).status, 'not-tcp');
  });

  it('UDP and ICMP are not-tcp; an ICMP error quoting a TCP header is never decoded as TCP', () => {
    assert.equal(decode(v4, { protocol: 17 }).status, 'not-tcp');
    const { status, out } = decode(v4, { icmpQuote: true });
    assert.equal(status, 'not-tcp');
    assert.equal(out.srcPort, 0);
  });

  it('Total Length beyond the captured bytes (snaplen) still gives the IP payload length', () => {
    const { status, out } = decode(v4, { snaplen: 14 + 20 + 32 + 10 });
    assert.equal(status, 'ok');
    assert.equal(out.payloadLen, 100);
    assert.equal(out.capturedPayloadLen, 10);
  });
});

describe('IPv6', () => {
  it('reads addresses as four big-endian words and the hop limit', () => {
    const { status, out } = decode({ ...v6, dst: 'fe80::1:2:3:4' });
    assert.equal(status, 'ok');
    assert.equal(out.ipVersion, 6);
    assert.deepEqual([...out.src], [0x20010db8, 0, 0, 0x10]);
    assert.deepEqual([...out.dst], [0xfe800000, 0, 0x00010002, 0x00030004]);
    assert.equal(out.ttl, 57);
    assert.equal(out.ipId, -1);
  });

  it('walks hop-by-hop, destination options, routing and AH headers to TCP', () => {
    const { status, out } = decode(v6, {
      ipv6Ext: [{ type: 0, size: 16 }, { type: 60 }, { type: 43, size: 24 }, { type: 51, size: 28 }, { type: 60, size: 8 }],
    });
    assert.equal(status, 'ok');
    assert.equal(out.srcPort, 51000);
    assert.equal(out.payloadLen, 100);
    assert.equal(out.hasTs, true);
  });

  it('AH uses its own length rule (4-octet units minus 2)', () => {
    // 12-byte AH without ICV would be mis-skipped by the generic (n+1)*8 rule
    const { status, out } = decode(v6, { ipv6Ext: [{ type: 51, size: 12 }] });
    assert.equal(status, 'ok');
    assert.equal(out.dstPort, 443);
  });

  it('an atomic / first fragment header is walked; non-first fragments are fragment', () => {
    assert.equal(decode(v6, { fragment: { offset: 0, more: false } }).status, 'ok');
    const first = decode(v6, { fragment: { offset: 0, more: true } });
    assert.equal(first.status, 'ok');
    assert.equal(first.out.payloadLen, 100);
    assert.equal(decode(v6, { fragment: { offset: 1232 } }).status, 'fragment');
    assert.equal(decode(v6, { ipv6Ext: [{ type: 0 }, { type: 44 }], fragment: { offset: 8, more: true } }).status,
      'fragment');
    assert.equal(decode(v6, { fragment: { offset: 1232 }, protocol: 17 }).status, 'not-tcp');
  });

  it('ICMPv6, UDP, ESP and No Next Header are not-tcp', () => {
    for (const protocol of [58, 17, 50, 59]) assert.equal(decode(v6, { protocol }).status, 'not-tcp', `${protocol}`);
    assert.equal(decode(v6, { icmpQuote: true }).status, 'not-tcp');
  });

  it('Payload Length 0 with a hop-by-hop jumbo option uses the jumbo length', () => {
    const { status, out } = decode({ ...v6, len: 70000 }, { jumbo: true });
    assert.equal(status, 'ok');
    assert.equal(out.payloadLen, 70000);
    assert.equal(out.capturedPayloadLen, 70000);
  });

  it('a jumbogram cut by the snaplen keeps the jumbo length', () => {
    const { status, out } = decode({ ...v6, len: 70000 }, { jumbo: true, snaplen: 2000 });
    assert.equal(status, 'ok');
    assert.equal(out.payloadLen, 70000);
    assert.equal(out.capturedPayloadLen, 2000 - 14 - 40 - 8 - 32);
  });

  it('Payload Length 0 without a jumbo option (Linux BIG TCP) uses the captured bytes', () => {
    const { status, out } = decode({ ...v6, len: 3000 }, { ipLength: 0 });
    assert.equal(status, 'ok');
    assert.equal(out.payloadLen, 3000);
  });

  it('an extension header longer than the payload is malformed; cut by the capture it is truncated', () => {
    assert.equal(decode({ ...v6, len: 0, options: undefined }, { ipv6Ext: [{ type: 60, size: 16 }], ipLength: 8 }).status,
      'malformed');
    assert.equal(decode(v6, { ipv6Ext: [{ type: 60, size: 64 }], snaplen: 14 + 40 + 30 }).status, 'truncated');
    assert.equal(decode(v6, { snaplen: 14 + 39 }).status, 'truncated');
  });

  it('works on raw links too', () => {
    assert.equal(decode(v6, { ipv6Ext: [{ type: 0 }] }, { type: 'raw' }).status, 'ok');
  });
});
