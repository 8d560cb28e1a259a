/**
 * The UI's data: a store with subscribe/getSnapshot (for React's useSyncExternalStore) fed by the analysis.
 * While the capture is read it holds progress figures and the findings judged so far (from the session hooks, at
 * `teardown analyze` keeps the latest LIVE_ROWS of them: StoreOptions.keep); at the end it holds the final Report, and the rows come from where the report is: in
 * memory (`finish`: `teardown report`, `teardown live`), or the on-disk index a streamed `teardown analyze` writes
 * (`finishIndexed`, src/ui/index/). Publishing is throttled (default 10 per second) and always deferred to a timer,
 * so no render ever runs inside the packet loop; `finish` publishes at once.
 */
import type { Counters, SessionHooks } from '../analyze/session.js';
import type { AnalysisSink, LiveStats } from '../analyze/sink.js';
import { ReportSpool } from '../analyze/spool.js';
import { streamAnalysis } from '../analyze/stream.js';
import type { ConnectionReport, Finding, FindingKind, Report, Settings } from '../model/report.js';
import type { CaptureInfo, PacketSource, SourceResult } from '../capture/types.js';
import { CaptureLadders, FrameOffsets } from './index/ladder-readback.js';
import { RowIndex } from './index/row-index.js';
import { tempDirBefore } from '../analyze/temp-dir.js';
import { memoryRows, type RowSource } from './rows.js';

/**
 * Findings (and their connections) `teardown analyze` holds for the list while the capture is read (the latest; the
 * counts stay exact), and the whole list is there when reading ends.
 */
export const LIVE_ROWS = 1000;

export interface Progress {
  bytesRead: number;
  /** File size; null for stdin (no percentage). */
  totalBytes: number | null;
  packets: number;
  tcpPackets: number;
  /** Connections judged so far. */
  connections: number;
  findings: Partial<Record<FindingKind, number>>;
  /** Findings made so far (the list in the snapshot may lag by up to a second while reading). */
  findingsSoFar: number;
  /** Wall-clock seconds since the analysis started (frozen when it ends). */
  elapsed: number;
  packetsPerSecond: number;
  firstTime: number | null;
  lastTime: number | null;
  format: CaptureInfo['format'];
  compressed: boolean;
  linkTypes: number[];
}

export interface UiSnapshot {
  path: string;
  phase: 'reading' | 'done';
  progress: Progress;
  /** Findings so far (judgement order) while reading; the report's findings when done. */
  findings: readonly Finding[];
  /** Connections with findings while reading; every connection when done. */
  connections: ReadonlyMap<string, ConnectionReport>;
  /**
   * What the views read: the two lists above, or (after `teardown analyze`) the on-disk index, when the lists
   * above are empty.
   */
  rows: RowSource;
  /** Reading has ended and the rows are being written to the on-disk index (the views follow when it is done). */
  indexing?: boolean;
  /** While reading: more findings were made than the list keeps (it holds the latest until reading ends). */
  listCapped?: boolean;
  report: Report | null;
  /** The capture damage line (`CaptureError.oneLine()`), when reading stopped early. */
  error: string | null;
  /** Bumped on every publish. */
  version: number;
  /** Live capture (`teardown live`): the interface, filter, rate and drops for the header; absent for a file. */
  live?: LiveHeader;
  /** `teardown report`: the report was merged from result folders, not read from a capture. */
  merged?: MergedFacts;
}

/** What the UI says about a report merged from result folders (`teardown report DIR...`). */
export interface MergedFacts {
  folders: number;
  captures: number;
  labels: string[];
  /** The captures' formats in words ('pcap', 'mixed: 2 pcap, 1 pcapng'). */
  formats: string;
  /** Some folders kept packet ladders only for connections with findings (the default of analyze --out). */
  laddersWithFindingsOnly: boolean;
}

/** What the live header shows: `teardown live`'s once-a-second stats, and why the capture stopped once it has. */
export interface LiveHeader extends LiveStats {
  stoppedBy: string | null;
}

export interface StoreOptions {
  /** Milliseconds; default Date.now / performance-free clock for tests. */
  now?: () => number;
  /** Minimum milliseconds between publishes (default 100: ten redraws a second). */
  interval?: number;
  /**
   * While reading, keep only the latest `keep` findings (and the connections they belong to) for the view; the counts
   * stay exact. Default: all (a file's view); a live capture that runs for hours keeps a bounded list.
   */
  keep?: number;
}

type Listener = () => void;

export class AnalysisStore {
  private snap: UiSnapshot;
  private readonly listeners = new Set<Listener>();
  private readonly now: () => number;
  private readonly interval: number;
  private readonly started: number;
  private lastPublish = -Infinity;
  private lastSignature = '';
  private lastFindingsCopy = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly liveFindings: Finding[] = [];
  private readonly liveConnections = new Map<string, ConnectionReport>();
  private readonly keep: number;
  /** With `keep`: the kept findings per connection (a connection leaves with its last kept finding). */
  private readonly keptOf = new Map<string, number>();
  /** Findings heard while reading (the list may keep fewer), and how many the published copy had heard. */
  private heard = 0;
  private copied = 0;
  /** Live inputs read at publish time: the source, the session's counters (a live object), frames counted. */
  private source: Pick<PacketSource, 'bytesRead' | 'info'> | null = null;
  private counters: Counters | null = null;
  private frames = 0;
  private liveHeader: LiveHeader | undefined;
  private liveVersion = 0;

  /** What finishIndexed() and runAnalysis() leave on disk: removed by close(). */
  private readonly owned: { close(): void }[] = [];

  /** Session hooks that collect findings and their connections as they are judged. */
  readonly hooks: SessionHooks = {
    onFinding: (f) => {
      this.heard++;
      this.liveFindings.push(f);
      if (this.keep !== Infinity) {
        this.keptOf.set(f.connection, (this.keptOf.get(f.connection) ?? 0) + 1);
        if (this.liveFindings.length >= this.keep + (this.keep >> 2)) this.trim();
      }
      this.schedule();
    },
    onConnectionEnd: (c) => {
      if (c.findings.length > 0 && (this.keep === Infinity || this.keptOf.has(c.id))) this.liveConnections.set(c.id, c);
    },
  };

  constructor(path: string, opts: StoreOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.interval = opts.interval ?? 100;
    this.keep = opts.keep ?? Infinity;
    this.started = this.now();
    this.snap = {
      path, phase: 'reading', progress: this.readProgress(), findings: [], connections: this.liveConnections,
      rows: memoryRows([], this.liveConnections), report: null, error: null, version: 0,
    };
  }

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => { this.listeners.delete(l); };
  };

  getSnapshot = (): UiSnapshot => this.snap;

  /** The source being read (its bytesRead and info are read when publishing). */
  attach(source: Pick<PacketSource, 'bytesRead' | 'info'>): void {
    this.source = source;
  }

  /**
   * Every frame is counted (progress between the loop's progress calls, which come every 16 k frames: small or slow
   * inputs still show their packets).
   */
  readonly countFrame = (): void => { this.frames++; };

  /** The store as the analysis loop's sink: findings and connections from the hooks, counters on progress. */
  readonly sink: AnalysisSink = {
    hooks: this.hooks,
    progress: (session) => this.progress(session.counters),
  };

  /** From the engine's onProgress: the session's counters (kept by reference, read when publishing). */
  progress(counters: Counters, source?: Pick<PacketSource, 'bytesRead' | 'info'>): void {
    if (this.snap.phase === 'done') return;
    this.counters = counters;
    if (source) this.source = source;
    this.schedule();
  }

  /** Live capture: the header's figures (published with the next redraw; at once after finish). */
  live(header: LiveHeader): void {
    this.liveHeader = header;
    this.liveVersion++;
    if (this.snap.phase === 'done') {
      this.snap = { ...this.snap, live: header, version: this.snap.version + 1 };
      this.emit();
    } else this.schedule();
  }

  /** Publish the elapsed time and counts while reading, even without new progress calls. */
  heartbeat(): void {
    this.schedule();
  }

  /** The final report, its lists in memory: published at once (`merged`: it comes from result folders). */
  finish(report: Report, merged?: MergedFacts): void {
    const connections = new Map(report.connections.map((c) => [c.id, c]));
    this.done(report, report.findings, connections, memoryRows(report.findings, connections), merged);
  }

  /**
   * The final report of a streamed analysis (its connection and finding lists empty) with its rows in the on-disk
   * index: published at once. The index is closed (its files removed) by close().
   */
  finishIndexed(report: Report, index: RowIndex): void {
    this.owned.push(index);
    this.done(report, [], new Map(), index);
  }

  /** Reading ended; the index is being written (shown in the header and the progress line). */
  indexing(): void {
    this.cancelTimer();
    this.snap = { ...this.snap, progress: this.readProgress(), indexing: true, version: this.snap.version + 1 };
    this.emit();
  }

  /** Files the analysis writes for the view (removed by close(), also when it is called before the end). */
  own(x: { close(): void }): void {
    this.owned.push(x);
  }

  private done(report: Report, findings: readonly Finding[], connections: ReadonlyMap<string, ConnectionReport>, rows: RowSource, merged?: MergedFacts): void {
    this.cancelTimer();
    const p = this.readProgress();
    const cap = report.capture;
    this.snap = {
      ...this.snap,
      phase: 'done',
      progress: {
        ...p, bytesRead: Math.max(p.bytesRead, p.totalBytes ?? 0), packets: cap.packets, tcpPackets: cap.tcpPackets,
        connections: report.summary.connections, findings: { ...report.summary.findings }, findingsSoFar: rows.findingCount,
        packetsPerSecond: p.elapsed > 0 ? cap.packets / p.elapsed : 0, firstTime: cap.firstTime, lastTime: cap.lastTime,
        format: cap.format, compressed: cap.compressed, linkTypes: [...cap.linkTypes],
      },
      findings,
      connections,
      rows,
      listCapped: false,
      indexing: false,
      report,
      error: cap.error,
      version: this.snap.version + 1,
      ...(this.liveHeader ? { live: this.liveHeader } : {}),
      ...(merged ? { merged } : {}),
    };
    this.lastPublish = this.now();
    this.emit();
  }

  /** What the view holds while reading: the findings (judgement order) and the connections with findings. */
  kept(): { findings: readonly Finding[]; connections: readonly ConnectionReport[] } {
    return { findings: this.liveFindings, connections: [...this.liveConnections.values()] };
  }

  /** Drops the oldest findings down to `keep`, and the connections left without a kept finding. */
  private trim(): void {
    const gone = this.liveFindings.splice(0, this.liveFindings.length - this.keep);
    for (const f of gone) {
      const n = (this.keptOf.get(f.connection) ?? 1) - 1;
      if (n > 0) this.keptOf.set(f.connection, n);
      else { this.keptOf.delete(f.connection); this.liveConnections.delete(f.connection); }
    }
  }

  /** A redraw for data that changed without a new snapshot (a ladder read back from the capture). */
  touch(): void {
    this.snap = { ...this.snap, version: this.snap.version + 1 };
    this.emit();
  }

  dispose(): void {
    this.cancelTimer();
    this.listeners.clear();
  }

  /** Removes the index and any spill files (idempotent). */
  close(): void {
    for (const x of this.owned.splice(0)) x.close();
  }

  private readProgress(): Progress {
    const k = this.counters;
    const src = this.source;
    const elapsed = Math.max(0, (this.now() - this.started) / 1000);
    const packets = Math.max(this.frames, k?.packets ?? 0);
    return {
      bytesRead: src?.bytesRead ?? 0, totalBytes: src?.info.totalBytes ?? null, packets,
      tcpPackets: k?.tcpPackets ?? 0, connections: k?.connections ?? 0, findings: { ...(k?.findings ?? {}) },
      findingsSoFar: this.heard, elapsed,
      packetsPerSecond: elapsed > 0 ? packets / elapsed : 0, firstTime: k?.firstTime ?? null, lastTime: k?.lastTime ?? null,
      format: src?.info.format ?? null, compressed: src?.info.compressed ?? false, linkTypes: [...(src?.info.linkTypes ?? [])],
    };
  }

  private schedule(): void {
    if (this.timer !== null || this.snap.phase === 'done') return;
    const wait = Math.max(0, this.lastPublish + this.interval - this.now());
    this.timer = setTimeout(() => { this.timer = null; this.publish(); }, wait);
  }

  private cancelTimer(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
  }

  private publish(): void {
    if (this.snap.phase === 'done') return;
    const progress = this.readProgress();
    // The list is copied (and so re-sorted by the views) at most once a second; counters move at every publish.
    const copy = this.heard !== this.copied && this.now() - this.lastFindingsCopy >= 1000;
    const signature = `${progress.packets} ${progress.bytesRead} ${progress.connections} ${progress.findingsSoFar} ${Math.floor(progress.elapsed)} ${this.liveVersion}`;
    if (!copy && signature === this.lastSignature) return;
    this.lastSignature = signature;
    if (copy) { this.lastFindingsCopy = this.now(); this.copied = this.heard; }
    const findings = copy ? this.liveFindings.slice() : this.snap.findings;
    this.snap = {
      ...this.snap,
      progress,
      findings,
      rows: memoryRows(findings, this.liveConnections),
      listCapped: this.heard > this.liveFindings.length,
      version: this.snap.version + 1,
      ...(this.liveHeader ? { live: this.liveHeader } : {}),
    };
    this.lastPublish = this.now();
    this.emit();
  }

  private emit(): void {
    for (const l of [...this.listeners]) l();
  }
}

export interface RunOptions {
  settings?: Partial<Settings>;
  maxConnections?: number;
  signal?: AbortSignal;
}

/**
 * Read `source` through the analysis loop, feeding the store; resolves with the engine's own result. The analysis
 * is streamed (src/analyze/spool.ts): judged connections go to the spool, not to memory; at the end they are read
 * back in report order into the view's on-disk index (src/ui/index/row-index.ts). A file's frame offsets are kept
 * so that ladders the report did not keep can be read back from it; input that cannot be read twice (stdin, a
 * pipe) keeps every connection's ladder in the index instead. The report returned has the summary and aggregates
 * but empty connection and finding lists (the index holds them). Quitting before the end skips the index.
 */
export async function runAnalysis(store: AnalysisStore, source: PacketSource, opts: RunOptions = {}): Promise<{ report: Report; result: SourceResult }> {
  const dir = await tempDirBefore(source, 'teardown-view-');
  store.own({ close: () => dir.remove() });
  const spool = new ReportSpool({ json: true, ladders: 'all' });
  store.own(spool);
  const rereadable = source.info.totalBytes !== null;
  const offsets = rereadable ? new FrameOffsets(dir) : null;
  if (offsets !== null) store.own(offsets);
  // Counts move even when the loop has not called progress yet (small inputs, a slow pipe on stdin). (Started here:
  // anything that throws before the try below would leave it keeping the process alive.)
  const clock = setInterval(() => store.heartbeat(), 250);
  try {
    store.attach(source);
    const { report, result } = await streamAnalysis(source, {
      sink: store.sink, onFrame: offsets === null ? store.countFrame : (f) => { store.countFrame(); offsets.add(f); },
      packetTickSeconds: null, spool, ladders: rereadable ? 'auto' : 'all',
      ...(opts.settings ? { settings: opts.settings } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      maxConnections: opts.maxConnections,
    });
    if (opts.signal?.aborted) return { report: { ...report, aggregates: { servers: [], pairs: [] } }, result };
    const info = source.info;
    const ladders = offsets === null || offsets.broken || info.format === null || info.format === 'live' ? null
      : new CaptureLadders({ path: info.path, format: info.format, compressed: info.compressed, offsets: offsets.finish(), settings: opts.settings, changed: () => store.touch() });
    if (ladders !== null) store.own(ladders); // the index closes it too; until it exists, only this does
    store.indexing();
    const index = await RowIndex.build(dir, spool.connectionLines(), spool.findingLines(), { ladders });
    const full: Report = { ...report, aggregates: spool.aggregates() };
    spool.close();
    store.finishIndexed(full, index);
    return { report: full, result };
  } finally {
    clearInterval(clock);
  }
}
