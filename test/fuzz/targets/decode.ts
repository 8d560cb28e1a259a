/** Fuzz target: the frame decoders (link layer, VLAN, IPv4/IPv6 with extension headers, TCP and options). */
import { decodeFrame } from '../../../src/decode/decode.js';
import { newTcpPacket } from '../../../src/decode/packet.js';
import { newRawFrame } from '../../../src/capture/pcap.js';

/** The first byte picks the link type: every supported one, and any 16-bit value now and then. */
const LINKS = [1, 1, 1, 113, 276, 0, 108, 101, 12, 14, 228, 229];
const pkt = newTcpPacket();
const frame = newRawFrame();

export function fuzz(data: Buffer): void {
  if (data.length < 1) return;
  const sel = data[0]!;
  frame.linkType = sel < 240 ? LINKS[sel % LINKS.length]! : ((data[1] ?? 0) << 8) | (data[2] ?? 0);
  frame.index = 1;
  frame.data = data;
  frame.dataOffset = 1;
  frame.capLength = data.length - 1;
  frame.wireLength = data.length - 1 + (sel & 3) * 100;
  const status = decodeFrame(frame, pkt);
  if (status !== 'ok') return;
  const u16 = (x: number) => Number.isInteger(x) && x >= 0 && x <= 0xffff;
  const u32 = (x: number) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
  if (pkt.ipVersion !== 4 && pkt.ipVersion !== 6) throw new Error(`ipVersion ${pkt.ipVersion}`);
  if (!u16(pkt.srcPort) || !u16(pkt.dstPort) || !u16(pkt.window)) throw new Error('port/window out of range');
  if (!u32(pkt.seq) || !u32(pkt.ack) || (pkt.hasTs && (!u32(pkt.tsVal) || !u32(pkt.tsEcr)))) throw new Error('seq/ack/ts out of range');
  if (!(Number.isInteger(pkt.flags) && pkt.flags >= 0 && pkt.flags <= 0xfff)) throw new Error(`flags ${pkt.flags}`);
  if (!(pkt.payloadLen >= 0 && pkt.capturedPayloadLen >= 0 && pkt.capturedPayloadLen <= pkt.payloadLen)) {
    throw new Error(`payload ${pkt.capturedPayloadLen}/${pkt.payloadLen}`);
  }
  if (pkt.payloadOffset + pkt.capturedPayloadLen > data.length) throw new Error('payload past the frame');
  if (!(pkt.sackCount >= 0 && pkt.sackCount <= 4)) throw new Error(`sackCount ${pkt.sackCount}`);
}
