import { END, type TupleStore, W_LIST, W_LNEXT, W_LPREV, WORDS } from './tuple-store.js';

/**
 * Least recently used first, over the tuples' rows (src/tcp/tuple-store.ts): the links are slots in the rows, so a
 * tuple stays in its place in its list with or without an object of its own. Lists are numbered from 1; a row is
 * in at most one. touch() moves a tuple to the tail of a list in O(1), head() is the oldest. Used by the flow table
 * to pick what to evict without scanning.
 */
export class RecencyLists {
  private readonly heads: number[];
  private readonly tails: number[];
  private readonly sizes: number[];

  constructor(private readonly store: TupleStore, lists: number) {
    this.heads = new Array<number>(lists + 1).fill(END);
    this.tails = new Array<number>(lists + 1).fill(END);
    this.sizes = new Array<number>(lists + 1).fill(0);
  }

  /** The oldest tuple's slot in list `l`, or END. */
  head(l: number): number {
    return this.heads[l] as number;
  }

  size(l: number): number {
    return this.sizes[l] as number;
  }

  /** The list slot `s` is in (0: none). */
  listOf(s: number): number {
    return this.store.i32[s * WORDS + W_LIST] as number;
  }

  /** Append slot `s` at the tail of list `l` (most recent), taking it out of whatever list held it. */
  touch(l: number, s: number): void {
    const r = this.store.i32;
    const w = s * WORDS;
    const cur = r[w + W_LIST] as number;
    if (cur === l && this.tails[l] === s) return;
    if (cur !== 0) this.remove(s);
    const t = this.tails[l] as number;
    r[w + W_LPREV] = t;
    r[w + W_LNEXT] = END;
    if (t !== END) r[t * WORDS + W_LNEXT] = s; else this.heads[l] = s;
    this.tails[l] = s;
    r[w + W_LIST] = l;
    this.sizes[l] = (this.sizes[l] as number) + 1;
  }

  /** Take slot `s` out of its list (nothing if it is in none). */
  remove(s: number): void {
    const r = this.store.i32;
    const w = s * WORDS;
    const l = r[w + W_LIST] as number;
    if (l === 0 || l === undefined) return;
    const p = r[w + W_LPREV] as number;
    const x = r[w + W_LNEXT] as number;
    if (p !== END) r[p * WORDS + W_LNEXT] = x; else this.heads[l] = x;
    if (x !== END) r[x * WORDS + W_LPREV] = p; else this.tails[l] = p;
    r[w + W_LPREV] = END;
    r[w + W_LNEXT] = END;
    r[w + W_LIST] = 0;
    this.sizes[l] = (this.sizes[l] as number) - 1;
  }
}
