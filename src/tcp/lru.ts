/** A node of an intrusive doubly linked list: the links live on the element itself (no allocation per move). */
export interface LruNode<T> {
  lruPrev: T | null;
  lruNext: T | null;
  /** The list holding this node, or null. */
  lruList: { remove(n: T): void } | null;
}

/**
 * Least recently used first: touch() moves a node to the tail in O(1), oldest() is the head. Used by the flow
 * table to pick what to evict without scanning.
 */
export class LruList<T extends LruNode<T>> {
  head: T | null = null;
  tail: T | null = null;
  size = 0;

  /** Append `n` at the tail (most recent), taking it out of whatever list held it. */
  touch(n: T): void {
    if (n.lruList === this && n === this.tail) return;
    if (n.lruList !== null) n.lruList.remove(n);
    n.lruPrev = this.tail;
    n.lruNext = null;
    if (this.tail !== null) this.tail.lruNext = n; else this.head = n;
    this.tail = n;
    n.lruList = this;
    this.size++;
  }

  remove(n: T): void {
    if (n.lruList !== this) return;
    const p = n.lruPrev;
    const x = n.lruNext;
    if (p !== null) p.lruNext = x; else this.head = x;
    if (x !== null) x.lruPrev = p; else this.tail = p;
    n.lruPrev = null;
    n.lruNext = null;
    n.lruList = null;
    this.size--;
  }
}
