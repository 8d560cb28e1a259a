/**
 * The report's JSON form (docs/json-format.md, docs/report.schema.json): the model's objects with their fields in
 * the same order, endpoints as text (endpointText). Every JSON writer goes through these: --json (src/report/json.ts
 * and a streamed run's spool), NDJSON, `report --json`.
 */
import { endpointText, type Endpoint } from './endpoint.js';
import type { ConnectionReport, Finding, PacketRef, Report } from './report.js';

export type ConnectionJson = Omit<ConnectionReport, 'client' | 'server'> & { client: string; server: string };

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
