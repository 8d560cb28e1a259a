/**
 * decodeFrame: one captured frame → one TcpPacket, in place. Never throws, never allocates, reads only
 * frame.data[frame.dataOffset, frame.dataOffset + frame.capLength).
 *
 * Status order: the first problem found walking outward-in wins (link, then IP, then TCP). Within a header, values
 * that contradict the declared lengths ('malformed') are reported before a capture cut ('truncated').
 * Only when the status is 'ok' is every field of `out` meaningful; vlan and sllPacketType are set as soon as the link
 * header is read, and the option fields are reset for every frame.
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
import type { DecodeStatus, TcpPacket } from './packet.js';
import { decodeLink, newDecodeCursor } from './link.js';
import { decodeIp } from './ip.js';
import { decodeTcp, resetTcpOptions } from './tcp.js';

const cur = newDecodeCursor();

export function decodeFrame(frame: RawFrame, out: TcpPacket): DecodeStatus {
  const data = frame.data;
  let start = frame.dataOffset;
  let end = start + frame.capLength;
  if (end > data.length) end = data.length; // defensive: never index past the buffer
  if (!(start >= 0 && end > start)) end = start = 0; // negative/NaN offsets from a broken source: nothing to read
  out.vlan = -1;
  out.sllPacketType = -1;
  resetTcpOptions(out);
  cur.pos = start;
  cur.end = end;
  cur.net = 0;
  cur.segLen = 0;
  cur.firstFragment = false;
  let st = decodeLink(data, frame.linkType, cur, out);
  if (st !== 'ok') return st;
  st = decodeIp(data, cur, out);
  if (st !== 'ok') return st;
  return decodeTcp(data, cur, out);
}
