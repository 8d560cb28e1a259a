/**
 * The order of n records by four numeric keys each (`keys`: record i's at 4i … 4i + 3), stable: records with equal
 * keys keep the order they have. No comparator handed to TypedArray.prototype.sort (a call per comparison): when the
 * first keys are whole numbers below 2^32 (a spill's first frames, a pair's hash), each is packed with its record's
 * number into one float and the floats are sorted natively, then records of an equal first key are ordered by the
 * others; otherwise a merge sort on the indexes with the keys compared inline.
 */
export function keyOrder(keys: Float64Array, n: number): Uint32Array {
  const a = new Uint32Array(n);
  if (n > 1 && n <= PACK && wholeFirstKeys(keys, n)) {
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) p[i] = (keys[4 * i] as number) * PACK + i;
    p.sort();
    // The record's number is the low bits of the packed value (exact below 2^53; ToInt32 keeps its low 32 bits).
    for (let i = 0; i < n; i++) a[i] = (p[i] as number) & (PACK - 1);
    // Runs of an equal first key (almost always one record), by the other keys.
    for (let lo = 0; lo < n;) {
      const k = keys[4 * (a[lo] as number)] as number;
      let hi = lo + 1;
      while (hi < n && keys[4 * (a[hi] as number)] === k) hi++;
      if (hi - lo > 1) sortRange(keys, a, lo, hi);
      lo = hi;
    }
    return a;
  }
  for (let i = 0; i < n; i++) a[i] = i;
  sortRange(keys, a, 0, n);
  return a;
}

/** Records a packed sort takes at most (2^21: a record's number in the low 21 bits, a key below 2^32 above them). */
const PACK = 1 << 21;

function wholeFirstKeys(keys: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const k = keys[4 * i] as number;
    // Also false for NaN. (-0 passes: packed, -0 · PACK + i is i, as for 0.)
    if (!(k >= 0 && k < 4294967296 && Math.floor(k) === k)) return false;
  }
  return true;
}

/** Sorts a[lo, hi) (record numbers) stably by their keys. */
function sortRange(keys: Float64Array, a: Uint32Array, lo: number, hi: number): void {
  // Blocks of BLOCK by insertion (stable: a record moves only past strictly larger ones).
  for (let s = lo; s < hi; s += BLOCK) {
    const e = Math.min(s + BLOCK, hi);
    for (let i = s + 1; i < e; i++) {
      const v = a[i] as number;
      let j = i - 1;
      while (j >= s && before(keys, v, a[j] as number)) { a[j + 1] = a[j] as number; j--; }
      a[j + 1] = v;
    }
  }
  if (hi - lo <= BLOCK) return;
  // Bottom-up merges between a[lo, hi) and a scratch copy.
  let src: Uint32Array = a.subarray(lo, hi);
  let dst: Uint32Array = new Uint32Array(hi - lo);
  const n = hi - lo;
  for (let width = BLOCK; width < n; width *= 2) {
    for (let s = 0; s < n; s += 2 * width) {
      const mid = Math.min(s + width, n);
      const e = Math.min(s + 2 * width, n);
      // Already in order across the halves (or no right half): as it is.
      if (mid >= e || !before(keys, src[mid] as number, src[mid - 1] as number)) { dst.set(src.subarray(s, e), s); continue; }
      let i = s;
      let j = mid;
      let o = s;
      while (i < mid && j < e) {
        const x = src[i] as number;
        const y = src[j] as number;
        // The right one goes first only when strictly before: ties keep the left (earlier) record first.
        if (before(keys, y, x)) { dst[o++] = y; j++; } else { dst[o++] = x; i++; }
      }
      while (i < mid) dst[o++] = src[i++] as number;
      while (j < e) dst[o++] = src[j++] as number;
    }
    const t = src; src = dst; dst = t;
  }
  if (src.buffer !== a.buffer || src.byteOffset !== a.byteOffset + 4 * lo) a.set(src, lo);
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
