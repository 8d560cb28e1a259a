/** Rendering the UI in tests: the App over a store holding a real report, keys written to ink's stdin. */
import { existsSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink-testing-library';
import { analyzeFile } from '../../src/analyze/analyze.js';
import type { Report } from '../../src/model/report.js';
import { App } from '../../src/ui/App.js';
import type { Size } from '../../src/ui/App.js';
import { AnalysisStore } from '../../src/ui/store.js';
import type { ViewState } from '../../src/ui/view-state.js';

export const KEY = {
  up: '\x1b[A', down: '\x1b[B', left: '\x1b[D', right: '\x1b[C', enter: '\r', esc: '\x1b', tab: '\t',
  shiftTab: '\x1b[Z', backspace: '\x7f', ctrlC: '\x03', pageDown: '\x1b[6~',
} as const;

/** A fixture path, or a skip reason while it has not been recorded. */
export function fixture(name: string): { path: string; skip: string | false } {
  const path = `fixtures/${name}`;
  return { path, skip: existsSync(path) ? false : `${path} not recorded yet` };
}

const reports = new Map<string, Promise<Report>>();

/** The engine's report of a real capture (analyzed once per test file). */
export function reportOf(path: string): Promise<Report> {
  let r = reports.get(path);
  if (!r) { r = analyzeFile(path).then((x) => x.report); reports.set(path, r); }
  return r;
}

export async function finishedStore(path: string): Promise<AnalysisStore> {
  const store = new AnalysisStore(path);
  store.finish(await reportOf(path));
  return store;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const turn = () => new Promise<void>((r) => setImmediate(r));

export interface Ui {
  /** The last frame as plain text. */
  frame(): string;
  lines(): string[];
  /** Write keys one at a time, letting ink and React settle after each. */
  press(...keys: string[]): Promise<void>;
  /** Wait until the frame contains `text` (or a predicate holds); fails with the frame after `ms`. */
  waitFor(text: string | ((frame: string) => boolean), ms?: number): Promise<string>;
  rerender(size: Size): Promise<void>;
  quitCalls(): number;
  unmount(): void;
}

export async function renderUi(store: AnalysisStore, size: Size = { columns: 80, rows: 24 }, initialState?: ViewState): Promise<Ui> {
  let quits = 0;
  const el = (s: Size) => <App store={store} size={s} onQuit={() => { quits++; }} {...(initialState ? { initialState } : {})} />;
  const app = render(el(size));
  /**
   * Renders are scheduled after the key's handler returns (React's scheduler queues them with setImmediate): wait
   * until a pause and several event-loop turns pass with no new frame. The turns matter on a loaded machine: when the
   * process resumes late, the sleep's timer fires before the queued render, and a pause alone would end too early.
   */
  const settle = async () => {
    const until = Date.now() + 5000;
    let n = app.frames.length;
    do {
      await sleep(10);
      for (let i = 0; i < 5; i++) await turn();
    } while ((app.frames.length !== n && (n = app.frames.length, true)) && Date.now() < until);
  };
  await settle();
  const frame = () => stripVTControlCharacters(app.lastFrame() ?? '');
  return {
    frame,
    lines: () => frame().split('\n'),
    async press(...keys) {
      for (const k of keys) { app.stdin.write(k); await settle(); }
    },
    async waitFor(text, ms = 30_000) {
      const ok = typeof text === 'string' ? (f: string) => f.includes(text) : text;
      const until = Date.now() + ms;
      while (!ok(frame())) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${typeof text === 'string' ? JSON.stringify(text) : 'a condition'}; frame:\n${frame()}`);
        await settle();
      }
      return frame();
    },
    async rerender(s) { app.rerender(el(s)); await settle(); },
    quitCalls: () => quits,
    unmount: () => app.unmount(),
  };
}
