/**
 * Records of one class kept for reuse once dropped. A busy capture opens and drops hundreds of thousands of
 * connections, each a connection, two endpoints and a packet log that live long enough to be copied by the young
 * generation's collections (~1.4 KB of the ~2.8 KB per connection that survives a scavenge on the bench capture):
 * a dropped one is made new again in place (its fields set to a new instance's) for the next connection instead.
 * A record given back must not be used again by whoever gave it: it becomes someone else's.
 */
import { EMPTY_LIST } from './empty-list.js';

export class FreeList<T extends object> {
  private readonly items: T[] = [];

  /** `max`: records kept at most (the rest are left to the garbage collector); `reset`: makes one new again (lazyReset()). */
  constructor(private readonly max: number, private readonly reset: (o: T) => void) {}

  /** A record given back, made new again by `reset`, or undefined when none is left. */
  take(): T | undefined {
    const o = this.items.pop();
    if (o !== undefined) this.reset(o);
    return o;
  }

  give(o: T): void {
    if (this.items.length < this.max) this.items.push(o);
  }
}

/**
 * fieldReset() of the instance `fresh()` makes, made when first used (a record's module cannot make an instance of
 * its class while it loads).
 */
export function lazyReset<T extends object>(fresh: () => T, skip: readonly string[] = []): (o: T) => void {
  let reset: ((o: T) => void) | null = null;
  return (o) => (reset ??= fieldReset(fresh(), skip))(o);
}

/**
 * A function setting each field of an object to the value it has in `fresh` (a new instance of the class), but the
 * fields named in `skip` (the caller sets those): made once per class from that instance's own fields, as stores of
 * constants. A field of `fresh` that holds an object other than the shared empty list (src/tcp/empty-list.ts) would
 * then be shared by every reused record: refused, as is a field in `skip` that `fresh` lacks (a renamed field).
 */
export function fieldReset<T extends object>(fresh: T, skip: readonly string[]): (o: T) => void {
  const own = Object.keys(fresh);
  for (const k of skip) if (!own.includes(k)) throw new Error(`fieldReset: ${k} is not a field`);
  const lines: string[] = [];
  for (const k of own) {
    if (skip.includes(k)) continue;
    const v = (fresh as Record<string, unknown>)[k];
    let text: string;
    if (v === EMPTY_LIST) text = 'E';
    else if (v === undefined) text = 'undefined';
    else if (typeof v === 'number') text = Object.is(v, -0) ? '-0' : String(v); // (NaN and ±Infinity by name)
    else if (v === null || typeof v === 'boolean' || typeof v === 'string') text = JSON.stringify(v);
    else throw new Error(`fieldReset: ${k} holds ${typeof v === 'object' ? 'an object' : typeof v}: reset it by hand and skip it`);
    lines.push(`o[${JSON.stringify(k)}] = ${text};`);
  }
  return new Function('E', `return function reset(o) {\n${lines.join('\n')}\n};`)(EMPTY_LIST) as (o: T) => void;
}
