import type { TcpPacket } from '../decode/packet.js';
import { fmix32 } from '../model/hash.js';

/** `--shard K/N`: this process keeps the connections whose 4-tuple hash is K modulo N (0 ≤ K < N). */
export interface Shard {
  k: number;
  n: number;
}

/** One endpoint (address words and port) to 32 bits. */
function endpointHash(addr: Uint32Array, port: number): number {
  let h = fmix32(port + 0x9e3779b9);
  h = fmix32(h ^ addr[0]!);
  h = fmix32(h ^ addr[1]!);
  h = fmix32(h ^ addr[2]!);
  return fmix32(h ^ addr[3]!);
}

/**
 * The symmetric hash of a segment's (inner) 4-tuple: both directions of a connection, and every incarnation of the
 * tuple, hash alike. VLAN tags and tunnel headers are not part of it, so copies of one connection seen with
 * different outer headers land in the same shard. Sum and product of the endpoint hashes are both symmetric.
 * IPv4 addresses are the word in [0] with [1..3] = 0 (TcpPacket), so the value is the same for every link type.
 */
export function tupleHash(p: TcpPacket): number {
  const a = endpointHash(p.src, p.srcPort);
  const b = endpointHash(p.dst, p.dstPort);
  return fmix32(((a + b) >>> 0) ^ Math.imul(a, b)) >>> 0;
}

export function inShard(p: TcpPacket, s: Shard): boolean {
  return tupleHash(p) % s.n === s.k;
}

/**
 * The analysis thread (0 ≤ thread < n) that holds a segment's 4-tuple, every incarnation of it, in `analyze --threads`
 * and `live --threads`: the tuple hash mixed again (a salt of its own), so the threads split a shard evenly too.
 */
export function threadOf(p: TcpPacket, n: number): number {
  return n === 1 ? 0 : (fmix32(tupleHash(p) ^ 0x2545f491) >>> 0) % n;
}
