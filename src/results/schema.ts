import type { ConnectionReport, Encapsulation, EndpointState, Finding, FindingKind, PacketRef, Severity } from '../model/report.js';
import { endpointText, type Endpoint } from '../model/endpoint.js';
import { endpointFromText } from '../decode/format.js';
import { ResultsError } from './error.js';

/**
 * The result folder (`analyze --out DIR`, read by `report`), schema version 1 (docs/results-format.md):
 * run.json, connections.parquet, findings.parquet. Every row carries its run's label, capture path and shard so
 * the files of many runs can be queried together. Bump SCHEMA_VERSION when a column changes meaning or goes away.
 */
export const SCHEMA_VERSION = 1;
export const RUN_FILE = 'run.json';
export const CONNECTIONS_FILE = 'connections.parquet';
export const FINDINGS_FILE = 'findings.parquet';
/** Parquet key-value metadata naming the schema version (also in run.json). */
export const PARQUET_SCHEMA_KEY = 'teardown_schema';

/** Column name → DuckDB type, in file order. */
export const CONNECTION_COLUMNS: Record<string, string> = {
  label: 'VARCHAR', capture: 'VARCHAR', shard: 'VARCHAR',
  id: 'VARCHAR', client: 'VARCHAR', server: 'VARCHAR', client_host: 'VARCHAR', client_guessed: 'BOOLEAN',
  ip_version: 'INTEGER', incarnation: 'INTEGER', previous: 'VARCHAR', next: 'VARCHAR',
  first_frame: 'BIGINT', last_frame: 'BIGINT', start_time: 'DOUBLE', end_time: 'DOUBLE', packets: 'BIGINT',
  bytes_c2s: 'BIGINT', bytes_s2c: 'BIGINT', retransmissions_c2s: 'BIGINT', retransmissions_s2c: 'BIGINT',
  keepalives_c2s: 'BIGINT', keepalives_s2c: 'BIGINT', duplicates: 'BIGINT',
  handshake: 'VARCHAR', teardown: 'VARCHAR', closer: 'VARCHAR', ending: 'VARCHAR',
  client_state: 'VARCHAR', server_state: 'VARCHAR', findings: 'VARCHAR[]',
  half_closed_time: 'DOUBLE', closed_time: 'DOUBLE', time_wait_until: 'DOUBLE', reset_time: 'DOUBLE',
  capture_point: 'VARCHAR', filter: 'VARCHAR', ladder: 'JSON', elided: 'BIGINT', encapsulation: 'JSON',
  syn_retries: 'BIGINT', syn_ack_retries: 'BIGINT', revisions: 'JSON', capture_sides: 'VARCHAR', missing_side: 'VARCHAR',
  inferences: 'JSON', capture_loss: 'BIGINT',
};

export const FINDING_COLUMNS: Record<string, string> = {
  label: 'VARCHAR', capture: 'VARCHAR', shard: 'VARCHAR',
  connection: 'VARCHAR', kind: 'VARCHAR', severity: 'VARCHAR', time: 'DOUBLE',
  summary: 'VARCHAR', why: 'VARCHAR', rule: 'VARCHAR', evidence: 'JSON', details: 'JSON',
};

export interface RowContext {
  label: string;
  capture: string;
  shard: string | null;
}

export function connectionRow(x: RowContext, c: ConnectionReport, ladder: boolean): Record<string, unknown> {
  return {
    label: x.label, capture: x.capture, shard: x.shard,
    id: c.id, client: endpointText(c.client), server: endpointText(c.server), client_host: c.client.address, client_guessed: c.clientGuessed,
    ip_version: c.ipVersion, incarnation: c.incarnation, previous: c.previous, next: c.next,
    first_frame: c.firstFrame, last_frame: c.lastFrame, start_time: c.start, end_time: c.end, packets: c.packets,
    bytes_c2s: c.bytes.c2s, bytes_s2c: c.bytes.s2c, retransmissions_c2s: c.retransmissions.c2s, retransmissions_s2c: c.retransmissions.s2c,
    keepalives_c2s: c.keepalives.c2s, keepalives_s2c: c.keepalives.s2c, duplicates: c.duplicates,
    handshake: c.handshake, teardown: c.teardown, closer: c.closer, ending: c.ending,
    client_state: c.states.client, server_state: c.states.server, findings: c.findings,
    half_closed_time: c.times.halfClosed, closed_time: c.times.closed, time_wait_until: c.times.timeWaitUntil, reset_time: c.times.reset,
    capture_point: c.capturePoint, filter: c.filter, ladder: ladder ? c.ladder : [], elided: ladder ? c.elided : c.elided + c.ladder.length,
    encapsulation: c.encapsulation ?? null,
    syn_retries: c.retries.syn, syn_ack_retries: c.retries.synAck, revisions: c.revisions, capture_sides: c.capture, missing_side: c.missingSide,
    inferences: c.inferences ?? null, capture_loss: c.captureLoss ?? null,
  };
}

export function findingRow(x: RowContext, f: Finding): Record<string, unknown> {
  return {
    label: x.label, capture: x.capture, shard: x.shard,
    connection: f.connection, kind: f.kind, severity: f.severity, time: f.time,
    summary: f.summary, why: f.why, rule: f.rule, evidence: f.evidence, details: f.details,
  };
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : v as number);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const json = <T>(v: unknown): T => JSON.parse(v as string) as T;

/** An endpoint column's text (as connectionRow writes it) read back; one that is not address:port is an error naming `file`. */
export function endpointColumn(file: string, text: unknown, what: string): Endpoint {
  const e = endpointFromText(String(text));
  if (e === null) throw new ResultsError(file, `${what} '${String(text)}' is not an address:port`);
  return e;
}

/**
 * A row of `file` read back (DuckDB JS values) → the report's connection, field for field, keys in the session's
 * order (report --json prints what analyze --json prints).
 */
export function connectionFromRow(r: Record<string, unknown>, file: string): ConnectionReport {
  return {
    id: r.id as string, client: endpointColumn(file, r.client, `connection ${String(r.id)}: client`), server: endpointColumn(file, r.server, `connection ${String(r.id)}: server`), clientGuessed: r.client_guessed as boolean,
    ipVersion: num(r.ip_version) as 4 | 6, incarnation: num(r.incarnation),
    previous: r.previous as string | null, next: r.next as string | null,
    firstFrame: num(r.first_frame), lastFrame: num(r.last_frame), start: num(r.start_time), end: num(r.end_time), packets: num(r.packets),
    bytes: { c2s: num(r.bytes_c2s), s2c: num(r.bytes_s2c) },
    retransmissions: { c2s: num(r.retransmissions_c2s), s2c: num(r.retransmissions_s2c) },
    keepalives: { c2s: num(r.keepalives_c2s), s2c: num(r.keepalives_s2c) },
    duplicates: num(r.duplicates),
    handshake: r.handshake as ConnectionReport['handshake'],
    retries: { syn: num(r.syn_retries), synAck: num(r.syn_ack_retries) },
    teardown: r.teardown as ConnectionReport['teardown'],
    closer: r.closer as ConnectionReport['closer'], ending: r.ending as string,
    states: { client: r.client_state as EndpointState, server: r.server_state as EndpointState },
    findings: [...(r.findings as FindingKind[])],
    times: { halfClosed: numOrNull(r.half_closed_time), closed: numOrNull(r.closed_time), timeWaitUntil: numOrNull(r.time_wait_until), reset: numOrNull(r.reset_time) },
    revisions: json<ConnectionReport['revisions']>(r.revisions),
    // Absent in folders written before the column existed, NULL when nothing was inferred.
    ...(r.inferences === null || r.inferences === undefined ? {} : { inferences: json<NonNullable<ConnectionReport['inferences']>>(r.inferences) }),
    capture: r.capture_sides as ConnectionReport['capture'], missingSide: (r.missing_side ?? null) as ConnectionReport['missingSide'],
    capturePoint: r.capture_point as ConnectionReport['capturePoint'], filter: r.filter as string,
    ladder: json<PacketRef[]>(r.ladder), elided: num(r.elided),
    encapsulation: r.encapsulation === null || r.encapsulation === undefined ? null : json<Encapsulation>(r.encapsulation),
    // Live captures: frames lost while the connection was open. NULL when none, absent from older folders.
    ...(r.capture_loss === null || r.capture_loss === undefined ? {} : { captureLoss: num(r.capture_loss) }),
  };
}

export function findingFromRow(r: Record<string, unknown>): Finding {
  return {
    kind: r.kind as FindingKind, severity: r.severity as Severity, connection: r.connection as string,
    summary: r.summary as string, why: r.why as string, rule: r.rule as string, time: num(r.time),
    evidence: json<PacketRef[]>(r.evidence), details: json<Record<string, unknown>>(r.details),
  };
}

/** DuckDB's read_json `columns` argument for a column map. */
export function columnsArg(cols: Record<string, string>): string {
  return `{${Object.entries(cols).map(([k, t]) => `${k}: '${t}'`).join(', ')}}`;
}
