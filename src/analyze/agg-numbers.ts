import type { AggregateInput } from '../findings/aggregates.js';
import type { Teardown } from '../model/report.js';
import type { SpillRecord } from './spill.js';

/** Teardowns by number, as spill records store them. */
export const TEARDOWNS: readonly Teardown[] = ['fin', 'rst', 'half-close', 'refused', 'open', 'none'];

/** A connection's aggregate input as numbers (its addresses go in the record's text): see aggFrom(). */
export function aggNums(a: AggregateInput, out: number[]): number {
  out[0] = TEARDOWNS.indexOf(a.teardown); out[1] = a.start; out[2] = a.end; out[3] = a.timeWaitUntil ?? NaN;
  out[4] = a.client.ipVersion; out[5] = a.client.port; out[6] = a.server.ipVersion; out[7] = a.server.port;
  let n = 8;
  out[n++] = a.halfCloses.length;
  for (const [stuck, age] of a.halfCloses) { out[n++] = stuck ? 1 : 0; out[n++] = age; }
  out[n++] = a.reuses.length;
  for (const [rejected, since] of a.reuses) { out[n++] = rejected ? 1 : 0; out[n++] = since; }
  return n;
}

export function aggFrom(r: SpillRecord, client: string, server: string): AggregateInput {
  const tw = r.num(3);
  const halfCloses: [boolean, number][] = [];
  const reuses: [boolean, number][] = [];
  let n = 8;
  for (let k = r.num(n++); k > 0; k--, n += 2) halfCloses.push([r.num(n) === 1, r.num(n + 1)]);
  for (let k = r.num(n++); k > 0; k--, n += 2) reuses.push([r.num(n) === 1, r.num(n + 1)]);
  return {
    client: { ipVersion: r.num(4) as 4 | 6, address: client, port: r.num(5) }, server: { ipVersion: r.num(6) as 4 | 6, address: server, port: r.num(7) },
    teardown: TEARDOWNS[r.num(0)] as Teardown, start: r.num(1), end: r.num(2), timeWaitUntil: Number.isNaN(tw) ? null : tw, halfCloses, reuses,
  };
}
