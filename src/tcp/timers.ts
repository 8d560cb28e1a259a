/**
 * Where a sleeper's deadline is kept (Infinity: none): read and written through these, so a sleeper can be an object
 * with a field for it, or a number (a row's slot) with the deadline in its row.
 */
export interface DeadlineOf<T> {
  get(s: T): number;
  set(s: T, at: number): void;
}

/** A sleeper's deadline in its field `key`. */
export function field<K extends string, T extends Record<K, number>>(key: K): DeadlineOf<T> {
  return { get: (s) => s[key], set: (s, at) => { (s as Record<K, number>)[key] = at; } };
}

/** Entries before the first compaction (see compact()). */
const COMPACT_MIN = 4096;

/**
 * Deadlines, earliest first (equal deadlines in the order they were set): a binary min-heap kept as parallel arrays
 * (no object per timer). Each sleeper waits for one deadline at a time; moving it earlier pushes a new entry and the
 * old one is skipped when it comes up (lazy deletion), moving it later is left to the sleeper (it is woken early and
 * sleeps again). Popping what is due costs O(due · log n), whatever the number of sleepers not due.
 *
 * Entries a sleeper no longer waits for (superseded, or cancelled when its owner set the deadline to Infinity) would
 * otherwise stay until their time came, holding the sleeper: during a SYN flood, connections evicted under the bound
 * a second after they opened left one each for the whole idle period, millions. When the heap has doubled since it
 * was last compacted, the dead entries are dropped (amortized O(1) per entry). Since ties are broken by the order the
 * deadlines were set, the heap's shape never decides what pops first, so compacting changes nothing that is seen.
 */
export class TimerHeap<T> {
  private due: number[] = [];
  private who: T[] = [];
  /** The order each entry was set in (ties of `due`). */
  private ord: number[] = [];
  private serial = 0;
  private compactAt = COMPACT_MIN;

  /** `d`: where a sleeper's deadline is kept (one sleeper can wait in several heaps, one deadline each). */
  constructor(private readonly d: DeadlineOf<T>) {}

  /** Entries held, dead ones included. */
  get size(): number {
    return this.due.length;
  }

  /** `s` wakes at `at` unless it already waits for an earlier deadline. */
  schedule(s: T, at: number): void {
    if (!(at < this.d.get(s))) return;
    this.d.set(s, at);
    if (this.due.length >= this.compactAt) this.compact();
    const o = this.serial++;
    this.due.push(at);
    this.who.push(s);
    this.ord.push(o);
    let i = this.due.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.before(p, at, o)) break;
      this.move(p, i);
      i = p;
    }
    this.place(i, at, s, o);
  }

  /** Whether the entry in slot i comes before (at, o). */
  private before(i: number, at: number, o: number): boolean {
    const d = this.due[i] as number;
    return d < at || (d === at && (this.ord[i] as number) < o);
  }

  private move(from: number, to: number): void {
    this.due[to] = this.due[from] as number;
    this.who[to] = this.who[from] as T;
    this.ord[to] = this.ord[from] as number;
  }

  private place(i: number, at: number, s: T, o: number): void {
    this.due[i] = at;
    this.who[i] = s;
    this.ord[i] = o;
  }

  /**
   * Takes out every sleeper whose deadline is at or before `now` (plus `slack`) and appends it to `out`, earliest
   * first; each one's deadline is reset to Infinity. Entries a sleeper no longer waits for are dropped on the way.
   */
  popDue(now: number, slack: number, out: T[]): void {
    const due = this.due;
    const who = this.who;
    const d = this.d;
    while (due.length > 0 && (due[0] as number) <= now + slack) {
      const at = due[0] as number;
      const s = who[0] as T;
      this.popTop();
      if (d.get(s) !== at) continue; // superseded by an earlier deadline (already woken), or cancelled
      d.set(s, Infinity);
      out.push(s);
    }
  }

  /** Drops the entries no sleeper waits for any more and rebuilds the heap from the rest. */
  private compact(): void {
    const d = this.d;
    const due: number[] = [];
    const who: T[] = [];
    const ord: number[] = [];
    for (let i = 0; i < this.due.length; i++) {
      const s = this.who[i] as T;
      const at = this.due[i] as number;
      if (d.get(s) !== at) continue;
      due.push(at);
      who.push(s);
      ord.push(this.ord[i] as number);
    }
    this.due = due;
    this.who = who;
    this.ord = ord;
    for (let i = (due.length >> 1) - 1; i >= 0; i--) this.siftDown(i, due[i] as number, who[i] as T, ord[i] as number);
    this.compactAt = Math.max(COMPACT_MIN, 2 * due.length);
  }

  private popTop(): void {
    const lastAt = this.due.pop() as number;
    const last = this.who.pop() as T;
    const lastOrd = this.ord.pop() as number;
    if (this.due.length > 0) this.siftDown(0, lastAt, last, lastOrd);
  }

  /** Places (at, s, o) at slot i or below, moving smaller children up. */
  private siftDown(i: number, at: number, s: T, o: number): void {
    const n = this.due.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(r, this.due[l] as number, this.ord[l] as number) ? r : l;
      if (!this.before(c, at, o)) break;
      this.move(c, i);
      i = c;
    }
    this.place(i, at, s, o);
  }
}
