/**
 * What every analysis thread does around its own streamed session, whoever reads its frames (a file's lane,
 * src/analyze/lane.ts; a live capture's thread, src/report/live-thread-worker.ts): the session sweeps only where the
 * reader says, its connection ids are the thread's own (localId), and each frame and each mark (a sweep, a clock
 * tick, the end of input) stops the thread with a StopMessage rather than a throw the reader cannot place: a frame
 * the analysis failed on (a bug), a heap near its limit, a temporary directory that is full, missing or not writable.
 */
import type { RawFrame } from '../capture/types.js';
import { errorLine } from '../model/error-line.js';
import type { Settings } from '../model/report.js';
import { AnalysisSession, type SessionHooks, type SessionOptions } from './session.js';
import { TempDirError } from './temp-dir.js';

/** The thread stopped: the analysis failed on a frame (a bug), its heap neared its limit, or its temporary directory failed. */
export interface StopMessage { type: 'stop'; why: 'internal' | 'memory' | 'temp'; message: string; frame: number }

/**
 * A thread's connection ids: its number and its own ordinal between U+0001 and U+0002, wherever the id appears (id,
 * previous, next, finding.connection, and the summaries and notes that name a previous incarnation). JSON escapes
 * both characters, so the reader finds every one in the text and puts the global id in its place.
 */
export const localId = (w: number) => (n: number): string => `\u0001${w}.${n}\u0002`;

export class ThreadSession {
  readonly session: AnalysisSession;
  /** Frames that opened connections, ascending, since the caller last emptied the list. */
  opens: number[] = [];
  /** The index of the last frame taken (a mark that fails stops the thread after it). */
  private last = 0;
  private n = 0;

  /**
   * Thread `w`'s session; `guard` (every 4096 frames) names a heap near its limit; `stop` ends the thread with the
   * message (posts it, or throws it on: it returns only by throwing).
   */
  constructor(w: number, settings: Partial<Settings>, hooks: SessionHooks, opts: Omit<SessionOptions, 'sweeps' | 'idOf'>,
    private readonly guard: (() => string | null) | null, private readonly stop: (m: StopMessage) => never) {
    this.session = new AnalysisSession(settings, hooks, { ...opts, sweeps: 'external', idOf: localId(w) });
  }

  /** A frame of this thread's tuples. */
  frame(frame: RawFrame): void {
    const index = frame.index;
    const session = this.session;
    const before = session.opened;
    this.last = index;
    try {
      session.ingest(frame);
    } catch (e) {
      if (e instanceof TempDirError) this.halt('temp', e.message, index);
      this.halt('internal', errorLine(e), index);
    }
    if ((++this.n & 0xfff) === 0 && this.guard !== null) { const full = this.guard(); if (full !== null) this.halt('memory', full, index); }
    // At most one connection opens per frame.
    if (session.opened !== before) this.opens.push(index);
  }

  /** A mark's work (a sweep, a tick, the end of input): a failing temporary directory stops the thread; anything else is thrown as it is. */
  mark(work: () => void): void {
    try {
      work();
    } catch (e) {
      if (e instanceof TempDirError) this.halt('temp', e.message, this.last);
      throw e;
    }
  }

  private halt(why: StopMessage['why'], message: string, frame: number): never {
    return this.stop({ type: 'stop', why, message, frame });
  }
}
