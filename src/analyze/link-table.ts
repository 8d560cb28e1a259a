import { SeqIndex, type SeqTable } from './seq-index.js';

/**
 * The `next` links of a streamed report: connection `seq` (its number in the spool) → the id of the incarnation
 * that followed it on its tuple, and that one's start (where its TIME_WAIT ends). A busy capture reuses tuples all
 * the time (one link per ~12 connections on the bench capture), and the links are kept to the end: here they cost
 * ~30 bytes each in typed arrays and one buffer of id bytes (nothing for the garbage collector to trace), not a Map
 * entry, an array, a string and a number (~130 bytes on the heap, twice that with the old space's slack).
 *
 * Lookups order the links once (SeqIndex, after the last set(); a later set() orders them again). A seq linked twice
 * answers the last.
 */
export class LinkTable {
  private seqs = new Float64Array(256);
  private starts = new Float64Array(256);
  /** Where link i's id ends in `text` (it starts where link i - 1's ends). */
  private ends = new Uint32Array(256);
  private text = Buffer.allocUnsafe(4096);
  private n = 0;
  /** The links by seq; null until a lookup needs it. */
  private index: SeqIndex | null = null;

  get size(): number {
    return this.n;
  }

  set(seq: number, next: string, start: number): void {
    if (this.n === this.seqs.length) this.grow();
    const at = this.n === 0 ? 0 : (this.ends[this.n - 1] as number);
    const most = 3 * next.length;
    if (at + most > this.text.length) {
      const t = Buffer.allocUnsafe(Math.max(2 * this.text.length, at + most));
      this.text.copy(t, 0, 0, at);
      this.text = t;
    }
    this.seqs[this.n] = seq;
    this.starts[this.n] = start;
    this.ends[this.n] = at + this.text.write(next, at, 'utf8');
    this.n++;
    this.index = null;
  }

  /** The id and start of the connection that followed `seq`, or undefined. */
  get(seq: number): [string, number] | undefined {
    const i = this.find(seq);
    if (i < 0) return undefined;
    return [this.text.toString('utf8', i === 0 ? 0 : (this.ends[i - 1] as number), this.ends[i] as number), this.starts[i] as number];
  }

  /** The start of the connection that followed `seq` (get() without making its id), or undefined. */
  start(seq: number): number | undefined {
    const i = this.find(seq);
    return i < 0 ? undefined : this.starts[i] as number;
  }

  /** Every link's seq and start, in the order they were set (a later link of a seq counts: seqLookup()). */
  startTable(): SeqTable {
    return { seqs: this.seqs.slice(0, this.n), values: this.starts.slice(0, this.n) };
  }

  /** The link of `seq` last set, or -1. */
  private find(seq: number): number {
    return (this.index ??= new SeqIndex(this.seqs, this.n)).find(seq);
  }

  private grow(): void {
    const m = 2 * this.n;
    const s = new Float64Array(m); s.set(this.seqs); this.seqs = s;
    const t = new Float64Array(m); t.set(this.starts); this.starts = t;
    const e = new Uint32Array(m); e.set(this.ends); this.ends = e;
  }
}
