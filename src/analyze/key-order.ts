/**
 * The order of n records by four numeric keys each (`keys`: record i's at 4i … 4i + 3), stable: records with equal
 * keys keep the order they have. A merge sort on the indexes with the keys compared inline: a comparator handed to
 * TypedArray.prototype.sort costs a call per comparison, and the records of a spill run come nearly in order (a
 * connection is judged soon after its first frame), which a merge of ordered halves passes through in one check.
 */
export function keyOrder(keys: Float64Array, n: number): Uint32Array {
  let a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  // Blocks of BLOCK by insertion (stable: a record moves only past strictly larger ones).
  for (let lo = 0; lo < n; lo += BLOCK) {
    const hi = Math.min(lo + BLOCK, n);
    for (let i = lo + 1; i < hi; i++) {
      const v = a[i] as number;
      let j = i - 1;
      while (j >= lo && before(keys, v, a[j] as number)) { a[j + 1] = a[j] as number; j--; }
      a[j + 1] = v;
    }
  }
  if (n <= BLOCK) return a;
  let b = new Uint32Array(n);
  for (let width = BLOCK; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      // Already in order across the halves (or no right half): as it is.
      if (mid >= hi || !before(keys, a[mid] as number, a[mid - 1] as number)) { b.set(a.subarray(lo, hi), lo); continue; }
      let i = lo;
      let j = mid;
      let o = lo;
      while (i < mid && j < hi) {
        const x = a[i] as number;
        const y = a[j] as number;
        // The right one goes first only when strictly before: ties keep the left (earlier) record first.
        if (before(keys, y, x)) { b[o++] = y; j++; } else { b[o++] = x; i++; }
      }
      while (i < mid) b[o++] = a[i++] as number;
      while (j < hi) b[o++] = a[j++] as number;
    }
    const t = a; a = b; b = t;
  }
  return a;
}

/** Records sorted by insertion before they merge. */
const BLOCK = 16;

/** Record x's keys strictly before record y's. */
function before(k: Float64Array, x: number, y: number): boolean {
  const p = 4 * x;
  const q = 4 * y;
  let u = k[p] as number;
  let v = k[q] as number;
  if (u !== v) return u < v;
  u = k[p + 1] as number; v = k[q + 1] as number;
  if (u !== v) return u < v;
  u = k[p + 2] as number; v = k[q + 2] as number;
  if (u !== v) return u < v;
  return (k[p + 3] as number) < (k[q + 3] as number);
}
