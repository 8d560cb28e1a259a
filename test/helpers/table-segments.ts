/**
 * Decoded segments fed straight to a FlowTable (no frame bytes): one client and one server, a connection per client
 * port. For tests of the table's bookkeeping (expiry, eviction, capture loss) at tens of thousands of connections.
 */
import { ACK, FIN, newTcpPacket, SYN } from '../../src/decode/packet.js';
import type { FlowTable } from '../../src/tcp/flow-table.js';

/** A decoded IPv4 segment: addresses as their first word, `len` payload bytes on the wire (none captured). */
export function pkt(src: number, sport: number, dst: number, dport: number, flags: number, seq: number, ack = 0, len = 0) {
  const p = newTcpPacket();
  p.src[0] = src; p.dst[0] = dst; p.srcPort = sport; p.dstPort = dport; p.flags = flags; p.seq = seq; p.ack = ack;
  p.ipId = -1; p.payloadLen = len; p.capturedPayloadLen = 0;
  return p;
}

export const CLIENT = 0x0a000001;
export const SERVER = 0x0a0000ff;
let frame = 0;

/** The next frame number (one sequence for every table of the test file). */
export const nextFrame = (): number => ++frame;

/** A handshake on client port `port` at time t: the connection stays open (established, idle). */
export function open(tab: FlowTable, port: number, t: number): void {
  tab.ingest(pkt(CLIENT, port, SERVER, 80, SYN, 1000), ++frame, t);
  tab.ingest(pkt(SERVER, 80, CLIENT, port, SYN | ACK, 5000, 1001), ++frame, t);
  tab.ingest(pkt(CLIENT, port, SERVER, 80, ACK, 1001, 5001), ++frame, t);
}

/** Both FINs and the last ACK on client port `port` at time t: the connection is closed. */
export function close(tab: FlowTable, port: number, t: number): void {
  tab.ingest(pkt(CLIENT, port, SERVER, 80, FIN | ACK, 1001, 5001), ++frame, t);
  tab.ingest(pkt(SERVER, 80, CLIENT, port, FIN | ACK, 5001, 1002), ++frame, t);
  tab.ingest(pkt(CLIENT, port, SERVER, 80, ACK, 1002, 5002), ++frame, t);
}
