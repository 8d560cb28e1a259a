import { endpointText } from './endpoint.js';
import type { ConnectionReport } from './report.js';

/** A connection as JSON shows it: the model's fields in their order, its endpoints as text (docs/json-format.md). */
export type ConnectionJson = Omit<ConnectionReport, 'client' | 'server'> & { client: string; server: string };

export function connectionJson(c: ConnectionReport): ConnectionJson {
  return { ...c, client: endpointText(c.client), server: endpointText(c.server) };
}
