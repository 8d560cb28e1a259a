/**
 * Which connections `teardown extract` keeps, resolved against the report of a first analysis pass.
 *
 *   --connection c3                      that connection
 *   --connection '10.0.0.1:40000 -> 10.0.0.2:80'   every incarnation on that 4-tuple (either order); `#1` for one
 *   --finding <kind>                     the connections with that finding (with --connection: only those of them)
 *   --all-incarnations                   widen every chosen connection to all incarnations on its 4-tuple
 *
 * A connection whose verdict depends on an earlier incarnation (time-wait-reuse, syn-on-live-tuple: the previous
 * connection's close decides it) brings that incarnation along, so the extract yields the same verdicts.
 */
import { endpointText } from '../model/endpoint.js';
import type { ConnectionReport, FindingKind, Report } from '../model/report.js';
import { FINDING_KINDS } from '../model/report.js';
import type { ConnectionSelector } from '../expect/format.js';
import { connectionText, parseSelectorText, selectConnections, selectorText } from '../expect/selector.js';

export interface SelectionRequest {
  /** --connection values (ids or tuples). */
  connections: readonly string[];
  /** --finding kind. */
  finding?: string;
  allIncarnations?: boolean;
}

export interface Selection {
  /** Every connection to extract, in capture order. */
  connections: ConnectionReport[];
  /** Connections added because a chosen one depends on them or by --all-incarnations, with the reason. */
  added: { connection: ConnectionReport; reason: string }[];
}

/** A selection problem the user can fix (wrong id, tuple not in the capture…). */
export class SelectionError extends Error {
  override readonly name = 'SelectionError';
}

const MAX_LISTED = 8;

function listing(conns: readonly ConnectionReport[]): string {
  const shown = conns.slice(0, MAX_LISTED).map(connectionText).join('; ');
  return conns.length > MAX_LISTED ? `${shown}; … ${conns.length - MAX_LISTED} more` : shown;
}

const tupleKey = (c: ConnectionReport): string => [endpointText(c.client), endpointText(c.server)].sort().join(' ');

export function resolveSelection(report: Report, req: SelectionRequest): Selection {
  if (req.connections.length === 0 && req.finding === undefined) {
    throw new SelectionError('say which connections to extract: --connection <id|tuple> and/or --finding <kind>');
  }
  let kind: FindingKind | undefined;
  if (req.finding !== undefined) {
    if (!(FINDING_KINDS as readonly string[]).includes(req.finding)) {
      throw new SelectionError(`--finding: unknown kind '${req.finding}' (kinds: ${FINDING_KINDS.join(', ')})`);
    }
    kind = req.finding as FindingKind;
  }
  const all = report.connections;
  if (all.length === 0) throw new SelectionError('the capture holds no TCP connections');

  let chosen: ConnectionReport[];
  if (req.connections.length > 0) {
    const picked = new Set<ConnectionReport>();
    for (const text of req.connections) {
      let sel: ConnectionSelector;
      try {
        sel = parseSelectorText(text);
      } catch (e) {
        throw new SelectionError(`--connection: ${(e as Error).message}`);
      }
      const found = selectConnections(sel, all);
      if (found.length === 0) {
        throw new SelectionError(`--connection: no connection ${selectorText(sel)} in the capture (it has ${all.length}: ${listing(all)})`);
      }
      for (const c of found) picked.add(c);
    }
    chosen = [...picked];
  } else {
    chosen = [...all];
  }
  if (kind !== undefined) {
    const before = chosen;
    chosen = chosen.filter((c) => c.findings.includes(kind));
    if (chosen.length === 0) {
      const withKind = all.filter((c) => c.findings.includes(kind));
      throw new SelectionError(req.connections.length > 0
        ? `--finding ${kind}: none of the chosen connections has it (${listing(before)})${withKind.length ? `; connections with it: ${listing(withKind)}` : ''}`
        : `--finding ${kind}: no connection in the capture has it`);
    }
  }

  const set = new Set(chosen);
  const added: Selection['added'] = [];
  const add = (c: ConnectionReport, reason: string): void => {
    if (set.has(c)) return;
    set.add(c);
    added.push({ connection: c, reason });
  };
  if (req.allIncarnations) {
    const keys = new Set(chosen.map(tupleKey));
    for (const c of all) if (keys.has(tupleKey(c))) add(c, 'another incarnation on the same 4-tuple (--all-incarnations)');
  }
  // Verdicts that are judged against the previous incarnation need it in the extract.
  const byId = new Map(all.map((c) => [c.id, c]));
  const needsPrevious = new Set<FindingKind>(['time-wait-reuse', 'syn-on-live-tuple']);
  for (let size = -1; size !== set.size; ) { // until no more are added: a chain of reuses brings the whole chain
    size = set.size;
    for (const f of report.findings) {
      const c = byId.get(f.connection);
      if (c === undefined || !set.has(c) || !needsPrevious.has(f.kind)) continue;
      const prevId = typeof f.details.previous === 'string' ? f.details.previous : c.previous;
      const prev = prevId === null ? undefined : byId.get(prevId);
      if (prev !== undefined) add(prev, `${f.kind} on ${c.id} is judged against it`);
    }
  }
  return { connections: all.filter((c) => set.has(c)), added };
}
