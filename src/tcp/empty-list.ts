/**
 * The empty list a record's list field starts with, shared and frozen: most connections never add to their lists (RST
 * records, FIN retransmissions, revisions, inferences…), and a list of its own each was an object more per record for
 * the collector to copy and for freezing (src/tcp/frozen.ts) to write. Whoever adds to one takes a list of its own
 * (added()); the shared one cannot change (frozen: a push throws).
 */
export const EMPTY_LIST = Object.freeze([]) as unknown as never[];

/** `list` with `x` added: a new list when it was the shared EMPTY_LIST, else the same one. */
export function added<T>(list: T[], x: T): T[] {
  if (list === EMPTY_LIST) return [x];
  list.push(x);
  return list;
}
