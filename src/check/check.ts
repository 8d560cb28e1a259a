/**
 * `teardown check` as functions: a Report (or a capture file) against an Expectation → a CheckResult that says
 * what passed and what differs. The CLI (src/cli/commands/check.ts) and the project's fixture test suite both
 * run through checkCapture(), so a fixture passes in `npm test` exactly when it passes `teardown check`.
 *
 * Matching (docs/expectations.md): finding entries are taken most specific first; each takes the not yet taken
 * findings of its kind on the connections its selector matches whose severity and details match. The number taken
 * must satisfy `count` (default exactly 1). Findings left over are "unexpected": they fail the check when the
 * expectation says `"unexpected": "fail"` and their severity reaches `unexpectedSeverity`.
 */
import { analyzeFile } from '../analyze/analyze.js';
import type { ConnectionReport, Finding, Report, Settings, Severity } from '../model/report.js';
import { CaptureError } from '../capture/types.js';
import { TIME_WAIT_PROFILES } from '../model/settings.js';
import { atLeast } from '../model/severity.js';
import { compare, matchDetails, type DetailMismatch } from '../expect/detail.js';
import type { Comparison, ConnectionExpectation, Expectation, ExpectationSettings, FindingExpectation } from '../expect/format.js';
import { ExpectationError, expectationPathFor, loadExpectation } from '../expect/load.js';
import { ConnectionIndex } from '../expect/selector.js';

export type CheckStatus = 'pass' | 'fail' | 'no-expectation' | 'error';

/** A connection field that differs: teardown, closer, ending, handshake, states.client, states.server. */
export interface FieldMismatch {
  field: string;
  expected: string;
  actual: string;
}

export type Problem =
  /** No finding of the kind on the selected connection(s). `connections`: what the selector matched. */
  | { type: 'missing'; entry: FindingExpectation; connections: ConnectionReport[] }
  /** Findings of the kind on the selected connection(s), but severity or details differ (one per such finding). */
  | { type: 'details'; entry: FindingExpectation; finding: Finding; mismatches: DetailMismatch[] }
  /** Matching findings, but not as many as `count` says. */
  | { type: 'count'; entry: FindingExpectation; found: Finding[] }
  /** A finding no entry took (in "unexpected": "fail" mode, at or above the severity floor). */
  | { type: 'unexpected'; finding: Finding }
  /** A connection entry whose selector matched nothing (or not `count` connections). */
  | { type: 'no-connection'; entry: ConnectionExpectation; found: ConnectionReport[] }
  /** A selected connection whose teardown/closer/ending/handshake/states differ. */
  | { type: 'connection'; entry: ConnectionExpectation; connection: ConnectionReport; mismatches: FieldMismatch[] }
  /** The expectation says the capture is damaged ("truncated": true) but it read to its end. */
  | { type: 'capture'; message: string };

/** One assertion of the expectation (one JUnit test case). */
export interface CheckItem {
  /** Place in the file: 'findings[0]', 'connections[2]', 'unexpected', 'capture'. */
  ref: string;
  /** What it asserts, for people: 'stuck-half-close on client 127.0.0.1:41009 server 127.0.0.1:5009 #0'. */
  title: string;
  ok: boolean;
  problems: Problem[];
}

export interface CheckResult {
  capture: string;
  /** The expectation file (null when given as an object without a path). */
  expectationPath: string | null;
  status: CheckStatus;
  items: CheckItem[];
  /** Every problem of every item, in item order. */
  problems: Problem[];
  /** Things worth saying that do not fail the check (findings ignored by the unexpected mode…). */
  notes: string[];
  /** Input error (status 'error'): one line. */
  error: string | null;
  report: Report | null;
  expectation: Expectation | null;
}

export interface CheckOptions {
  /** Analysis settings for expectations that do not set them (the expectation's own settings win). */
  settings?: Partial<Settings>;
}


/** Analysis settings for an expectation: the file's settings over the caller's defaults. */
export function settingsFor(exp: ExpectationSettings, defaults: Partial<Settings> = {}): Partial<Settings> {
  const s: Partial<Settings> = { ...defaults };
  if (exp.halfCloseTimeout !== undefined) s.halfCloseTimeout = exp.halfCloseTimeout;
  if (exp.flowKey !== undefined) s.flowKey = exp.flowKey;
  if (typeof exp.timeWait === 'number') {
    s.timeWait = exp.timeWait;
    s.timeWaitProfile = 'custom';
  } else if (typeof exp.timeWait === 'string') {
    const key = exp.timeWait === 'bsd' ? 'freebsd' : exp.timeWait;
    const v = TIME_WAIT_PROFILES[key];
    if (v !== undefined) {
      s.timeWait = v;
      s.timeWaitProfile = key;
    }
  }
  return s;
}

export function findingTitle(e: FindingExpectation): string {
  const count = e.count.op === '==' && e.count.value === 1 ? '' : e.count.op === '==' ? ` ×${e.count.value}` : ` (count ${e.count.text})`;
  return `${e.kind}${count} on ${e.connectionText ?? 'any connection'}`;
}

export function connectionTitle(e: ConnectionExpectation): string {
  const want: string[] = [];
  if (e.teardown !== null) want.push(`teardown ${e.teardown}`);
  if (e.closer !== undefined) want.push(`closer ${e.closer ?? 'none'}`);
  if (e.ending !== null) want.push(`ending ${e.ending}`);
  if (e.handshake !== null) want.push(`handshake ${e.handshake}`);
  if (e.states.client !== null || e.states.server !== null) want.push(`states ${e.states.client ?? '*'}/${e.states.server ?? '*'}`);
  return `${e.connectionText}: ${want.join(', ') || 'exists'}`;
}

function specificity(e: FindingExpectation): number {
  const s = e.connection;
  const sel = s === null ? 0 : Object.keys(s).length + (s.id !== undefined || s.tuple !== undefined ? 2 : 0);
  return sel * 100 + Object.keys(e.details).length + (e.severity !== null ? 1 : 0);
}

function findingMismatches(e: FindingExpectation, f: Finding): DetailMismatch[] {
  const out: DetailMismatch[] = [];
  if (e.severity !== null && f.severity !== e.severity) out.push({ path: 'severity', expected: JSON.stringify(e.severity), actual: JSON.stringify(f.severity) });
  out.push(...matchDetails(e.details, f.details));
  return out;
}

function connectionMismatches(e: ConnectionExpectation, c: ConnectionReport): FieldMismatch[] {
  const out: FieldMismatch[] = [];
  const cmp = (field: string, want: string | null | undefined, have: string | null, wanted: boolean): void => {
    if (wanted && want !== have) out.push({ field, expected: want ?? 'none', actual: have ?? 'none' });
  };
  cmp('teardown', e.teardown, c.teardown, e.teardown !== null);
  cmp('closer', e.closer, c.closer, e.closer !== undefined);
  cmp('ending', e.ending, c.ending, e.ending !== null);
  cmp('handshake', e.handshake, c.handshake, e.handshake !== null);
  cmp('states.client', e.states.client, c.states.client, e.states.client !== null);
  cmp('states.server', e.states.server, c.states.server, e.states.server !== null);
  return out;
}

const atLeastOne = (cmp: Comparison): boolean => !compare(cmp, 0);

/** Checks a finished Report against an Expectation. Pure: reads both, changes neither. */
export function checkReport(report: Report, exp: Expectation, capture: string = report.capture.path): CheckResult {
  const index = new ConnectionIndex(report.connections);
  const items: CheckItem[] = [];
  const notes: string[] = [];

  const cap = report.capture;
  if (cap.error !== null && !exp.truncated) {
    return result(capture, exp, 'error', [], [], `capture damaged: ${cap.error} (if the fixture is meant to be cut off, say "truncated": true in the expectation)`, report);
  }
  if (exp.truncated && cap.error === null) {
    items.push({ ref: 'capture', title: 'capture is damaged or cut off ("truncated": true)', ok: false,
      problems: [{ type: 'capture', message: 'the expectation says the capture is damaged ("truncated": true), but it was read to its end' }] });
  }

  exp.connections.forEach((e, i) => {
    const found = index.select(e.connection);
    const problems: Problem[] = [];
    const countOk = e.count === null ? found.length > 0 : compare(e.count, found.length);
    if (!countOk) problems.push({ type: 'no-connection', entry: e, found });
    for (const c of found) {
      const mismatches = connectionMismatches(e, c);
      if (mismatches.length) problems.push({ type: 'connection', entry: e, connection: c, mismatches });
    }
    items.push({ ref: `connections[${i}]`, title: connectionTitle(e), ok: problems.length === 0, problems });
  });

  const pool = new Set<Finding>(report.findings);
  const byConnection = new Map<string, Finding[]>();
  for (const f of report.findings) {
    const list = byConnection.get(f.connection);
    if (list === undefined) byConnection.set(f.connection, [f]);
    else list.push(f);
  }
  const order = exp.findings.map((e, i) => ({ e, i })).sort((a, b) => specificity(b.e) - specificity(a.e) || a.i - b.i);
  const findingItems: CheckItem[] = new Array<CheckItem>(exp.findings.length);
  for (const { e, i } of order) {
    const scope = e.connection === null ? report.findings : index.select(e.connection).flatMap((c) => byConnection.get(c.id) ?? []);
    const candidates = scope.filter((f) => f.kind === e.kind && pool.has(f));
    const full: Finding[] = [];
    const partial: { f: Finding; mismatches: DetailMismatch[] }[] = [];
    for (const f of candidates) {
      const m = findingMismatches(e, f);
      if (m.length === 0) full.push(f);
      else partial.push({ f, mismatches: m });
    }
    const problems: Problem[] = [];
    if (compare(e.count, full.length)) {
      for (const f of full) pool.delete(f);
    } else {
      for (const f of full) pool.delete(f);
      if (full.length > 0 || !atLeastOne(e.count)) problems.push({ type: 'count', entry: e, found: full });
      if (atLeastOne(e.count) && partial.length > 0) {
        for (const p of partial) {
          pool.delete(p.f);
          problems.push({ type: 'details', entry: e, finding: p.f, mismatches: p.mismatches });
        }
      } else if (full.length === 0 && atLeastOne(e.count)) {
        const conns = e.connection === null ? [] : index.select(e.connection);
        problems.push({ type: 'missing', entry: e, connections: conns });
      }
    }
    findingItems[i] = { ref: `findings[${i}]`, title: findingTitle(e), ok: problems.length === 0, problems };
  }
  items.push(...findingItems);

  const left = [...pool];
  if (exp.unexpected === 'fail') {
    const failing = left.filter((f) => atLeast(f.severity, exp.unexpectedSeverity));
    const below = left.length - failing.length;
    items.push({
      ref: 'unexpected',
      title: `no other findings${exp.unexpectedSeverity === 'info' ? '' : ` at or above ${exp.unexpectedSeverity}`}`,
      ok: failing.length === 0,
      problems: failing.map((finding) => ({ type: 'unexpected', finding })),
    });
    if (below > 0) notes.push(`${below} other finding(s) below ${exp.unexpectedSeverity} not checked (unexpectedSeverity)`);
  } else if (left.length > 0) {
    const kinds = new Map<string, number>();
    for (const f of left) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
    notes.push(`${left.length} other finding(s) not checked ("unexpected": "ignore"): ${[...kinds].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  }

  const failed = items.some((it) => !it.ok);
  return result(capture, exp, failed ? 'fail' : 'pass', items, notes, null, report);
}

function result(capture: string, exp: Expectation | null, status: CheckStatus, items: CheckItem[], notes: string[],
  error: string | null, report: Report | null, expectationPath: string | null = exp?.path ?? null): CheckResult {
  return { capture, expectationPath, status, items, problems: items.flatMap((it) => it.problems), notes, error, report, expectation: exp };
}

/**
 * Analyzes `capture` with the expectation's settings and checks it. `expectation`: an Expectation, the path of an
 * expectation file, or omitted for the file next to the capture (`x.pcap` → `x.expect.json`). Never throws for
 * input problems: an unreadable capture or a bad expectation file is status 'error' with a one-line `error`,
 * a missing expectation next to the capture is status 'no-expectation'.
 */
export async function checkCapture(capture: string, expectation?: Expectation | string, opts: CheckOptions = {}): Promise<CheckResult> {
  let exp: Expectation;
  const path = typeof expectation === 'string' ? expectation : expectation === undefined ? expectationPathFor(capture) : expectation.path;
  if (expectation === undefined || typeof expectation === 'string') {
    try {
      const loaded = await loadExpectation(path!);
      if (loaded === null) {
        if (typeof expectation === 'string') return result(capture, null, 'error', [], [], `${path}: no such expectation file`, null, path);
        return result(capture, null, 'no-expectation', [], [], null, null, path);
      }
      exp = loaded;
    } catch (e) {
      if (e instanceof ExpectationError) return result(capture, null, 'error', [], [], e.oneLine(), null, path);
      throw e;
    }
  } else {
    exp = expectation;
  }
  let report: Report;
  try {
    ({ report } = await analyzeFile(capture, { settings: settingsFor(exp.settings, opts.settings) }));
  } catch (e) {
    if (e instanceof CaptureError) return result(capture, exp, 'error', [], [], e.oneLine(), null, path);
    throw e;
  }
  if (report.capture.error !== null && report.capture.packets === 0) {
    return result(capture, exp, 'error', [], [], report.capture.error, report, path);
  }
  const r = checkReport(report, exp, capture);
  r.expectationPath = path;
  return r;
}
