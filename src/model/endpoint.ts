/**
 * One end of a connection as the model holds it: the address in its printed form and the port as a number, so
 * nothing downstream splits `addr:port` text to get at either. Made once per 4-tuple (shared by its incarnations):
 * never modified.
 */
export interface Endpoint {
  readonly ipVersion: 4 | 6;
  /** IPv4 dotted quad, or IPv6 in RFC 5952 form (no brackets). */
  readonly address: string;
  readonly port: number;
}

/**
 * `10.0.0.1:80` or `[2001:db8::1]:443`: the one text form of an endpoint, for every output (text, JSON, NDJSON,
 * Parquet, expectation files, the UI).
 */
export function endpointText(e: Endpoint): string {
  return e.ipVersion === 6 ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}
