/**
 * The end-of-capture marker. Verdicts judged "at capture end" (a half-close still open, its age and the peer's idle
 * time, docs/rules.md §6.1) are measured against the time of the capture's last frame. An extract that stopped at the chosen
 * connection's last packet would make a 30-minute CLOSE_WAIT look 0 s old. So extract appends, at the original
 * capture's last timestamp, one frame that is IP but not TCP (IPv4 protocol 253, RFC 3692 "use for experimentation
 * and testing", addresses 0.0.0.0; IPv6 next header 59 "no next header" for LINKTYPE_IPV6): the engine counts it as
 * `not-tcp` and takes its time as the end of the capture, and no connection is created.
 */
import { LINKTYPE } from '../model/link-types.js';
import { finish, sum16, write16 } from './checksum.js';

function ipv4(): Uint8Array {
  const h = new Uint8Array(20);
  h[0] = 0x45;
  write16(h, 2, 20); // total length: the header alone
  h[8] = 64; // TTL
  h[9] = 253; // RFC 3692 experimental protocol
  write16(h, 10, finish(sum16(h, 0, 20)));
  return h;
}

function ipv6(): Uint8Array {
  const h = new Uint8Array(40);
  h[0] = 0x60;
  h[6] = 59; // no next header
  h[7] = 64;
  return h;
}

function concat(a: number[], b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The marker frame's bytes for a link type; null when the link type is one the decoder does not read. */
export function endMarkerFrame(linkType: number): Uint8Array | null {
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      return concat([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00], ipv4());
    case LINKTYPE.LINUX_SLL: // packet type 0 (to us), ARPHRD_ETHER, address length 0, address, protocol IPv4
      return concat([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00], ipv4());
    case LINKTYPE.LINUX_SLL2: // protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address
      return concat([0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], ipv4());
    case LINKTYPE.NULL: // AF_INET in the capturing host's byte order (the decoder reads both)
      return concat([2, 0, 0, 0], ipv4());
    case LINKTYPE.LOOP:
      return concat([0, 0, 0, 2], ipv4());
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_12:
    case LINKTYPE.RAW_14:
    case LINKTYPE.IPV4:
      return ipv4();
    case LINKTYPE.IPV6:
      return ipv6();
    case LINKTYPE.PPP:
    case LINKTYPE.PPP_HDLC: // HDLC-like framing (address 0xFF, control 0x03), PPP protocol IPv4 (RFC 1662)
      return concat([0xff, 0x03, 0x00, 0x21], ipv4());
    case LINKTYPE.PPP_ETHER: // PPPoE session 0, length = PPP protocol + IPv4 header (RFC 2516)
      return concat([0x11, 0x00, 0, 0, 0, 22, 0x00, 0x21], ipv4());
    case LINKTYPE.C_HDLC: // Cisco HDLC unicast, protocol IPv4
      return concat([0x0f, 0x00, 0x08, 0x00], ipv4());
    case LINKTYPE.ARCNET_BSD: // source 0, destination 0 (broadcast), RFC 1051 IP
      return concat([0, 0, 240], ipv4());
    case LINKTYPE.ARCNET_LINUX: // source, destination, offset(2), RFC 1051 IP
      return concat([0, 0, 0, 0, 240], ipv4());
    case LINKTYPE.IPOIB: // 40 bytes of addresses (zero), type IPv4, reserved
      return concat([...new Uint8Array(40), 0x08, 0x00, 0, 0], ipv4());
    default:
      return null;
  }
}
