/** Internet checksum (RFC 1071) helpers, and the incremental update of RFC 1624 for segments not fully captured. */

/** One's complement sum (not folded past 32 bits more than needed) of bytes [from, to), as big-endian 16-bit words. */
export function sum16(b: Uint8Array, from: number, to: number, acc = 0): number {
  let s = acc;
  let i = from;
  for (; i + 1 < to; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < to) s += b[i]! << 8;
  return fold(s);
}

export function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value for a one's complement sum. */
export function finish(s: number): number {
  return ~fold(s) & 0xffff;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with `oldSum`/`newSum` the one's complement sums of every changed
 * word before and after the change.
 */
export function incremental(hc: number, oldSum: number, newSum: number): number {
  return ~fold((~hc & 0xffff) + (~fold(oldSum) & 0xffff) + fold(newSum)) & 0xffff;
}

export function read16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

export function write16(b: Uint8Array, p: number, v: number): void {
  b[p] = (v >>> 8) & 0xff;
  b[p + 1] = v & 0xff;
}
