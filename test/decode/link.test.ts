import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openCapture } from '../../src/capture/open.js';
import { linkTypeName } from '../../src/model/link-types.js';
import { decodeFrame } from '../../src/decode/decode.js';
import { LINKTYPE, newTcpPacket, type DecodeStatus } from '../../src/decode/packet.js';
import { formatAddress } from '../../src/decode/format.js';
import { buildFrame, frameOf, linkTypeOf, type LinkSpec, type SegmentSpec } from '../helpers/packets.js';

const v4: SegmentSpec = { src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80, seq: 1000, ack: 2000, flags: 'P.', len: 17 };
const v6: SegmentSpec = { ...v4, src: '2001:db8::1', dst: '2001:db8::2' };

function decode(bytes: Uint8Array, linkType: number) {
  const out = newTcpPacket();
  const status = decodeFrame(frameOf(bytes, linkType, { at: 9 }), out);
  return { status, out };
}

const links: LinkSpec[] = [
  { type: 'ethernet' },
  { type: 'ethernet', vlans: [42] },
  { type: 'ethernet', vlans: [100, 200] },
  { type: 'ethernet', vlans: [7, 8, 9], tpids: [0x9100, 0x88a8, 0x8100] },
  { type: 'sll', packetType: 4 },
  { type: 'sll2', packetType: 0 },
  { type: 'null', littleEndian: true },
  { type: 'null', littleEndian: false },
  { type: 'loop' },
  { type: 'raw' },
  { type: 'raw', linkType: 12 },
  { type: 'raw', linkType: 14 },
];

describe('link layers', () => {
  for (const link of links) {
    for (const spec of [v4, v6]) {
      it(`${JSON.stringify(link)} carries ${spec.src}`, () => {
        const { status, out } = decode(buildFrame(spec, link), linkTypeOf(link));
        assert.equal(status, 'ok');
        assert.equal(out.ipVersion, spec === v4 ? 4 : 6);
        assert.equal(formatAddress(out.ipVersion, out.src), spec.src);
        assert.equal(formatAddress(out.ipVersion, out.dst), spec.dst);
        assert.equal(out.srcPort, 40000);
        assert.equal(out.dstPort, 80);
        assert.equal(out.payloadLen, 17);
        assert.equal(out.vlan, link.type === 'ethernet' && link.vlans ? link.vlans[0] : -1);
        assert.equal(out.sllPacketType, link.type === 'sll' || link.type === 'sll2' ? link.packetType : -1);
      });
    }
  }

  it('LINKTYPE_IPV4 and LINKTYPE_IPV6 are raw IP', () => {
    assert.equal(decode(buildFrame(v4, { type: 'ipv4' }), LINKTYPE.IPV4).status, 'ok');
    assert.equal(decode(buildFrame(v6, { type: 'ipv6' }), LINKTYPE.IPV6).out.ipVersion, 6);
  });

  it('NULL accepts every AF_INET6 value in either byte order', () => {
    for (const af6 of [24, 28, 30]) {
      for (const littleEndian of [true, false]) {
        const { status, out } = decode(buildFrame(v6, { type: 'null', littleEndian, af6 }), LINKTYPE.NULL);
        assert.equal(status, 'ok', `af ${af6} le ${littleEndian}`);
        assert.equal(out.ipVersion, 6);
      }
    }
  });

  it('NULL with an unknown address family is not IP', () => {
    const f = buildFrame(v4, { type: 'null', littleEndian: true });
    f[0] = 17; // AF_APPLETALK-ish
    assert.equal(decode(f, LINKTYPE.NULL).status, 'not-ip');
  });

  it('SLL2 reads the packet type at offset 10 and SLL at offset 0', () => {
    assert.equal(decode(buildFrame(v4, { type: 'sll2', packetType: 4 }), LINKTYPE.LINUX_SLL2).out.sllPacketType, 4);
    assert.equal(decode(buildFrame(v4, { type: 'sll', packetType: 3 }), LINKTYPE.LINUX_SLL).out.sllPacketType, 3);
  });

  it('SLL with a VLAN tag re-inserted by libpcap', () => {
    const f = buildFrame(v4, { type: 'sll' });
    // protocol 0x8100, TCI (VID 300), then the original ethertype
    const tagged = Uint8Array.from([...f.subarray(0, 14), 0x81, 0x00, 0x01, 0x2c, 0x08, 0x00, ...f.subarray(16)]);
    const { status, out } = decode(tagged, LINKTYPE.LINUX_SLL);
    assert.equal(status, 'ok');
    assert.equal(out.vlan, 300);
    assert.equal(out.payloadLen, 17);
  });

  it('non-IP ethertypes are not-ip (ARP, LLDP, an 802.3 length field, inside a VLAN)', () => {
    for (const type of [0x0806, 0x88cc, 0x0040]) {
      const f = buildFrame(v4, { type: 'ethernet' });
      f[12] = type >> 8;
      f[13] = type & 0xff;
      assert.equal(decode(f, LINKTYPE.ETHERNET).status, 'not-ip');
    }
    const f = buildFrame(v4, { type: 'ethernet', vlans: [5] });
    f[16] = 0x08;
    f[17] = 0x06;
    const r = decode(f, LINKTYPE.ETHERNET);
    assert.equal(r.status, 'not-ip');
    assert.equal(r.out.vlan, 5);
  });

  it('an ethertype that disagrees with the IP version nibble is malformed', () => {
    const f = buildFrame(v6, { type: 'ethernet' });
    f[12] = 0x08;
    f[13] = 0x00; // says IPv4, carries IPv6
    assert.equal(decode(f, LINKTYPE.ETHERNET).status, 'malformed');
  });

  it('raw IP with a version nibble other than 4 or 6 is malformed', () => {
    const f = buildFrame(v4, { type: 'raw' }, { ipVersion: 5 });
    assert.equal(decode(f, LINKTYPE.RAW).status, 'malformed');
  });

  it('unknown link types are unsupported-link', () => {
    assert.equal(decode(buildFrame(v4, { type: 'raw' }), 147).status, 'unsupported-link');
    assert.equal(decode(buildFrame(v4, { type: 'ethernet' }), 105).status, 'unsupported-link'); // 802.11
  });

  it('frames that end inside the link header or a VLAN tag are truncated', () => {
    const cases: [LinkSpec, number][] = [
      [{ type: 'ethernet' }, 13], [{ type: 'ethernet', vlans: [1, 2] }, 20], [{ type: 'sll' }, 15],
      [{ type: 'sll2' }, 19], [{ type: 'null' }, 3], [{ type: 'loop' }, 0], [{ type: 'raw' }, 0],
    ];
    for (const [link, cut] of cases) {
      const f = buildFrame(v4, link, { snaplen: cut });
      assert.equal(decode(f, linkTypeOf(link)).status, 'truncated', JSON.stringify(link));
    }
  });

  it('vlan and sllPacketType are reset between frames', () => {
    const out = newTcpPacket();
    decodeFrame(frameOf(buildFrame(v4, { type: 'ethernet', vlans: [9] }), LINKTYPE.ETHERNET), out);
    assert.equal(out.vlan, 9);
    decodeFrame(frameOf(buildFrame(v4, { type: 'ethernet' }), LINKTYPE.ETHERNET), out);
    assert.equal(out.vlan, -1);
    decodeFrame(frameOf(buildFrame(v4, { type: 'sll', packetType: 4 }), LINKTYPE.LINUX_SLL), out);
    assert.equal(out.sllPacketType, 4);
    decodeFrame(frameOf(buildFrame(v4, { type: 'raw' }), LINKTYPE.RAW), out);
    assert.equal(out.sllPacketType, -1);
  });
});

describe('ARCNET and IP over InfiniBand', () => {
  const dir = join(import.meta.dirname, 'captures');
  /** [capture, link header length before the IP header of an IP frame]. */
  const CAPTURES: [string, number][] = [
    ['arcnet-rfc1051-arp-icmp-http.pcap', 5], ['arcnet-rfc1201-arp-icmp-http.pcap', 8], ['ipoib.pcap', 44],
  ];

  async function framesOf(name: string): Promise<{ bytes: Uint8Array; linkType: number }[]> {
    const frames: { bytes: Uint8Array; linkType: number }[] = [];
    const res = await openCapture(join(dir, name)).then((s) => s.run((fr) => {
      frames.push({ bytes: fr.data.slice(fr.dataOffset, fr.dataOffset + fr.capLength), linkType: fr.linkType });
    }));
    assert.equal(res.error, null);
    return frames;
  }

  for (const [name, hdr] of CAPTURES) {
    it(`${name}: every frame cut at every length is truncated, or what the whole frame is`, async () => {
      const frames = await framesOf(name);
      const seen = new Set<DecodeStatus>();
      for (const { bytes, linkType } of frames) {
        const whole = decode(bytes, linkType).status;
        seen.add(whole);
        for (let cut = 0; cut <= bytes.length; cut++) {
          const a = newTcpPacket();
          const b = newTcpPacket();
          const fa = frameOf(bytes, linkType, { at: 11, fill: 0x00 });
          const fb = frameOf(bytes, linkType, { at: 11, fill: 0xff });
          fa.capLength = fb.capLength = cut;
          const sa = decodeFrame(fa, a);
          assert.equal(sa, decodeFrame(fb, b), `cut ${cut}`); // no read outside the frame
          assert.deepEqual(a, b, `cut ${cut}`);
          assert.ok(sa === 'truncated' || sa === whole, `cut ${cut} of ${bytes.length}: ${sa}, whole ${whole}`);
          if (cut < hdr) assert.equal(sa, 'truncated', `cut ${cut}: inside the link header`);
          if (whole === 'ok' && cut < hdr + 40) assert.equal(sa, 'truncated', `cut ${cut}: inside the headers`);
          if (whole === 'ok' && cut === bytes.length) assert.equal(a.ipVersion, 4);
        }
      }
      // The captures hold TCP, ICMP/UDP and ARP: every kind of outcome is exercised.
      assert.deepEqual([...seen].sort(), ['not-ip', 'not-tcp', 'ok']);
    });
  }

  const ip4 = buildFrame(v4, { type: 'raw' });
  const ip6 = buildFrame(v6, { type: 'raw' });
  const check = (bytes: Uint8Array, linkType: number, spec: SegmentSpec) => {
    const { status, out } = decode(bytes, linkType);
    assert.equal(status, 'ok');
    assert.equal(formatAddress(out.ipVersion, out.src), spec.src);
    assert.equal(formatAddress(out.ipVersion, out.dst), spec.dst);
    assert.equal(out.seq, 1000);
    assert.equal(out.payloadLen, 17);
  };

  it('Linux ARCNET: RFC 1051 IP (240), RFC 1201 IP (212) and IPv6 (196); other system codes are not IP', () => {
    check(Uint8Array.from([0xbe, 0x50, 0xab, 0x08, 240, ...ip4]), LINKTYPE.ARCNET_LINUX, v4);
    check(Uint8Array.from([0xbe, 0x50, 0xa8, 0xe7, 212, 0, 0x01, 0x66, ...ip4]), LINKTYPE.ARCNET_LINUX, v4);
    check(Uint8Array.from([0xbe, 0x50, 0xa8, 0xe7, 196, 0, 0x01, 0x66, ...ip6]), LINKTYPE.ARCNET_LINUX, v6);
    assert.equal(decode(Uint8Array.from([0xbe, 0x50, 0, 0, 213, 0, 0, 1, ...ip4]), LINKTYPE.ARCNET_LINUX).status, 'not-ip');
    assert.equal(decode(Uint8Array.from([0xbe, 0x50, 0, 0, 0x80, ...ip4]), LINKTYPE.ARCNET_LINUX).status, 'not-ip');
  });

  it('BSD ARCNET: no offset field; exception packets; later fragments carry no IP header', () => {
    check(Uint8Array.from([0xbe, 0x50, 240, ...ip4]), LINKTYPE.ARCNET_BSD, v4);
    check(Uint8Array.from([0xbe, 0x50, 212, 0, 0x01, 0x66, ...ip4]), LINKTYPE.ARCNET_BSD, v4);
    // Exception packet: split flag 0xFF, padding 0xFF 0xFF, then system code, split flag, sequence number.
    const exception = Uint8Array.from([0xbe, 0x50, 212, 0xff, 0xff, 0xff, 196, 0, 0x01, 0x66, ...ip6]);
    check(exception, LINKTYPE.ARCNET_BSD, v6);
    for (let cut = 0; cut < 10; cut++) assert.equal(decode(exception.subarray(0, cut), LINKTYPE.ARCNET_BSD).status, 'truncated');
    // First fragment of three (split flag (3-2)*2+1 = 3) starts with the IP header; the second (flag 2) does not.
    check(Uint8Array.from([0xbe, 0x50, 212, 3, 0x01, 0x66, ...ip4]), LINKTYPE.ARCNET_BSD, v4);
    assert.equal(decode(Uint8Array.from([0xbe, 0x50, 212, 2, 0x01, 0x66, ...ip4]), LINKTYPE.ARCNET_BSD).status, 'not-ip');
  });

  it('IPoIB: the Ethernet type at offset 40, the IP header at 44', () => {
    const head = new Uint8Array(40);
    head.set([0x80, 0x00, 0x05, 0x50, 0xfe, 0x80], 20);
    check(Uint8Array.from([...head, 0x86, 0xdd, 0, 0, ...ip6]), LINKTYPE.IPOIB, v6);
    check(Uint8Array.from([...head, 0x08, 0x00, 0, 0, ...ip4]), LINKTYPE.IPOIB, v4);
    assert.equal(decode(Uint8Array.from([...head, 0x08, 0x06, 0, 0, ...ip4]), LINKTYPE.IPOIB).status, 'not-ip'); // ARP
  });

  it('link type names', () => {
    assert.equal(linkTypeName(LINKTYPE.ARCNET_LINUX), 'Linux ARCNET');
    assert.equal(linkTypeName(LINKTYPE.ARCNET_BSD), 'ARCNET');
    assert.equal(linkTypeName(LINKTYPE.IPOIB), 'IPoIB');
  });
});
