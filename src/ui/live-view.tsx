/**
 * The terminal UI for `teardown live`: an AnalysisSink (src/analyze/sink.ts) backed by an AnalysisStore. The
 * session's hooks feed the store (findings as they are made, clock announcements included; connections as they
 * end), ticks hand it the session's counters, stats() the live header (interface, filter, packets/s, drops). The
 * store publishes at most ten times a second on a timer: nothing is drawn inside the packet loop.
 *
 * q or Ctrl-C stops the capture (the `stop` given by live.ts: the same clean stop as SIGINT); end() then closes
 * the UI and prints the final report on the normal screen. When the capture stops on its own (--duration,
 * --count), the UI stays open on the final report until q.
 */
import type { ReactElement } from 'react';
import { render } from 'ink';
import type { Report } from '../model/report.js';
import { TextDigest } from '../analyze/digest.js';
import type { AnalysisSession, SessionHooks } from '../analyze/session.js';
import type { AnalysisSink, LiveStats, SummaryExtras } from '../analyze/sink.js';
import { plural } from '../report/format.js';
import { textReport } from '../report/text.js';
import { App } from './App.js';
import type { Size } from './App.js';
import { keyboard } from './render.js';
import { AnalysisStore } from './store.js';
import type { LiveHeader, StoreOptions } from './store.js';
import { ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN } from './screen.js';

/** Findings the live view keeps while capturing (the latest; with their connections): bounded over hours. */
export const LIVE_VIEW_FINDINGS = 2000;

/** Stop reasons after which the UI closes at once (a person or a signal asked); otherwise it waits for q. */
const CLOSE_AT_ONCE = new Set(['q', 'SIGINT', 'SIGTERM', 'SIGHUP', 'stdout closed']);

export interface LiveUiOptions {
  interface: string;
  filter: string;
  /** Stops the capture cleanly (live.ts's stop: the source ends, -w is closed, end() follows). */
  stop(why: string): void;
}

export interface LiveScreen {
  /** Takes the UI off the screen and gives the terminal back. */
  close(): Promise<void> | void;
  /** Writes on the normal screen once the UI is closed. */
  print(s: string): void;
}

/**
 * The AnalysisSink: store, hooks and the end-of-capture sequence, independent of where the App is rendered
 * (ink on the terminal, ink-testing-library in tests). Render `element()`; attach the screen with `show()`.
 */
export class StoreLiveView implements AnalysisSink {
  readonly store: AnalysisStore;
  readonly hooks: SessionHooks;
  /** The text report printed when the UI closes, folded as connections are judged (bounded). */
  private readonly digest = new TextDigest(50);
  private header: LiveHeader;
  private screen: LiveScreen | null = null;
  private quitRequested = false;
  private quitWaiter: (() => void) | null = null;
  private readonly quitted: Promise<void>;

  constructor(private readonly opts: LiveUiOptions, storeOptions: StoreOptions = {}) {
    this.store = new AnalysisStore(opts.interface, { keep: LIVE_VIEW_FINDINGS, ...storeOptions });
    const digest = this.digest;
    this.hooks = {
      ...this.store.hooks,
      onJudged: (c, findings, seq, version) => digest.add(c, findings, seq, version),
      onLoose: (findings) => digest.addLoose(findings),
    };
    this.quitted = new Promise<void>((res) => { this.quitWaiter = res; });
    this.header = {
      interface: opts.interface, filter: opts.filter, packets: 0, tcpPackets: 0, rate: 0, drops: null, dropsSource: null,
      connectionsEnded: 0, findings: 0, elapsedSeconds: 0, stoppedBy: null,
    };
    this.store.live(this.header);
  }

  /** The App over this view's store; q/Ctrl-C in it stop the capture. */
  element(size?: Size): ReactElement {
    return <App store={this.store} onQuit={this.quit} {...(size ? { size } : {})} />;
  }

  show(screen: LiveScreen): void {
    this.screen = screen;
  }

  /** q/Ctrl-C: stop the capture (end() follows from live.ts). */
  readonly quit = (): void => {
    if (this.quitRequested) return;
    this.quitRequested = true;
    this.quitWaiter?.();
    this.opts.stop('q');
  };

  tick(session: AnalysisSession, now: number): void {
    // The counters object is live: the store reads it when it publishes (on its timer, not here).
    this.store.progress(session.counters);
    session.tick(now);
  }

  stats(s: LiveStats): void {
    this.header = { ...s, stoppedBy: null };
    this.store.live(this.header);
  }

  async end(report: Report, extras: SummaryExtras): Promise<void> {
    const live = extras.live ?? {};
    const stoppedBy = this.quitRequested ? 'q' : typeof live.stoppedBy === 'string' ? live.stoppedBy : 'end of input';
    const seconds = typeof live.seconds === 'number' ? live.seconds : this.header.elapsedSeconds;
    let findings = 0;
    for (const n of Object.values(report.summary.findings)) findings += n ?? 0;
    this.header = {
      ...this.header, packets: report.capture.packets, tcpPackets: report.capture.tcpPackets, rate: 0,
      connectionsEnded: report.summary.connections, findings, elapsedSeconds: seconds, stoppedBy,
    };
    this.store.live(this.header);
    // A streamed report lists no connections or findings: the view shows the latest ones it kept (counts are exact).
    const streamed = report.connections.length === 0 && report.findings.length === 0;
    const kept = streamed ? this.store.kept() : null;
    this.store.finish(kept === null ? report : {
      ...report, connections: [...kept.connections].sort((a, b) => a.firstFrame - b.firstFrame),
      findings: [...kept.findings].sort((a, b) => a.time - b.time),
    });
    if (!CLOSE_AT_ONCE.has(stoppedBy)) await this.quitted;
    const screen = this.screen;
    this.store.dispose();
    if (screen === null) return;
    await screen.close();
    screen.print(textReport(report, { maxPerKind: 50 }, this.digest));
    if (extras.evicted) screen.print(`  ${plural(extras.evicted, 'connection')} judged early: --max-connections reached\n`);
  }
}


/**
 * The live UI on this terminal, or null when there is no keyboard to read (the caller falls back to text). The
 * screen is taken on the next turn of the event loop, after live.ts has printed its "capturing on" line.
 */
export function openLiveUi(opts: LiveUiOptions & { stdout?: NodeJS.WriteStream }): StoreLiveView | null {
  const stdout = opts.stdout ?? process.stdout;
  const keys = keyboard('');
  if (keys === null) return null;
  const view = new StoreLiveView(opts);
  let onScreen = false;
  let closed = false;
  let app: ReturnType<typeof render> | null = null;
  let exited: Promise<unknown> = Promise.resolve();
  const restore = () => { if (onScreen) { onScreen = false; stdout.write(LEAVE_ALT_SCREEN); } };
  // A closed terminal: stop like Ctrl-C (live.ts handles SIGINT and SIGTERM itself).
  const onHup = () => opts.stop('SIGHUP');
  const start = setImmediate(() => {
    if (closed) return;
    onScreen = true;
    process.once('exit', restore);
    process.on('SIGHUP', onHup);
    stdout.write(ENTER_ALT_SCREEN);
    app = render(view.element(), { stdout, stdin: keys.stream, exitOnCtrlC: false, patchConsole: true });
    // Asked for now: ink only settles a waitUntilExit() made before it unmounts (q unmounts it from inside).
    exited = app.waitUntilExit().catch(() => undefined);
  });
  view.show({
    async close() {
      closed = true;
      clearImmediate(start);
      if (app !== null) (app as ReturnType<typeof render>).unmount();
      await exited;
      restore();
      process.removeListener('exit', restore);
      process.removeListener('SIGHUP', onHup);
      keys.close();
    },
    print: (s) => { stdout.write(s); },
  });
  return view;
}
