/**
 * Writing expectations from current verdicts (`teardown check --update`). Every connection gets a connection entry
 * (teardown, closer, ending) and every finding a finding entry on its connection's client/server/incarnation with
 * its severity and its categorical details (string and boolean values, and objects of them). Numbers are left out
 * on purpose: ages, sequence numbers and frame numbers are evidence, not verdicts; write comparisons by hand
 * (`"ageSeconds": ">= 30"`) where a number is the point. Refreshing an existing file keeps its description,
 * settings, unexpected mode and `$` keys, and replaces the connection and finding entries.
 */
import { endpointText } from '../model/endpoint.js';
import type { ConnectionReport, Finding, Report } from '../model/report.js';
import { EXPECTATION_VERSION, type ExpectationSettings } from './format.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Detail keys that refer to other connections by id: ids are not verdicts (and change when a capture is cut). */
const REFERENCE_KEYS = new Set(['previous']);

function categorical(v: unknown): Json | undefined {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length > 0 && entries.every(([, x]) => typeof x === 'string' || typeof x === 'boolean')) return v as Json;
  }
  return undefined;
}

export function selectorJson(c: ConnectionReport): { [k: string]: Json } {
  return { client: endpointText(c.client), server: endpointText(c.server), incarnation: c.incarnation };
}

/** A finding's categorical details (what --update writes): strings, booleans, objects of them; no references. */
export function detailsJson(f: Finding): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(f.details)) {
    if (REFERENCE_KEYS.has(k)) continue;
    const x = categorical(v);
    if (x !== undefined) out[k] = x;
  }
  return out;
}

/** Same kind, connection, severity and categorical details: findings that can share one entry's `count`. */
function verdictKey(f: Finding): string {
  return `${f.kind}\u0000${f.connection}\u0000${f.severity}\u0000${JSON.stringify(detailsJson(f))}`;
}

/**
 * The expectation JSON for a report. `base`: the existing file's JSON (its header fields are kept). The settings
 * the report was made with are written when `base` has none and they differ from the defaults passed as
 * `writeSettings` (the caller decides: typically the command-line flags that were given).
 */
export function expectationFromReport(report: Report, base: Record<string, unknown> | null = null,
  writeSettings: ExpectationSettings | null = null): { [k: string]: Json } {
  const out: { [k: string]: Json } = { version: EXPECTATION_VERSION };
  const keep = (k: string): void => {
    if (base !== null && base[k] !== undefined) out[k] = base[k] as Json;
  };
  for (const k of Object.keys(base ?? {})) if (k.startsWith('$')) keep(k);
  keep('description');
  if (base !== null && base.settings !== undefined) keep('settings');
  else if (writeSettings !== null && Object.keys(writeSettings).length > 0) out.settings = { ...writeSettings };
  out.unexpected = (base?.unexpected as Json | undefined) ?? 'fail';
  keep('unexpectedSeverity');
  if (report.capture.error !== null) out.truncated = true;

  const byId = new Map(report.connections.map((c) => [c.id, c]));
  out.connections = report.connections.map((c) => {
    const e: { [k: string]: Json } = { connection: selectorJson(c), teardown: c.teardown, closer: c.closer, ending: c.ending };
    return e;
  });

  // Findings with the same verdict on the same connection share one entry with a count.
  const entries: { f: Finding; n: number }[] = [];
  const byVerdict = new Map<string, { f: Finding; n: number }>();
  for (const f of report.findings) {
    const key = verdictKey(f);
    const same = byVerdict.get(key);
    if (same) same.n++;
    else {
      const e = { f, n: 1 };
      byVerdict.set(key, e);
      entries.push(e);
    }
  }
  out.findings = entries.map(({ f, n }) => {
    const c = byId.get(f.connection);
    const e: { [k: string]: Json } = { kind: f.kind };
    if (c !== undefined) e.connection = selectorJson(c);
    else e.connection = f.connection;
    e.severity = f.severity;
    const d = detailsJson(f);
    if (Object.keys(d).length > 0) e.details = d;
    if (n > 1) e.count = n;
    return e;
  });
  return out;
}

/**
 * JSON text as expectation files are written: two-space indentation, and any object or array that fits in
 * `width` columns on one line (selectors, small detail sets) kept on one line.
 */
export function formatExpectationJson(v: Json, width = 110): string {
  return write(v, 0, width) + '\n';
}

function depth(v: Json): number {
  if (v === null || typeof v !== 'object') return 0;
  const xs = Array.isArray(v) ? v : Object.values(v);
  return 1 + xs.reduce<number>((m, x) => Math.max(m, depth(x)), 0);
}

function write(v: Json, indent: number, width: number): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const inline = spaced(v);
  if (depth(v) <= 2 && indent + inline.length <= width) return inline;
  const pad = ' '.repeat(indent + 2);
  const end = ' '.repeat(indent);
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[\n${v.map((x) => pad + write(x, indent + 2, width)).join(',\n')}\n${end}]`;
  const entries = Object.entries(v);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${pad}${JSON.stringify(k)}: ${write(x, indent + 2, width)}`).join(',\n')}\n${end}}`;
}

function spaced(v: Json): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(spaced).join(', ')}]`;
  const entries = Object.entries(v);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${spaced(x)}`).join(', ')} }`;
}
