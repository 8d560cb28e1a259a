/**
 * A whole `teardown check` run over command-line paths, and `--update`: shared by the CLI command and tests.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { analyzeFile } from '../analyze/analyze.js';
import type { Report, Settings } from '../model/report.js';
import { CaptureError } from '../capture/types.js';
import { ExpectationError, expectationPathFor, parseExpectation } from '../expect/load.js';
import type { Expectation, ExpectationSettings } from '../expect/format.js';
import { expectationFromReport, formatExpectationJson } from '../expect/update.js';
import { checkCapture, checkReport, settingsFor, type CheckResult } from './check.js';
import { discover, type CheckTarget } from './discover.js';

export interface RunOptions {
  /** Defaults for expectations without settings (command-line flags). */
  settings?: Partial<Settings>;
}

function errorResult(capture: string, expectationPath: string | null, error: string): CheckResult {
  return { capture, expectationPath, status: 'error', items: [], problems: [], notes: [], error, report: null, expectation: null };
}

/** Checks every capture the paths name (directories recursively). Discovery problems come back as 'error' results. */
export async function checkPaths(paths: readonly string[], opts: RunOptions = {}): Promise<CheckResult[]> {
  const { targets, errors } = await discover(paths);
  const results: CheckResult[] = [];
  for (const t of targets) results.push(await checkCapture(t.capture, expectationArg(t), opts));
  for (const e of errors) results.push(errorResult(e.path, null, e.message));
  return results;
}

/** The expectation path to hand to checkCapture: undefined (look next to the capture) unless named explicitly. */
function expectationArg(t: CheckTarget): string | undefined {
  return t.expectation === expectationPathFor(t.capture) ? undefined : t.expectation;
}

/** 0 all passed; 1 a check failed or a capture has no expectation; 2 an input error. */
export function exitCodeForResults(results: readonly CheckResult[]): 0 | 1 | 2 {
  if (results.some((r) => r.status === 'error')) return 2;
  if (results.some((r) => r.status === 'fail' || r.status === 'no-expectation')) return 1;
  return 0;
}

export type UpdateAction = 'created' | 'updated' | 'unchanged' | 'error';

export interface UpdateResult {
  capture: string;
  expectationPath: string;
  action: UpdateAction;
  /** What checking the old expectation said ('pass', 'fail'), null when there was none. */
  before: CheckResult | null;
  /** One line for the terminal. */
  message: string;
  report: Report | null;
}

export interface UpdateOptions extends RunOptions {
  /** Settings to record in new expectation files (the flags the user gave). */
  writeSettings?: ExpectationSettings | null;
}

/**
 * Writes or refreshes the expectation of one capture from its current verdicts. An existing file that is not
 * valid JSON or not a valid expectation is left alone (an error): it may hold hand-written work.
 */
export async function updateExpectation(t: CheckTarget, opts: UpdateOptions = {}): Promise<UpdateResult> {
  const base: Omit<UpdateResult, 'action' | 'message'> = { capture: t.capture, expectationPath: t.expectation, before: null, report: null };
  const fail = (message: string): UpdateResult => ({ ...base, action: 'error', message: `${t.expectation}: ${message}` });
  let oldText: string | null = null;
  let raw: Record<string, unknown> | null = null;
  let old: Expectation | null = null;
  try {
    oldText = await readFile(t.expectation, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return fail(`cannot read: ${(e as Error).message}`);
  }
  if (oldText !== null) {
    try {
      const json: unknown = JSON.parse(oldText);
      old = parseExpectation(json, t.expectation);
      raw = json as Record<string, unknown>;
    } catch (e) {
      const msg = e instanceof ExpectationError ? e.message : `not valid JSON (${(e as Error).message})`;
      return fail(`${msg}; not overwriting it (fix or delete it first)`);
    }
  }
  let report: Report;
  try {
    ({ report } = await analyzeFile(t.capture, { settings: settingsFor(old?.settings ?? writeSettingsAsExpectation(opts.writeSettings), opts.settings) }));
  } catch (e) {
    if (e instanceof CaptureError) return { ...base, action: 'error', message: e.oneLine() };
    throw e;
  }
  if (report.capture.error !== null && report.capture.packets === 0) return { ...base, action: 'error', message: report.capture.error };
  const before = old === null ? null : checkReport(report, old, t.capture);
  const text = formatExpectationJson(expectationFromReport(report, raw, opts.writeSettings ?? null));
  const what = `${report.connections.length} connection${report.connections.length === 1 ? '' : 's'}, ${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}`;
  const damaged = report.capture.error !== null ? ` (capture damaged, recorded as "truncated": true: ${report.capture.error})` : '';
  if (oldText === text) return { ...base, before, report, action: 'unchanged', message: `unchanged ${t.expectation} (${what})` };
  await writeFile(t.expectation, text);
  if (oldText === null) return { ...base, before, report, action: 'created', message: `created ${t.expectation} (${what})${damaged}` };
  const was = before === null ? '' : before.status === 'pass' ? ', it was passing' : `, it was failing ${before.items.filter((i) => !i.ok).length} of ${before.items.length} checks`;
  return { ...base, before, report, action: 'updated', message: `updated ${t.expectation} (${what}${was})${damaged}` };
}

function writeSettingsAsExpectation(s: UpdateOptions['writeSettings']): Expectation['settings'] {
  return s ?? {};
}

/** `--update` over command-line paths. */
export async function updatePaths(paths: readonly string[], opts: UpdateOptions = {}): Promise<{ updates: UpdateResult[]; errors: { path: string; message: string }[] }> {
  const { targets, errors } = await discover(paths);
  const updates: UpdateResult[] = [];
  for (const t of targets) updates.push(await updateExpectation(t, opts));
  return { updates, errors };
}
