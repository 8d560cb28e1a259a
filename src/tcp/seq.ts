/**
 * Wrap-safe 32-bit sequence arithmetic (docs/rules.md §0.1): every comparison goes through the signed distance,
 * as Linux before()/after()/between(), Wireshark LT_SEQ/GT_SEQ and Zeek seq_delta() do. Valid while |a-b| < 2^31.
 * Never compare raw sequence numbers with < or >.
 */

/** Signed distance a - b. */
export const d32 = (a: number, b: number): number => (a - b) | 0;
export const lt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
export const le = (a: number, b: number): boolean => ((a - b) | 0) <= 0;
export const gt = (a: number, b: number): boolean => ((a - b) | 0) > 0;
export const ge = (a: number, b: number): boolean => ((a - b) | 0) >= 0;
/** (a + n) mod 2^32. */
export const add32 = (a: number, n: number): number => (a + n) >>> 0;
/** lo <= x <= hi on the circle (Linux between()). */
export const between = (x: number, lo: number, hi: number): boolean => ((hi - lo) >>> 0) >= ((x - lo) >>> 0);
/** (a - b) mod 2^32, for relative sequence numbers. */
export const rel32 = (a: number, b: number): number => (a - b) >>> 0;
