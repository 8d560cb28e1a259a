/**
 * Positions in a list of connection numbers (seqs), found by seq: the list is ordered once through an index (the
 * seqs stay where they are, in typed arrays a message between threads carries without copying them into objects).
 * A seq listed twice answers its last position.
 */
export class SeqIndex {
  /** Positions by seq, then by their place in the list. */
  private readonly order: Uint32Array;

  /** The first `n` seqs of `seqs` (which must not change while this is used). */
  constructor(private readonly seqs: Float64Array, n: number = seqs.length) {
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    idx.sort((a, b) => ((seqs[a] as number) - (seqs[b] as number)) || a - b);
    this.order = idx;
  }

  /** The last position of `seq`, or -1. */
  find(seq: number): number {
    const order = this.order;
    const seqs = this.seqs;
    // The last position in the order whose seq is ≤ `seq`.
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if ((seqs[order[m] as number] as number) <= seq) lo = m + 1; else hi = m;
    }
    if (lo === 0) return -1;
    const i = order[lo - 1] as number;
    return seqs[i] === seq ? i : -1;
  }
}

/** A number per seq as two lists of the same length (SeqIndex over `seqs`). */
export interface SeqTable { seqs: Float64Array; values: Float64Array }

/** A Map's entries as a SeqTable. */
export function seqTable(m: ReadonlyMap<number, number>): SeqTable {
  const t: SeqTable = { seqs: new Float64Array(m.size), values: new Float64Array(m.size) };
  let i = 0;
  for (const [k, v] of m) { t.seqs[i] = k; t.values[i++] = v; }
  return t;
}

/** The value of a seq in `t` (its last, if listed twice), or undefined. */
export function seqLookup(t: SeqTable): (seq: number) => number | undefined {
  const index = new SeqIndex(t.seqs);
  return (seq) => {
    const i = index.find(seq);
    return i < 0 ? undefined : t.values[i] as number;
  };
}
