/**
 * MurmurHash3's 32-bit finalizer: every input bit reaches every output bit. The one mixing step behind the flow
 * table's tuple hash, the path signature, the shard hash and the distinct counters. Returns a signed 32-bit integer
 * (the same bits as the unsigned value: `>>> 0` where an unsigned index is needed).
 */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
