/**
 * Encapsulations on real captures: every frame of the tcpdump test captures in test/decode/captures/ decoded by us
 * and dissected by tshark (captures/tshark.json, written by captures/tshark-fields.ts) must agree on every tunnel
 * id (VLAN ids, MPLS labels, PPPoE sessions, GRE keys, ERSPAN sessions, VXLAN and GENEVE VNIs), on the IP headers
 * we walked through, and on the inner TCP header (ports, raw numbers, flags, length); the link-type captures (ARCNET,
 * IPoIB) are checked the same way. Hand-built packets (test/helpers/encap.ts) cover what no capture
 * here holds: IP-in-IP in every combination, Teredo indications, PPTP, GRE routing, MPLS pseudowires, nesting.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openCapture } from '../../src/capture/open.js';
import { decodeFrame } from '../../src/decode/decode.js';
import { formatAddress } from '../../src/decode/format.js';
import { describeLayers, encapText } from '../../src/decode/describe.js';
import { LAYER, LINKTYPE, MAX_NESTING, newTcpPacket, type DecodeStatus, type TcpPacket } from '../../src/decode/packet.js';
import { buildFrame, frameOf, type SegmentSpec } from '../helpers/packets.js';
import {
  erspanII, erspanIII, ether, geneve, gre, gtpU, ipv4, ipv6, l2tp, mpls, ppp, pppoe, teredo, udp, vxlan, vxlanGpe,
} from '../helpers/encap.js';

const dir = join(import.meta.dirname, 'captures');
interface TsharkFrame { frame: number; protocols: string; fields: Record<string, string[]> }
const oracle = JSON.parse(readFileSync(join(dir, 'tshark.json'), 'utf8')) as Record<string, { frames: TsharkFrame[] }>;

/** Our decode of a frame in the shape of the tshark fields compared. */
function fields(p: TcpPacket, st: DecodeStatus): Record<string, string[]> {
  const f: Record<string, string[]> = {};
  const add = (k: string, v: string | number) => { (f[k] ??= []).push(String(v)); };
  const addIp = (v: 4 | 6, src: ArrayLike<number>, dst: ArrayLike<number>) => {
    add(v === 4 ? 'ip.src' : 'ipv6.src', formatAddress(v, src));
    add(v === 4 ? 'ip.dst' : 'ipv6.dst', formatAddress(v, dst));
  };
  for (let i = 0; i < p.layers; i++) {
    const id = p.layerId[i]!;
    const aux = p.layerAux[i]!;
    switch (p.layerKind[i]) {
      case LAYER.VLAN: add('vlan.id', id); break;
      case LAYER.MPLS: add('mpls.label', id); break;
      case LAYER.PPPOE: add('pppoe.session_id', id); break;
      case LAYER.IP: addIp(aux === 6 ? 6 : 4, p.layerAddr.subarray(8 * i, 8 * i + 4), p.layerAddr.subarray(8 * i + 4, 8 * i + 8)); break;
      case LAYER.GRE:
        add('gre.flags.version', (aux >>> 16) & 7);
        if (((aux >>> 16) & 7) === 1) add('gre.key.call_id', id);
        else if (((aux >>> 16) & 0x2000) !== 0) add('gre.key', id);
        break;
      case LAYER.ERSPAN:
        add('gre.flags.version', 0);
        if (aux >>> 16 !== 0) { add('erspan.version', aux >>> 16); add('erspan.spanid', id); }
        break;
      case LAYER.VXLAN: add('vxlan.vni', id); break;
      case LAYER.GENEVE: add('geneve.vni', id); break;
      default: break;
    }
  }
  if (st === 'ok') {
    addIp(p.ipVersion, p.src, p.dst);
    add('tcp.srcport', p.srcPort); add('tcp.dstport', p.dstPort); add('tcp.seq_raw', p.seq); add('tcp.ack_raw', p.ack);
    add('tcp.flags', p.flags);
    add('tcp.len', p.payloadLen);
  }
  return f;
}

const num = (s: string) => String(Number(s)); // tshark prints some ids in hex (0x00000a)
const ADDRESS_FIELDS = ['ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst'];
const TCP_FIELDS = ['tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags', 'tcp.len'];

describe('encapsulations on real captures, against tshark', () => {
  for (const [name, { frames }] of Object.entries(oracle)) {
    it(name, async () => {
      const pkt = newTcpPacket();
      const got: { st: DecodeStatus; f: Record<string, string[]> }[] = [];
      const res = await openCapture(join(dir, name)).then((s) => s.run((fr) => {
        const st = decodeFrame(fr, pkt);
        got.push({ st, f: fields(pkt, st) });
      }));
      assert.equal(res.error, null);
      assert.equal(got.length, frames.length, 'frame count');
      let tcp = 0;
      frames.forEach((t, i) => {
        const { st, f } = got[i]!;
        const at = `frame ${t.frame} (${t.protocols}, ours ${st})`;
        // TCP as tshark sees it, unless inside an ICMP error (quoted headers are never a segment).
        const isTcp = t.fields['tcp.srcport'] !== undefined && !/icmp/.test(t.protocols);
        assert.equal(st === 'ok', isTcp, `${at}: TCP`);
        if (isTcp) {
          tcp++;
          for (const k of TCP_FIELDS) {
            // tshark's tcp.flags has 12 bits; the decoder keeps the 8 of byte 13 (not the AE bit).
            const want = k === 'tcp.flags' ? t.fields[k]?.map((x) => String(Number(x) & 0xff)) : t.fields[k]?.map(num);
            assert.deepEqual(f[k]?.map(num), want, `${at}: ${k}`);
          }
        }
        for (const [k, want] of Object.entries(t.fields)) {
          if (TCP_FIELDS.includes(k)) continue;
          if (k === 'pppoe.session_id' && /pppoed/.test(t.protocols)) continue; // discovery stage: no session yet
          const mine = f[k] ?? [];
          if (ADDRESS_FIELDS.includes(k)) {
            // Every IP header we walked through, in order; tshark may go further (into ICMP, or past where we stop).
            assert.deepEqual(mine, want.slice(0, mine.length), `${at}: ${k}`);
            if (isTcp) assert.equal(mine.length, want.length, `${at}: ${k}: all IP headers`);
          } else {
            assert.deepEqual(mine.map(num), want.map(num), `${at}: ${k}`);
          }
        }
        for (const k of Object.keys(f)) assert.ok(k in t.fields, `${at}: we found ${k} ${f[k]!.join(',')}, tshark did not`);
      });
      if (frames.some((t) => t.fields['tcp.srcport'] && !/icmp/.test(t.protocols))) assert.ok(tcp > 0);
    });
  }

  it('the captures cover every encapsulation with a real capture', () => {
    const all = Object.values(oracle).flatMap((o) => o.frames.map((f) => f.protocols)).join(' ');
    for (const p of [':vlan:', ':mpls:', ':pppoes:', ':gre:', ':erspan:', ':vxlan:', ':geneve:', 'ppp:ip', 'arcnet:ip:tcp', 'ipoib:ip:tcp']) {
      assert.ok(all.includes(p), p);
    }
  });
});

const v4: SegmentSpec = { src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80, seq: 1000, ack: 2000, flags: 'P.', len: 10 };
const v6: SegmentSpec = { ...v4, src: '2001:db8::1', dst: '2001:db8::2' };
const in4 = buildFrame(v4, { type: 'raw' });
const in6 = buildFrame(v6, { type: 'raw' });
const eth4 = ether(0x0800, in4);
const T4 = '192.0.2.1';
const T4b = '192.0.2.2';
const T6 = '2001:db8:ffff::1';
const T6b = '2001:db8:ffff::2';

/** [name, link type, frame bytes, the inner spec, the encapsulation text]. */
const HAND_BUILT: [string, number, Uint8Array, SegmentSpec, string][] = [
  ['4in4 (IP-in-IP)', LINKTYPE.ETHERNET, ether(0x0800, ipv4(T4, T4b, 4, in4)), v4, `ipv4 ${T4}→${T4b}`],
  ['6in4', LINKTYPE.ETHERNET, ether(0x0800, ipv4(T4, T4b, 41, in6)), v6, `ipv4 ${T4}→${T4b}`],
  ['4in6', LINKTYPE.ETHERNET, ether(0x86dd, ipv6(T6, T6b, 4, in4)), v4, `ipv6 ${T6}→${T6b}`],
  ['6in6', LINKTYPE.ETHERNET, ether(0x86dd, ipv6(T6, T6b, 41, in6)), v6, `ipv6 ${T6}→${T6b}`],
  ['GRE with checksum, key and sequence number', LINKTYPE.ETHERNET,
    ether(0x0800, ipv4(T4, T4b, 47, gre({ proto: 0x0800, checksum: true, key: 77, seq: 9 }, in4))), v4, `ipv4 ${T4}→${T4b} › gre key 77`],
  ['GRE with RFC 1701 routing', LINKTYPE.ETHERNET, ether(0x0800, ipv4(T4, T4b, 47, gre({ proto: 0x86dd, routing: true }, in6))), v6, `ipv4 ${T4}→${T4b} › gre`],
  ['GRE over IPv6, Ethernet inside (0x6558)', LINKTYPE.ETHERNET,
    ether(0x86dd, ipv6(T6, T6b, 47, gre({ proto: 0x6558, key: 1 }, ether(0x0800, in4, [30])))), v4, `ipv6 ${T6}→${T6b} › gre key 1 › vlan 30`],
  ['PPTP enhanced GRE, PPP inside', LINKTYPE.ETHERNET,
    ether(0x0800, ipv4(T4, T4b, 47, gre({ proto: 0x880b, seq: 3, pptp: { call: 4242, ack: 2 } }, ppp(0x0021, in4)))), v4, `ipv4 ${T4}→${T4b} › pptp call 4242`],
  ['ERSPAN II', LINKTYPE.ETHERNET, ether(0x0800, ipv4(T4, T4b, 47, erspanII(100, 10, eth4))), v4, `ipv4 ${T4}→${T4b} › erspan II session 100`],
  ['ERSPAN III with platform sub-header', LINKTYPE.ETHERNET, ether(0x0800, ipv4(T4, T4b, 47, erspanIII(7, eth4, true))), v4, `ipv4 ${T4}→${T4b} › erspan III session 7`],
  ['VXLAN over IPv6', LINKTYPE.ETHERNET, ether(0x86dd, ipv6(T6, T6b, 17, udp(50000, 4789, vxlan(42, eth4)))), v4, `ipv6 ${T6}→${T6b} › vxlan vni 42`],
  ['VXLAN-GPE carrying IPv6', LINKTYPE.ETHERNET, ether(0x0800, ipv4(T4, T4b, 17, udp(50000, 4790, vxlanGpe(9, 2, in6)))), v6, `ipv4 ${T4}→${T4b} › vxlan-gpe vni 9`],
  ['GENEVE with 12 option bytes, IPv4 inside', LINKTYPE.ETHERNET,
    ether(0x0800, ipv4(T4, T4b, 17, udp(50000, 6081, geneve(5, 0x0800, in4, 12)))), v4, `ipv4 ${T4}→${T4b} › geneve vni 5 (12 B options)`],
  ['Teredo with origin indication', LINKTYPE.ETHERNET,
    ether(0x0800, ipv4(T4, T4b, 17, udp(3544, 51000, teredo(in6, { origin: { addr: '198.51.100.7', port: 40001 } })))), v6,
    `ipv4 ${T4}→${T4b} › teredo origin 198.51.100.7:40001`],
  ['Teredo with authentication and origin indications', LINKTYPE.ETHERNET,
    ether(0x0800, ipv4(T4, T4b, 17, udp(51000, 3544, teredo(in6, { auth: { id: [1, 2, 3], value: [9, 9] }, origin: { addr: '198.51.100.7', port: 40001 } })))), v6,
    `ipv4 ${T4}→${T4b} › teredo origin 198.51.100.7:40001 auth`],
  ['GTP-U with an extension header, IPv6 inside', LINKTYPE.ETHERNET,
    ether(0x0800, ipv4(T4, T4b, 17, udp(2152, 2152, gtpU(0x7e10b569, in6, true)))), v6, `ipv4 ${T4}→${T4b} › gtp-u teid 0x7e10b569`],
  ['L2TPv2 with length, sequence and offset, PPP inside', LINKTYPE.ETHERNET,
    ether(0x0800, ipv4(T4, T4b, 17, udp(1701, 1701, l2tp(3, 4, ppp(0x0021, in4))))), v4, `ipv4 ${T4}→${T4b} › l2tp tunnel 3 session 4`],
  ['MPLS label stack', LINKTYPE.ETHERNET, ether(0x8847, mpls([16, 17, 18], in4)), v4, 'mpls 16,17,18'],
  ['MPLS pseudowire with control word, Ethernet inside', LINKTYPE.ETHERNET, ether(0x8847, mpls([100], eth4, true), [5]), v4, 'vlan 5 › mpls 100'],
  ['MPLS in IP (protocol 137)', LINKTYPE.ETHERNET, ether(0x0800, ipv4(T4, T4b, 137, mpls([300], in6))), v6, `ipv4 ${T4}→${T4b} › mpls 300`],
  ['MPLS over UDP (port 6635)', LINKTYPE.ETHERNET, ether(0x0800, ipv4(T4, T4b, 17, udp(50000, 6635, mpls([301], in4)))), v4, `ipv4 ${T4}→${T4b} › mpls 301`],
  ['PPPoE session, IPv4', LINKTYPE.ETHERNET, ether(0x8864, pppoe(0x1234, 0x0021, in4)), v4, 'pppoe session 4660'],
  ['PPPoE session, IPv6, QinQ', LINKTYPE.ETHERNET, ether(0x8864, pppoe(7, 0x0057, in6), [100, 200]), v6, 'vlan 100,200 › pppoe session 7'],
  ['LINKTYPE_PPP_ETHER (PPPoE without Ethernet)', LINKTYPE.PPP_ETHER, pppoe(8, 0x0021, in4), v4, 'pppoe session 8'],
  ['LINKTYPE_PPP, protocol field compressed', LINKTYPE.PPP, Uint8Array.from([0x21, ...in4]), v4, ''],
  ['Cisco HDLC', LINKTYPE.C_HDLC, Uint8Array.from([0x0f, 0x00, 0x08, 0x00, ...in4]), v4, ''],
  ['VXLAN in GRE in IPv6 in IPv4', LINKTYPE.RAW,
    ipv4(T4, T4b, 41, ipv6(T6, T6b, 47, gre({ proto: 0x0800 }, ipv4('198.51.100.1', '198.51.100.2', 17, udp(1, 4789, vxlan(1, eth4)))))), v4,
    `ipv4 ${T4}→${T4b} › ipv6 ${T6}→${T6b} › gre › ipv4 198.51.100.1→198.51.100.2 › vxlan vni 1`],
];

describe('encapsulations, hand-built (no capture in the repository holds them)', () => {
  for (const [name, lt, bytes, spec, text] of HAND_BUILT) {
    it(name, () => {
      const p = newTcpPacket();
      assert.equal(decodeFrame(frameOf(bytes, lt), p), 'ok');
      const v = spec.src.includes(':') ? 6 : 4;
      assert.equal(p.ipVersion, v);
      assert.equal(formatAddress(v, p.src), spec.src);
      assert.equal(formatAddress(v, p.dst), spec.dst);
      assert.deepEqual([p.srcPort, p.dstPort, p.seq, p.ack, p.payloadLen], [spec.sport, spec.dport, spec.seq, spec.ack, spec.len]);
      assert.equal(encapText(describeLayers(p)), text);
      // Every cut: no throw, no read outside the frame (two different fills around it decode alike), ok or truncated.
      for (let cut = 0; cut < bytes.length; cut++) {
        const a = newTcpPacket();
        const b = newTcpPacket();
        const fa = frameOf(bytes, lt, { at: 9, fill: 0x00 });
        const fb = frameOf(bytes, lt, { at: 9, fill: 0xff });
        fa.capLength = fb.capLength = cut;
        const sa = decodeFrame(fa, a);
        assert.equal(sa, decodeFrame(fb, b), `cut ${cut}`);
        assert.ok(sa === 'ok' || sa === 'truncated', `cut ${cut}: ${sa}`);
        if (sa === 'ok') assert.deepEqual(a, b, `cut ${cut}`);
      }
    });
  }

  it('random byte damage in every hand-built tunnel: no throw, no read outside the frame, a known status', () => {
    const statuses = new Set(['ok', 'not-ip', 'not-tcp', 'fragment', 'truncated', 'malformed', 'too-deep', 'unsupported-link']);
    let seed = 20261130;
    const rand = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 4294967296; };
    for (const [name, lt, bytes] of HAND_BUILT) {
      for (let n = 0; n < 300; n++) {
        const b = bytes.slice();
        for (let h = 1 + Math.floor(rand() * 4); h > 0; h--) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        const x = newTcpPacket();
        const y = newTcpPacket();
        const fa = frameOf(b, lt, { at: 5, fill: 0x00 });
        const fb = frameOf(b, lt, { at: 5, fill: 0xff });
        const sa = decodeFrame(fa, x);
        assert.equal(sa, decodeFrame(fb, y), `${name} #${n}`);
        assert.ok(statuses.has(sa), `${name} #${n}: ${sa}`);
        if (sa === 'ok') {
          assert.deepEqual(x, y, `${name} #${n}`);
          assert.ok(x.payloadOffset + x.capturedPayloadLen <= fa.dataOffset + fa.capLength, `${name} #${n}: payload inside the frame`);
        }
      }
    }
  });

  it(`nesting is bounded: ${MAX_NESTING} tunnels decode, one more is 'too-deep'`, () => {
    let bytes: Uint8Array = in4;
    for (let i = 0; i < MAX_NESTING; i++) bytes = ipv4(T4, T4b, 4, bytes);
    const p = newTcpPacket();
    assert.equal(decodeFrame(frameOf(bytes, LINKTYPE.RAW), p), 'ok');
    assert.equal(p.layers, MAX_NESTING);
    assert.equal(decodeFrame(frameOf(ipv4(T4, T4b, 4, bytes), LINKTYPE.RAW), p), 'too-deep');
    // VLAN tags and labels fill a bounded list: a 40-label stack is too deep, not a crash or an overrun.
    assert.equal(decodeFrame(frameOf(ether(0x8847, mpls(Array.from({ length: 40 }, (_, i) => i + 16), in4)), LINKTYPE.ETHERNET), p), 'too-deep');
  });

  it('the path signature: the same for both directions of a tunnel, different for another VNI, label or tag', () => {
    const sig = (b: Uint8Array) => { const p = newTcpPacket(); assert.equal(decodeFrame(frameOf(b, LINKTYPE.ETHERNET), p), 'ok'); return p.pathSig; };
    const rev = buildFrame({ ...v4, src: v4.dst, dst: v4.src, sport: v4.dport, dport: v4.sport }, { type: 'raw' });
    const vx = (vni: number, a: string, b: string, inner: Uint8Array) => ether(0x0800, ipv4(a, b, 17, udp(40000 + vni, 4789, vxlan(vni, ether(0x0800, inner)))));
    assert.equal(sig(vx(42, T4, T4b, in4)), sig(vx(42, T4b, T4, rev)), 'both directions of one tunnel');
    assert.notEqual(sig(vx(42, T4, T4b, in4)), sig(vx(43, T4, T4b, in4)), 'another VNI');
    assert.notEqual(sig(ether(0x0800, in4, [10])), sig(ether(0x0800, in4, [11])), 'another VLAN');
    assert.notEqual(sig(ether(0x0800, in4, [10])), sig(eth4), 'tagged vs untagged');
    assert.equal(sig(eth4), 0, 'a plain packet');
    assert.notEqual(sig(ether(0x8847, mpls([16], in4))), sig(ether(0x8847, mpls([17], in4))), 'another label');
    // Per-packet values are not part of it: GRE sequence numbers, ERSPAN III timestamps.
    const gr = (seq: number) => ether(0x0800, ipv4(T4, T4b, 47, gre({ proto: 0x0800, key: 1, seq }, in4)));
    assert.equal(sig(gr(1)), sig(gr(2)));
  });
});
