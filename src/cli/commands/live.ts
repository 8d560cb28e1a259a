import { Command, Option } from 'commander';
import { captureSummary } from '../../analyze/analyze.js';
import type { ConnectionReport, Finding, Report, Settings, Severity } from '../../model/report.js';
import { AnalysisSession, type SessionHooks } from '../../analyze/session.js';
import { ArrivalClock, DEFAULT_LIVE_BUFFER, LIVE_SNAPLEN, LiveCaptureError, openLive, type LiveSource } from '../../capture/live.js';
import { openCapture } from '../../capture/open.js';
import { PcapWriter } from '../../capture/pcap-writer.js';
import type { RawFrame } from '../../capture/types.js';
import { endMarkerFrame } from '../../extract/marker.js';
import type { PacketSource, SourceResult } from '../../capture/types.js';
import { NdjsonSink, type SummaryExtras } from '../../report/ndjson.js';
import { findingText, textReport } from '../../report/text.js';
import { UsageError } from '../errors.js';
import { settingsFrom, severity, type CommonAnalysisFlags } from '../options.js';
import { addAnalysisOptions, exitCodeFor } from './analyze.js';

/**
 * Where a streaming analysis reports to. NdjsonSink (src/report/ndjson.ts) is one; TextView below is the terminal
 * fallback. The terminal UI (src/ui) plugs in here: a LiveView that renders the header from stats() and the
 * findings/connections as they come, and the final report from end().
 */
export interface LiveView {
  /** Passed to the AnalysisSession. */
  readonly hooks: SessionHooks;
  /** Clock tick: must call session.tick(now) (the view may mark what it announces as provisional). */
  tick(session: AnalysisSession, now: number): void;
  /** About once a second while running. */
  stats?(s: LiveStats): void;
  /** The final report, once (awaited: the UI may wait for the person to quit). */
  end(report: Report, extras: SummaryExtras): void | Promise<void>;
}

export interface LiveStats {
  interface: string;
  filter: string;
  packets: number;
  tcpPackets: number;
  /** Packets per second over the last interval. */
  rate: number;
  /** libpcap drop counter; null: cap does not expose pcap_stats. */
  drops: number | null;
  connectionsEnded: number;
  findings: number;
  elapsedSeconds: number;
}

export interface StreamOptions {
  settings?: Partial<Settings>;
  maxConnections?: number;
  view: LiveView;
  signal?: AbortSignal;
  /** Every frame, before the session sees it (e.g. the -w writer). Must copy what it keeps. */
  onFrame?(frame: Parameters<Parameters<PacketSource['run']>[0]>[0]): void;
  /**
   * Clock for ticks while no packets arrive: returns "now" in epoch seconds, or null to skip this tick.
   * Without it the session ages on packet time only.
   */
  idleClock?: (session: AnalysisSession) => number | null;
  /** Called after every interval tick (about 1 s). */
  onInterval?(session: AnalysisSession): void;
  /** Packet-time seconds between ticks made from the frames themselves (default 1). */
  packetTickSeconds?: number;
  /** Stop when packet time reaches this (epoch seconds): --duration, checked per packet as well as on the timer. */
  deadline?: { at: number; stop(): void };
  tickMs?: number;
  /**
   * A frame that marks the end of the capture (live: the stop time), fed to onFrame and the session after the last
   * packet. Verdicts "at capture end" (a half-close's age) are then measured to the stop, in the report and in the
   * `-w` file read back offline alike (the same marker `extract` writes, src/extract/marker.ts).
   */
  endFrame?(index: number): RawFrame | null;
}

/**
 * The streaming loop shared by `live` and `analyze --ndjson`: frames into one session; ticks every second of packet
 * time (checked per frame, so a busy capture still ages state) and on a wall clock while idle; the view hears
 * findings as they are made and connections as they end.
 */
export async function streamAnalysis(source: PacketSource, opts: StreamOptions): Promise<{ report: Report; result: SourceResult; session: AnalysisSession }> {
  const view = opts.view;
  const session = new AnalysisSession(opts.settings, view.hooks, { maxConnections: opts.maxConnections });
  const onFrame = opts.onFrame;
  const deadline = opts.deadline;
  let nextTick = -Infinity;
  const tickMs = opts.tickMs ?? 1000;
  const step = opts.packetTickSeconds ?? tickMs / 1000;
  const timer = setInterval(() => {
    const now = opts.idleClock?.(session) ?? null;
    if (now !== null) {
      view.tick(session, now);
      nextTick = now + step;
      if (deadline !== undefined && now >= deadline.at) deadline.stop();
    }
    opts.onInterval?.(session);
  }, tickMs);
  try {
    const result = await source.run((frame) => {
      onFrame?.(frame);
      session.ingest(frame);
      const t = frame.tsSec + frame.tsNsec * 1e-9;
      if (t >= nextTick) {
        if (nextTick !== -Infinity) view.tick(session, t);
        nextTick = t + step;
        if (deadline !== undefined && t >= deadline.at) deadline.stop();
      }
    }, opts.signal);
    const end = opts.endFrame?.(session.counters.packets + 1) ?? null;
    if (end !== null) { onFrame?.(end); session.ingest(end); }
    return { report: session.finish(captureSummary(source, session, result)), result, session };
  } finally {
    clearInterval(timer);
  }
}

/** Terminal fallback until the UI's live view is wired: findings as text as they come, a status line, the report. */
export class TextView implements LiveView {
  readonly hooks: SessionHooks;
  private statusShown = false;
  /** Findings printed so far (clock announcements included, unlike the session's counters). */
  private heard = 0;

  constructor(
    private readonly out: (s: string) => void,
    private readonly status: ((s: string) => void) | null,
  ) {
    this.hooks = {
      onFinding: (f: Finding) => {
        this.heard++;
        this.clearStatus();
        this.out(`${findingText(f, undefined)}\n\n`);
      },
      onConnectionEnd: (_c: ConnectionReport) => {},
    };
  }

  tick(session: AnalysisSession, now: number): void {
    session.tick(now);
  }

  stats(s: LiveStats): void {
    if (this.status === null) return;
    const nFindings = Math.max(s.findings, this.heard);
    this.status(`\r\x1b[K${s.interface}${s.filter ? ` [${s.filter}]` : ''}: ${s.packets} packets (${s.tcpPackets} TCP), ${Math.round(s.rate)} pkt/s, drops ${s.drops ?? 'n/a'}, ${s.connectionsEnded} connections ended, ${nFindings} findings, ${s.elapsedSeconds.toFixed(0)} s`);
    this.statusShown = true;
  }

  end(report: Report, extras: SummaryExtras): void {
    this.clearStatus();
    this.out(textReport(report));
    if (extras.evicted) this.out(`  ${extras.evicted} connections judged early: --max-connections reached\n`);
  }

  private clearStatus(): void {
    if (this.statusShown && this.status !== null) this.status('\r\x1b[K');
    this.statusShown = false;
  }
}

interface LiveFlags extends CommonAnalysisFlags {
  interface: string;
  filter?: string;
  write?: string;
  duration?: number;
  count?: number;
  maxConnections?: number;
  bufferSize?: number;
  ndjson?: boolean;
  text?: boolean;
  ladders?: 'all' | 'findings';
  failOn?: Severity;
}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} takes a whole number above 0, not '${v}'`);
    return n;
  };
}

function positiveSeconds(name: string) {
  return (v: string): number => {
    const n = Number(v.replace(/s$/, ''));
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} takes a number of seconds above 0, not '${v}'`);
    return n;
  };
}

const HELP_AFTER = `
Timestamps are arrival times: the cap package delivers no capture timestamps, so each packet is stamped when
teardown reads it (a monotonic clock anchored to wall time, microsecond resolution). Under load packets wait in
the libpcap buffer and get later stamps than the kernel would give; use tcpdump -U -w - | teardown analyze - --ndjson
for kernel timestamps.

State ages on the clock: a half-close becomes stuck after --half-close-timeout even when no packets arrive.
Ctrl-C, SIGTERM, --duration or --count end the capture cleanly: the final report is printed and the -w file is a
complete pcap (teardown analyze on it gives the same verdicts). Both end with one non-TCP marker frame at the stop
time, so a half-close still open is aged to the moment the capture stopped, live and offline alike.

Output: on a terminal, the interactive UI updating live (a header with interface, filter, packets/s and drops;
q or Ctrl-C stops the capture), then the text report; with --text, findings as text and a status line, then the
text report; without a terminal (or with --ndjson) NDJSON on stdout: one line per finding as it is made, one per connection when it ends, then a summary line.

Needs libpcap (apt-get install libpcap-dev, then npm rebuild cap) and capture privileges (root, or
setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))).

Examples:
  teardown live -i eth0 -f 'tcp port 443' -w /tmp/tls.pcap
  teardown live -i lo --duration 60 --ndjson | jq -c 'select(.type=="finding")'`;

export function liveCommand(): Command {
  const cmd = new Command('live')
    .description('capture on an interface (libpcap via cap) and explain teardowns as they happen')
    .requiredOption('-i, --interface <name>', 'interface to capture on (teardown interfaces lists them)')
    .option('-f, --filter <bpf>', "libpcap filter expression, e.g. 'tcp port 80' (default: everything)")
    .option('-w, --write <file>', 'also save every captured packet to this pcap file')
    .option('--duration <seconds>', 'stop after this many seconds', positiveSeconds('--duration'))
    .option('--count <n>', 'stop after this many packets', positiveInt('--count'))
    .option('--max-connections <n>', 'bound the connection table; the least recently active are judged early (counted)', positiveInt('--max-connections'))
    .option('--buffer-size <MiB>', `libpcap buffer in MiB (default ${DEFAULT_LIVE_BUFFER >> 20})`, positiveInt('--buffer-size'))
    .option('--ndjson', 'NDJSON on stdout even on a terminal')
    .option('--text', 'text on stdout even without a terminal')
    .addOption(new Option('--ladders <which>', 'NDJSON connection lines: packet ladders for all connections or only those with findings').choices(['all', 'findings']).default('findings'))
    .option('--fail-on <severity>', 'exit 1 when a finding at or above this severity (info, warn, error) was made', severity);
  addAnalysisOptions(cmd);
  cmd.addHelpText('after', HELP_AFTER);
  cmd.action(async (o: LiveFlags) => {
    process.exitCode = await runLive(o);
  });
  return cmd;
}

async function runLive(o: LiveFlags): Promise<number> {
  const clock = new ArrivalClock();
  const filter = o.filter ?? '';
  let source: LiveSource;
  try {
    source = openLive({
      device: o.interface, filter, count: o.count, clock,
      bufferSize: o.bufferSize === undefined ? DEFAULT_LIVE_BUFFER : o.bufferSize * 1024 * 1024,
    });
  } catch (e) {
    if (e instanceof LiveCaptureError) throw new UsageError(e.message);
    throw e;
  }
  let writer: PcapWriter | null = null;
  if (o.write !== undefined) {
    try {
      writer = PcapWriter.createFile(o.write, { linkType: source.linkType, snaplen: LIVE_SNAPLEN });
    } catch (e) {
      source.close();
      throw new UsageError(`${o.write}: cannot write: ${(e as Error).message}`);
    }
  }

  const io = stopControls(() => writer?.close());
  const out = io.out;

  const tty = process.stdout.isTTY === true;
  const useText = o.text === true || (tty && o.ndjson !== true);
  // A terminal without --text/--ndjson (and not CI: see analyze.ts) gets the interactive UI (src/ui/live-view.tsx).
  const inCi = process.env.CI !== undefined && process.env.CI !== '0' && process.env.CI !== 'false';
  const ui = tty && o.text !== true && o.ndjson !== true && !inCi
    ? (await import('../../ui/live-view.js')).openLiveUi({ interface: o.interface, filter, stop: (why) => io.stop(why) }) : null;
  const view: LiveView = ui ?? (useText
    ? new TextView(out, process.stderr.isTTY === true ? (s) => process.stderr.write(s) : null)
    : new NdjsonSink(out, { ladders: o.ladders ?? 'findings' }));

  const started = clock.now();
  const durationTimer = o.duration === undefined ? null : setTimeout(() => io.stop('duration'), o.duration * 1000);
  let lastPackets = 0;
  let lastT = started;
  process.stderr.write(`teardown: capturing on ${o.interface} (${source.linkName}, link type ${source.linkType})${filter ? `, filter '${filter}'` : ''}${writer ? `, saving to ${o.write}` : ''}; timestamps are arrival times; Ctrl-C to stop\n`);

  let report: Report;
  let session: AnalysisSession;
  try {
    ({ report, session } = await streamAnalysis(source, {
      settings: settingsFrom(o), maxConnections: o.maxConnections, view, signal: io.signal,
      onFrame: writer === null ? undefined : (f) => writer!.writeRawFrame(f),
      idleClock: () => clock.now(),
      endFrame: (index) => {
        const bytes = endMarkerFrame(source.linkType);
        if (bytes === null) return null;
        clock.stamp();
        return { index, tsSec: clock.sec, tsNsec: clock.nsec, linkType: source.linkType, interfaceId: 0, data: bytes,
          dataOffset: 0, capLength: bytes.length, wireLength: bytes.length, fileOffset: 0 };
      },
      deadline: o.duration === undefined ? undefined : { at: started + o.duration, stop: () => io.stop('duration') },
      onInterval: (s) => {
        writer?.flush();
        const now = clock.now();
        const k = s.counters;
        const rate = (k.packets - lastPackets) / Math.max(1e-3, now - lastT);
        lastPackets = k.packets;
        lastT = now;
        let findings = 0;
        for (const n of Object.values(k.findings)) findings += n ?? 0;
        view.stats?.({
          interface: o.interface, filter, packets: k.packets, tcpPackets: k.tcpPackets, rate, drops: source.info.drops,
          connectionsEnded: k.connections, findings, elapsedSeconds: now - started,
        });
      },
    }));
  } finally {
    if (durationTimer !== null) clearTimeout(durationTimer);
    io.release();
    source.close();
    writer?.close();
  }
  const stopReason = source.stopReason === 'count' ? 'count' : io.reason;
  const ended = clock.now();
  const extras: SummaryExtras = {
    evicted: session.counters.evicted,
    live: {
      interface: o.interface, filter, linkType: source.linkType, timestamps: 'arrival', stoppedBy: stopReason,
      seconds: Math.round((ended - started) * 1e6) / 1e6, pcap: o.write ?? null, pcapFrames: writer?.framesWritten ?? null,
      drops: source.info.drops, dropsNote: source.info.drops === null ? 'cap does not expose libpcap drop counters' : null,
    },
  };
  await view.end(report, extras);
  process.stderr.write(`teardown: stopped (${stopReason}) after ${report.capture.packets} packets, ${report.summary.connections} connections, ${report.findings.length} findings${writer ? `; ${writer.framesWritten} packets saved to ${o.write}` : ''}\n`);
  return exitCodeFor(report, o.failOn);
}

/**
 * `teardown analyze <file|-> --ndjson`: the same streaming loop over a file or standard input, on packet time
 * (kernel timestamps kept). On standard input (a live pipe such as tcpdump -U -w -) state also ages while the pipe
 * is quiet: now = last packet time + the wall time since it arrived. Ctrl-C/SIGTERM end it with the summary line.
 */
export async function analyzeNdjson(path: string, o: CommonAnalysisFlags & { ladders?: 'all' | 'findings'; failOn?: Severity }): Promise<number> {
  const source = await openCapture(path);
  const io = stopControls();
  const sink = new NdjsonSink(io.out, { ladders: o.ladders ?? 'findings' });
  let lastArrival = Date.now();
  const stdin = path === '-';
  try {
    const { report, result, session } = await streamAnalysis(source, {
      settings: settingsFrom(o), view: sink, signal: io.signal,
      // A file is read much faster than it was captured: ticking every 10 s of its time keeps the cost down.
      packetTickSeconds: stdin ? 1 : 10,
      onFrame: stdin ? () => { lastArrival = Date.now(); } : undefined,
      idleClock: stdin
        ? (s) => {
            const last = s.counters.lastTime;
            const idle = (Date.now() - lastArrival) / 1000;
            return last === null || idle < 1 ? null : last + idle;
          }
        : undefined,
    });
    if (result.error !== null) process.stderr.write(`teardown: ${result.error.oneLine()}${report.capture.packets ? ` — reporting the ${report.capture.packets} packets before it` : ''}\n`);
    sink.end(report, { evicted: session.counters.evicted });
    return exitCodeFor(report, o.failOn);
  } finally {
    io.release();
  }
}

/** SIGINT/SIGTERM (a second one exits at once) and a closed stdout stop a streaming run through one AbortSignal. */
function stopControls(onForce?: () => void) {
  const ac = new AbortController();
  let reason = 'end of input';
  let broken = false;
  const stop = (why: string): void => {
    if (ac.signal.aborted) return;
    reason = why;
    ac.abort();
  };
  const onStdoutError = (e: NodeJS.ErrnoException): void => {
    broken = true;
    if (e.code !== 'EPIPE') process.stderr.write(`teardown: stdout: ${e.message}\n`);
    stop('stdout closed');
  };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      onForce?.();
      process.stderr.write(`\nteardown: ${sig} again, exiting without the final report\n`);
      process.exit(130);
    }
    stop(sig);
  };
  process.stdout.on('error', onStdoutError);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    stop,
    get reason(): string {
      return reason;
    },
    out: (s: string): void => {
      if (!broken) process.stdout.write(s);
    },
    release: (): void => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.stdout.removeListener('error', onStdoutError);
    },
  };
}
