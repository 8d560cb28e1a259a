/**
 * decodeFrame: one captured frame → one TcpPacket, in place. Never throws, never allocates, reads only
 * frame.data[frame.dataOffset, frame.dataOffset + frame.capLength).
 *
 * Encapsulations are followed to the innermost TCP segment (src/decode/encap.ts: MPLS, GRE, ERSPAN, VXLAN, GENEVE,
 * IP-in-IP, Teredo, PPPoE, PPP), each recorded as a layer of `out`, at most MAX_NESTING deep ('too-deep' beyond).
 * The addresses, ports and numbers are the inner packet's.
 *
 * Status order: the first problem found walking outward-in wins (link, then IP, then TCP). Within a header, values
 * that contradict the declared lengths ('malformed') are reported before a capture cut ('truncated').
 * Only when the status is 'ok' is every field of `out` meaningful; vlan, sllPacketType, the layers, pathSig, vlanKey
 * and ifKey are set as far as the decoder got, and the option fields are reset for every frame.
 *
 * Choices worth knowing:
 * - out.payloadOffset is an index into frame.data (the backing buffer, like frame.dataOffset), so the payload is
 *   frame.data[payloadOffset, payloadOffset + capturedPayloadLen) — valid only during the sink call.
 * - The IP protocol is checked before fragmentation: a UDP fragment is 'not-tcp', so 'fragment' counts TCP data we
 *   could not decode. A first fragment (MF set) whose piece is too short for the TCP header is 'fragment' too; when
 *   decoded, its payloadLen is this fragment's share only.
 * - IPv6 Payload Length 0: the hop-by-hop jumbo length (RFC 2675) when present, else the captured bytes (Linux
 *   BIG TCP super-packets). IPv4 Total Length 0 (TSO): the captured bytes.
 */
import type { RawFrame } from '../capture/types.js';
import { MAX_NESTING, type DecodeStatus, type TcpPacket } from './packet.js';
import { fmix32 } from '../model/hash.js';
import { decodeEthernet, decodeLink, newDecodeCursor, NEXT_ETHER, NEXT_IP, NEXT_MPLS, NEXT_PPP, NEXT_PPPOE } from './link.js';
import { decodeIp } from './ip.js';
import { decodeMpls, decodePpp, decodePppoe, ipPayload } from './encap.js';
import { decodeTcp, resetTcpOptions } from './tcp.js';

const cur = newDecodeCursor();

/**
 * `options` false: the TCP options are left unread (reset: as if there were none); the status and every other field
 * are the same. For a reader that only needs the 4-tuple (src/analyze/parallel.ts).
 */
export function decodeFrame(frame: RawFrame, out: TcpPacket, options = true): DecodeStatus {
  const data = frame.data;
  let start = frame.dataOffset;
  let end = start + frame.capLength;
  if (end > data.length) end = data.length; // defensive: never index past the buffer
  if (!(start >= 0 && end > start)) end = start = 0; // negative/NaN offsets from a broken source: nothing to read
  out.vlan = -1;
  out.sllPacketType = -1;
  out.layers = 0;
  out.pathSig = 0;
  out.vlanKey = 0;
  out.ifKey = frame.interfaceId;
  resetTcpOptions(out);
  cur.pos = start;
  cur.end = end;
  cur.net = 0;
  cur.segLen = 0;
  cur.firstFragment = false;
  cur.nest = 0;
  let st = decodeLink(data, frame.linkType, cur, out);
  if (out.ifKey !== 0) out.pathSig = fmix32(out.pathSig ^ out.ifKey ^ 0x5bd1e995);
  // Every stage moves cur.pos forward past its header, and tunnels count against MAX_NESTING; the step bound also
  // covers what no tunnel counts (Ethernet-in-Ethernet by ethertype).
  for (let steps = 0; st === 'ok'; steps++) {
    if (steps > 4 * MAX_NESTING) return 'too-deep';
    switch (cur.next) {
      case NEXT_IP:
        st = decodeIp(data, cur, out);
        if (st !== 'ok') return st;
        if (cur.proto === 6) return decodeTcp(data, cur, out, options);
        st = ipPayload(data, cur, out);
        break;
      case NEXT_ETHER: st = decodeEthernet(data, cur, out); break;
      case NEXT_MPLS: st = decodeMpls(data, cur, out); break;
      case NEXT_PPPOE: st = decodePppoe(data, cur, out); break;
      case NEXT_PPP: st = decodePpp(data, cur, out); break;
      default: return 'not-ip';
    }
  }
  return st;
}
