import type { AggregateInput } from '../findings/aggregates.js';
import type { Teardown } from '../model/report.js';

/** Teardowns by number, as spill records store them. */
export const TEARDOWNS: readonly Teardown[] = ['fin', 'rst', 'half-close', 'refused', 'open', 'none'];

/** Where aggNums() puts each field (then the half-closes and the reuses, each a count then pairs of numbers). */
export const AGG = { teardown: 0, start: 1, end: 2, timeWaitUntil: 3, clientVersion: 4, clientPort: 5, serverVersion: 6, serverPort: 7, lists: 8 } as const;

/**
 * A connection's aggregate input as numbers (its addresses go in the record's text; a null TIME_WAIT end is NaN);
 * returns how many.
 */
export function aggNums(a: AggregateInput, out: number[]): number {
  out[AGG.teardown] = TEARDOWNS.indexOf(a.teardown); out[AGG.start] = a.start; out[AGG.end] = a.end;
  out[AGG.timeWaitUntil] = a.timeWaitUntil ?? NaN;
  out[AGG.clientVersion] = a.client.ipVersion; out[AGG.clientPort] = a.client.port;
  out[AGG.serverVersion] = a.server.ipVersion; out[AGG.serverPort] = a.server.port;
  let n: number = AGG.lists;
  out[n++] = a.halfCloses.length;
  for (const [stuck, age] of a.halfCloses) { out[n++] = stuck ? 1 : 0; out[n++] = age; }
  out[n++] = a.reuses.length;
  for (const [rejected, since] of a.reuses) { out[n++] = rejected ? 1 : 0; out[n++] = since; }
  return n;
}
