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

// The JSON text of a connection and of a finding, written field by field in the order above (what JSON.stringify of
// connectionJson(c) / of the finding gives, byte for byte: test/model/json-text.test.ts) without building the
// intermediate object: a streamed --json writes one per judged connection.

/** Characters JSON.stringify escapes in a string: quote, backslash, controls, and (lone) surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify(s) for a string. */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}
/** JSON.stringify(x) for a number (non-finite numbers are null) or null. */
const num = (x: number | null): string => (x !== null && Number.isFinite(x) ? `${x}` : 'null');
const strOrNull = (s: string | null): string => (s === null ? 'null' : jsonString(s));
const pair = (a: string, x: number, b: string, y: number): string => `{"${a}":${num(x)},"${b}":${num(y)}}`;

/** A packet of a ladder or of a finding's evidence. */
export function packetRefText(p: PacketRef): string {
  return `{"frame":${num(p.frame)},"time":${num(p.time)},"offset":${num(p.offset)},"dir":${jsonString(p.dir)},"flags":${jsonString(p.flags)}`
    + `,"seq":${num(p.seq)},"ack":${num(p.ack)},"relSeq":${num(p.relSeq)},"relAck":${num(p.relAck)},"len":${num(p.len)},"win":${num(p.win)}`
    + `,"states":{"client":${jsonString(p.states.client)},"server":${jsonString(p.states.server)}}${p.note === undefined ? '' : `,"note":${jsonString(p.note)}`}}`;
}

function list<T>(xs: readonly T[], f: (x: T) => string): string {
  if (xs.length === 0) return '[]';
  let s = `[${f(xs[0] as T)}`;
  for (let i = 1; i < xs.length; i++) s += `,${f(xs[i] as T)}`;
  return `${s}]`;
}

/**
 * JSON.stringify(connectionJson(c)), or with `elide` its ladder left out (an empty ladder, its packets counted as
 * elided: what `--ladders findings` writes for a connection without findings).
 */
export function connectionJsonText(c: ConnectionReport, elide = false): string {
  const t = c.times;
  let s = `{"id":${jsonString(c.id)},"client":${jsonString(endpointText(c.client))},"server":${jsonString(endpointText(c.server))}`
    + `,"clientGuessed":${c.clientGuessed},"ipVersion":${num(c.ipVersion)},"incarnation":${num(c.incarnation)}`
    + `,"previous":${strOrNull(c.previous)},"next":${strOrNull(c.next)},"firstFrame":${num(c.firstFrame)},"lastFrame":${num(c.lastFrame)}`
    + `,"start":${num(c.start)},"end":${num(c.end)},"packets":${num(c.packets)}`
    + `,"bytes":${pair('c2s', c.bytes.c2s, 's2c', c.bytes.s2c)},"retransmissions":${pair('c2s', c.retransmissions.c2s, 's2c', c.retransmissions.s2c)}`
    + `,"keepalives":${pair('c2s', c.keepalives.c2s, 's2c', c.keepalives.s2c)},"duplicates":${num(c.duplicates)}`
    + `,"handshake":${jsonString(c.handshake)},"retries":${pair('syn', c.retries.syn, 'synAck', c.retries.synAck)}`
    + `,"teardown":${jsonString(c.teardown)},"closer":${strOrNull(c.closer)},"ending":${jsonString(c.ending)}`
    + `,"states":{"client":${jsonString(c.states.client)},"server":${jsonString(c.states.server)}},"findings":${list(c.findings, jsonString)}`
    + `,"times":{"halfClosed":${num(t.halfClosed)},"closed":${num(t.closed)},"timeWaitUntil":${num(t.timeWaitUntil)},"reset":${num(t.reset)}}`
    + `,"revisions":${list(c.revisions, (r) => `{"frame":${num(r.frame)},"revisedBy":${num(r.revisedBy)},"what":${jsonString(r.what)},"why":${jsonString(r.why)}}`)}`;
  if (c.inferences !== undefined) s += `,"inferences":${list(c.inferences, (x) => `{"frame":${num(x.frame)},"what":${jsonString(x.what)},"side":${jsonString(x.side)},"why":${jsonString(x.why)}}`)}`;
  s += `,"capture":${jsonString(c.capture)},"missingSide":${strOrNull(c.missingSide)},"capturePoint":${jsonString(c.capturePoint)},"filter":${jsonString(c.filter)}`
    + `,"ladder":${elide ? '[]' : list(c.ladder, packetRefText)},"elided":${num(elide ? c.elided + c.ladder.length : c.elided)}`;
  if (c.encapsulation !== undefined) s += `,"encapsulation":${JSON.stringify(c.encapsulation)}`;
  if (c.captureLoss !== undefined) s += `,"captureLoss":${num(c.captureLoss)}`;
  return `${s}}`;
}

/** JSON.stringify(f) for a finding made by the judge (src/findings/context.ts). */
export function findingJsonText(f: Finding): string {
  return `{"kind":${jsonString(f.kind)},"severity":${jsonString(f.severity)},"connection":${jsonString(f.connection)},"summary":${jsonString(f.summary)}`
    + `,"why":${jsonString(f.why)},"rule":${jsonString(f.rule)},"time":${num(f.time)},"evidence":${list(f.evidence, packetRefText)}`
    + `,"details":${JSON.stringify(f.details)}}`;
}
