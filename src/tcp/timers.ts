/** Something that can wait for a deadline in a TimerHeap: its field K is the deadline it waits for (Infinity: none). */
export type Sleeper<K extends string> = Record<K, number>;

/**
 * Deadlines, earliest first: a binary min-heap kept as two parallel arrays (no object per timer). Each sleeper waits
 * for one deadline at a time; moving it earlier pushes a new entry and the old one is skipped when it comes up
 * (lazy deletion), moving it later is left to the sleeper (it is woken early and sleeps again). Popping what is due
 * costs O(due · log n), whatever the number of sleepers not due.
 */
export class TimerHeap<K extends string, T extends Sleeper<K>> {
  private readonly due: number[] = [];
  private readonly who: T[] = [];

  /** `key`: the field of a sleeper holding its deadline (one object can wait in several heaps, one field each). */
  constructor(private readonly key: K) {}

  get size(): number {
    return this.due.length;
  }

  /** `s` wakes at `at` unless it already waits for an earlier deadline. */
  schedule(s: T, at: number): void {
    const key = this.key;
    if (!(at < s[key])) return;
    (s as Sleeper<K>)[key] = at;
    const due = this.due;
    const who = this.who;
    let i = due.length;
    due.push(at);
    who.push(s);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const dp = due[p] as number;
      if (dp <= at) break;
      due[i] = dp;
      who[i] = who[p] as T;
      i = p;
    }
    due[i] = at;
    who[i] = s;
  }

  /**
   * Takes out every sleeper whose deadline is at or before `now` (plus `slack`) and appends it to `out`, earliest
   * first; each one's deadline is reset to Infinity. Entries a sleeper no longer waits for are dropped on the way.
   */
  popDue(now: number, slack: number, out: T[]): void {
    const due = this.due;
    const who = this.who;
    const key = this.key;
    while (due.length > 0 && (due[0] as number) <= now + slack) {
      const at = due[0] as number;
      const s = who[0] as T;
      this.popTop();
      if (s[key] !== at) continue; // superseded by an earlier deadline (already woken), or cancelled
      (s as Sleeper<K>)[key] = Infinity;
      out.push(s);
    }
  }

  private popTop(): void {
    const due = this.due;
    const who = this.who;
    const lastAt = due.pop() as number;
    const last = who.pop() as T;
    const n = due.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (due[r] as number) < (due[l] as number) ? r : l;
      const dc = due[c] as number;
      if (dc >= lastAt) break;
      due[i] = dc;
      who[i] = who[c] as T;
      i = c;
    }
    due[i] = lastAt;
    who[i] = last;
  }
}
