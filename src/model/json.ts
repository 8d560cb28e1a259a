/**
 * The report's JSON form (docs/json-format.md, docs/report.schema.json): the model's objects with their fields in
 * the same order, endpoints as text (endpointText). Every JSON writer goes through these: --json (src/report/json.ts
 * and a streamed run's spool), NDJSON, `report --json`.
 */
import { endpointText, type Endpoint } from './endpoint.js';
import type { ConnectionReport, Finding, PacketRef, Report } from './report.js';

export type ConnectionJson = Omit<ConnectionReport, 'client' | 'server'> & { client: string; server: string };

/**
 * Whether a connection's ladder is left out of the JSON (written empty, its packets counted in `elided`): with
 * `--ladders findings` (`allLadders` false), a connection without findings whose ladder was built.
 */
export const ladderLeftOut = (c: ConnectionReport, allLadders: boolean): boolean =>
  !(allLadders || c.findings.length > 0 || c.ladder.length === 0);

export function connectionJson(c: ConnectionReport): ConnectionJson {
  return { ...c, client: endpointText(c.client), server: endpointText(c.server) };
}

/** An aggregate row (per server, per pair): its server endpoint as text. */
export function aggregateJson<T extends { server: Endpoint }>(a: T): Omit<T, 'server'> & { server: string } {
  return { ...a, server: endpointText(a.server) };
}

export function aggregatesJson(a: Report['aggregates']): { servers: unknown[]; pairs: unknown[] } {
  return { servers: a.servers.map(aggregateJson), pairs: a.pairs.map(aggregateJson) };
}
