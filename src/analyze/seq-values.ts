/**
 * A number per connection number (seq), from pairs [seq, value, seq, value, …] as a Float64Array (a message between
 * threads carries it without copying it into objects): a seq given twice answers its last value.
 */
export class SeqValues {
  private readonly seqs: Float64Array;
  private readonly values: Float64Array;

  constructor(pairs: Float64Array) {
    const n = pairs.length >> 1;
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    // By seq, the last given first among equals (lookups take the first).
    idx.sort((a, b) => ((pairs[2 * a] as number) - (pairs[2 * b] as number)) || b - a);
    this.seqs = new Float64Array(n);
    this.values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.seqs[i] = pairs[2 * (idx[i] as number)] as number;
      this.values[i] = pairs[2 * (idx[i] as number) + 1] as number;
    }
  }

  get(seq: number): number | undefined {
    const seqs = this.seqs;
    let lo = 0;
    let hi = seqs.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if ((seqs[m] as number) < seq) lo = m + 1; else hi = m;
    }
    return lo < seqs.length && seqs[lo] === seq ? this.values[lo] as number : undefined;
  }
}

/** A Map's entries as SeqValues' pairs. */
export function seqPairs(m: ReadonlyMap<number, number>): Float64Array {
  const out = new Float64Array(2 * m.size);
  let i = 0;
  for (const [k, v] of m) { out[i++] = k; out[i++] = v; }
  return out;
}
