/**
 * Opens the terminal UI for `teardown analyze` (the capture is analyzed while the UI runs, keys work throughout)
 * and for `teardown report` (a report merged from result folders, shown at once). Quitting (q, Ctrl-C, or a
 * signal) restores the terminal. When the capture comes from stdin, keys are read from the controlling terminal
 * (/dev/tty).
 */
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { render } from 'ink';
import type { Report, Settings } from '../model/report.js';
import { openCapture } from '../capture/open.js';
import type { SourceResult } from '../capture/types.js';
import { App } from './App.js';
import { AnalysisStore, LIVE_ROWS, runAnalysis, type MergedFacts } from './store.js';
import { ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN } from './screen.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];

export interface InteractiveOptions {
  settings?: Partial<Settings>;
  maxConnections?: number;
  stdout?: NodeJS.WriteStream;
}

/** A keyboard: stdin when it is a terminal and not the capture, else the controlling terminal; null if none. */
export function keyboard(capture: string): { stream: NodeJS.ReadStream; close(): void } | null {
  if (capture !== '-' && process.stdin.isTTY === true) return { stream: process.stdin, close: () => undefined };
  try {
    const tty = new ReadStream(openSync('/dev/tty', 'r'));
    return { stream: tty as unknown as NodeJS.ReadStream, close: () => tty.destroy() };
  } catch {
    return null;
  }
}

/**
 * Analyze `capture` with the UI open. Resolves when the person quits, with the report (of what was read, if
 * they quit early); null when there is no terminal to read keys from (the caller prints the plain report).
 * Throws like `analyzeFile` when the capture cannot be opened, before the UI takes the screen.
 */
export async function analyzeInteractively(capture: string, opts: InteractiveOptions = {}): Promise<{ report: Report; result: SourceResult } | null> {
  const stdout = opts.stdout ?? process.stdout;
  const keys = keyboard(capture);
  if (keys === null) return null;
  let source;
  try {
    source = await openCapture(capture);
  } catch (e) {
    keys.close();
    throw e;
  }
  const store = new AnalysisStore(capture, { keep: LIVE_ROWS });
  const abort = new AbortController();

  let onScreen = true;
  const restore = () => { if (onScreen) { onScreen = false; stdout.write(LEAVE_ALT_SCREEN); } };
  process.once('exit', restore);
  stdout.write(ENTER_ALT_SCREEN);

  const app = render(<App store={store} onQuit={() => abort.abort()} />, {
    stdout, stdin: keys.stream, exitOnCtrlC: false, patchConsole: true,
  });
  // A signal from outside (kill, a closed terminal): ink unmounts on it (raw mode off, cursor back); then leave the
  // alternate screen and die of the same signal. Registered after ink's handler, so that one runs first.
  const onSignal = (sig: NodeJS.Signals) => {
    restore();
    // Dying of the signal runs no exit handler: the index and spill files go first.
    store.close();
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, sig);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  const analysis = runAnalysis(store, source, { ...(opts.settings ? { settings: opts.settings } : {}), maxConnections: opts.maxConnections, signal: abort.signal });
  // An analysis failure (a bug) closes the UI so the error can be printed on the normal screen.
  analysis.catch(() => app.unmount());
  let complete = false;
  try {
    await app.waitUntilExit();
    complete = store.getSnapshot().phase === 'done';
  } finally {
    abort.abort();
    restore();
    process.removeListener('exit', restore);
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    keys.close();
    store.dispose();
  }
  let out;
  try {
    out = await analysis;
  } finally {
    store.close();
  }
  const r = out.report;
  const s = r.summary.severity;
  const n = (k: number, one: string) => `${k} ${one}${k === 1 ? '' : 's'}`;
  // The report is streamed: its findings are counted in the summary, not listed.
  const findings = Object.values(r.summary.findings).reduce((a: number, k) => a + (k ?? 0), 0);
  stdout.write(`teardown: ${r.capture.path}: ${n(r.capture.packets, 'packet')}, ${n(r.summary.connections, 'connection')}, `
    + `${n(findings, 'finding')} (${s.error} error, ${s.warn} warn, ${s.info} info)${complete ? '' : ' — quit before the end of the input: partial'}\n`);
  return out;
}

/**
 * `teardown report` on a terminal: the same views over a report merged from result folders. Resolves when the
 * person quits; false when there is no terminal to read keys from (the caller prints the text report).
 */
export async function showMergedReport(report: Report, merged: MergedFacts, opts: { stdout?: NodeJS.WriteStream } = {}): Promise<boolean> {
  const stdout = opts.stdout ?? process.stdout;
  const keys = keyboard('');
  if (keys === null) return false;
  const store = new AnalysisStore(report.capture.path);
  store.finish(report, merged);
  let onScreen = true;
  const restore = () => { if (onScreen) { onScreen = false; stdout.write(LEAVE_ALT_SCREEN); } };
  process.once('exit', restore);
  stdout.write(ENTER_ALT_SCREEN);
  const app = render(<App store={store} />, { stdout, stdin: keys.stream, exitOnCtrlC: false, patchConsole: true });
  const onSignal = (sig: NodeJS.Signals) => {
    restore();
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, sig);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    await app.waitUntilExit();
  } finally {
    restore();
    process.removeListener('exit', restore);
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    keys.close();
    store.dispose();
  }
  const s = report.summary.severity;
  const n = (k: number, one: string) => `${k} ${one}${k === 1 ? '' : 's'}`;
  stdout.write(`teardown: ${n(merged.folders, 'result folder')}, ${n(merged.captures, 'capture')}: ${n(report.summary.connections, 'connection')}, `
    + `${n(report.findings.length, 'finding')} (${s.error} error, ${s.warn} warn, ${s.info} info)\n`);
  return true;
}
