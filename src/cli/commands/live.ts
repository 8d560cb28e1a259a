import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import type { AnalysisSession } from '../../analyze/session.js';
import type { AnalysisSink, SummaryExtras } from '../../analyze/sink.js';
import { ReportSpool } from '../../analyze/spool.js';
import { streamAnalysis, type StreamOptions } from '../../analyze/stream.js';
import { ArrivalClock, DEFAULT_LIVE_BUFFER, DEFAULT_RING, LIVE_SNAPLEN, LiveCaptureError, openLive, type LiveSource } from '../../capture/live.js';
import { PcapWriter } from '../../capture/pcap-writer.js';
import { PcapThreadSource } from '../../capture/pcap-thread.js';
import { endMarkerFrame } from '../../extract/marker.js';
import type { PacketSource, SourceResult } from '../../capture/types.js';
import type { Report, Severity } from '../../model/report.js';
import { plural } from '../../report/format.js';
import { TextView } from '../../report/live-text.js';
import { NdjsonBytes, NdjsonSink, summaryLine } from '../../report/ndjson.js';
import { ThreadedLiveSession } from '../../report/live-threads.js';
import { defaultThreads } from '../../analyze/parallel.js';
import { inCi } from '../ci.js';
import { EXIT_USAGE, UsageError } from '../errors.js';
import { seconds, settingsFrom, severity, shard, wholeNumber, type CommonAnalysisFlags } from '../options.js';
import { ResultsSink } from '../../results/sink.js';
import { stopControls } from '../stop.js';
import { addAnalysisOptions, exitCodeFor } from './analyze.js';

interface LiveFlags extends CommonAnalysisFlags {
  interface: string;
  filter?: string;
  write?: string;
  duration?: number;
  count?: number;
  maxConnections?: number;
  bufferSize?: number;
  ringSize?: number;
  ndjson?: boolean;
  text?: boolean;
  ladders?: 'all' | 'findings';
  failOn?: Severity;
  out?: string;
  label?: string;
  shard?: { k: number; n: number };
  threads?: number;
}

const positiveInt = (name: string) => wholeNumber(name, 1);
const positiveSeconds = (name: string) => seconds(name, true);

const HELP_AFTER = `
libpcap runs on a thread of its own (the teardown-pcap addon) and hands frames, with their kernel timestamps, to
the analysis through a ring buffer (--ring-size). Every lost frame is counted from libpcap's own counters (its
kernel buffer, --buffer-size, and the interface) and the ring's (the analysis or a slow reader of the output fell
behind), and shown in the header, the summary line, the text report, the stop line and <file>.drops.json beside
the -w file; connections open while frames were lost say so in their verdicts. Without the addon, the cap package
captures on the analysis's thread with arrival-time stamps, and drops are estimated from the interface's counters
(without a filter) or unknown.

State ages on the clock: a half-close becomes stuck after --half-close-timeout even when no packets arrive.
Ctrl-C, SIGTERM, --duration or --count end the capture cleanly: the final report is printed and the -w file is a
complete pcap (teardown analyze on it gives the same verdicts). Both end with one non-TCP marker frame at the stop
time, so a half-close still open is aged to the moment the capture stopped, live and offline alike.

Output: on a terminal, the interactive UI updating live (a header with interface, filter, packets/s and drops;
q or Ctrl-C stops the capture), then the text report; with --text, findings as text and a status line, then the
text report; without a terminal (or with --ndjson) NDJSON on stdout: one line per finding as it is made, one per connection when it ends, then a summary line.

Needs libpcap (apt-get install libpcap-dev, then npm rebuild teardown-pcap cap) and capture privileges (root, or
setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))).

Examples:
  teardown live -i eth0 -f 'tcp port 443' -w /tmp/tls.pcap
  teardown live -i lo --duration 60 --ndjson | jq -c 'select(.type=="finding")'`;

export function liveCommand(): Command {
  const cmd = new Command('live')
    .description('capture on an interface (libpcap) and explain teardowns as they happen')
    .requiredOption('-i, --interface <name>', 'interface to capture on (teardown interfaces lists them)')
    .option('-f, --filter <bpf>', "libpcap filter expression, e.g. 'tcp port 80' (default: everything)")
    .option('-w, --write <file>', 'also save every captured packet to this pcap file')
    .option('--duration <seconds>', 'stop after this many seconds', positiveSeconds('--duration'))
    .option('--count <n>', 'stop after this many packets', positiveInt('--count'))
    .option('--max-connections <n>', 'bound the connection table; the least recently active are judged early (counted)', positiveInt('--max-connections'))
    .option('--buffer-size <MiB>', `libpcap's kernel buffer in MiB (default ${DEFAULT_LIVE_BUFFER >> 20})`, positiveInt('--buffer-size'))
    .option('--ring-size <MiB>', `ring between the capture thread and the analysis in MiB (default ${DEFAULT_RING >> 20}); frames that find it full are dropped and counted`, positiveInt('--ring-size'))
    .addOption(new Option('--ndjson', 'NDJSON on stdout even on a terminal').conflicts('text'))
    .option('--text', 'text on stdout even without a terminal')
    .addOption(new Option('--ladders <which>', 'NDJSON connection lines: packet ladders for all connections or only those with findings').choices(['all', 'findings']).default('findings'))
    .option('--fail-on <severity>', 'exit 1 when a finding at or above this severity (info, warn, error) was made', severity)
    .option('--out <dir>', 'when the capture stops, also write the results as Parquet (connections.parquet, findings.parquet, run.json; docs/fleet.md)')
    .option('--label <name>', 'with --out: the host label stored with every row (default: live-<interface>)')
    .option('--shard <K/N>', 'keep only the connections whose 4-tuple hash modulo N is K (0-based)', shard)
    .option('--threads <n>', 'with NDJSON output: analysis threads, each holding the connections of its share of the 4-tuples (default: the machine\'s cores; --text, the interactive view and --out use one); the same lines for any number', wholeNumber('--threads', 1));
  addAnalysisOptions(cmd);
  cmd.addHelpText('after', HELP_AFTER);
  cmd.action(async (o: LiveFlags) => {
    if (cmd.getOptionValueSource('ladders') === 'cli' && (o.text || process.stdout.isTTY === true) && !o.ndjson) {
      throw new UsageError('--ladders only applies to NDJSON output (--ndjson, or stdout not a terminal)');
    }
    if (o.threads !== undefined && o.threads > 1 && (o.text || (process.stdout.isTTY === true && !o.ndjson) || o.out !== undefined)) {
      throw new UsageError(`--threads applies to NDJSON output only${o.out !== undefined ? ' (--out writes the results folder from one thread)' : ' (the text report and the interactive view come from one thread)'}`);
    }
    process.exitCode = await runLive(o);
  });
  return cmd;
}

async function runLive(o: LiveFlags): Promise<number> {
  if (o.label !== undefined && o.out === undefined) throw new UsageError('--label goes with --out');
  // DuckDB is loaded before the capture starts: a missing package is reported at once.
  const results = o.out === undefined ? null : new ResultsSink({ dir: o.out, label: o.label ?? `live-${o.interface}`, shard: o.shard, ladders: o.ladders });
  await results?.open();
  const clock = new ArrivalClock();
  const filter = o.filter ?? '';
  let source: LiveSource;
  try {
    source = openLive({
      device: o.interface, filter, count: o.count, clock,
      bufferSize: o.bufferSize === undefined ? DEFAULT_LIVE_BUFFER : o.bufferSize * 1024 * 1024,
      ringBytes: o.ringSize === undefined ? DEFAULT_RING : o.ringSize * 1024 * 1024,
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
  // NDJSON lines go out together, between batches of frames and on the clock (a write per line is a system call each).
  const lines = new NdjsonBytes(out);

  const tty = process.stdout.isTTY === true;
  const useText = o.text === true || (tty && o.ndjson !== true);
  // A terminal without --text/--ndjson (and not CI: see analyze.ts) gets the interactive UI (src/ui/live-view.tsx).
  const ui = tty && o.text !== true && o.ndjson !== true && !inCi()
    ? (await import('../../ui/live-view.js')).openLiveUi({ interface: o.interface, filter, stop: (why) => io.stop(why) }) : null;
  // NDJSON (not --out): the analysis threads, unless --threads 1 (src/report/live-threads.ts).
  const threads = ui === null && !useText && results === null ? (o.threads ?? defaultThreads()) : 1;
  const threaded = threads > 1
    ? new ThreadedLiveSession({ threads, settings: settingsFrom(o), maxConnections: o.maxConnections, shard: o.shard, ladders: o.ladders ?? 'findings', out: lines })
    : null;
  const view: AnalysisSink = ui ?? (useText
    ? new TextView(out, process.stderr.isTTY === true ? (s) => process.stderr.write(s) : null)
    : threaded !== null ? { end: (r, extras) => lines.text(summaryLine(r, extras)) } : new NdjsonSink(lines, { ladders: o.ladders ?? 'findings' }));
  // Frames the analysis threads had no room for are lost like those the capture ring had none for.
  if (threaded !== null && source instanceof PcapThreadSource) source.ringDropsAfter = () => threaded.drops;

  const started = clock.now();
  const durationTimer = o.duration === undefined ? null : setTimeout(() => io.stop('duration'), o.duration * 1000);
  let lastPackets = 0;
  let lastT = started;
  process.stderr.write(`teardown: capturing on ${o.interface} (${source.linkName}, link type ${source.linkType})${filter ? `, filter '${filter}'` : ''}${writer ? `, saving to ${o.write}` : ''}; ${source.timestamps === 'kernel' ? 'kernel timestamps' : 'timestamps are arrival times'}; Ctrl-C to stop\n`);

  let report: Report;
  let session: AnalysisSession;
  let result: SourceResult;
  let writeFailure: string | null = null;
  /** A -w write; when it fails (ENOSPC…) writing and capturing stop, and the report of what was captured still comes. */
  const saving = (op: (w: PcapWriter) => void): void => {
    if (writer === null) return;
    try {
      op(writer);
    } catch (e) {
      writeFailure = `${o.write}: cannot write: ${(e as Error).message}`;
      writer = null;
      io.stop('-w failed');
    }
  };
  try {
    ({ report, session, result } = await analyzeLive(source, results !== null, {
      settings: settingsFrom(o), maxConnections: o.maxConnections, sink: view, signal: io.signal, shard: o.shard,
      // NDJSON: the ladders the lines carry, built for those connections only (the session's 'auto' would stop
      // building them after its first LADDER_ALL_LIMIT connections, which --ladders all must not).
      ...(ui === null && !useText ? { ladders: o.ladders ?? 'findings' } : {}),
      ...(threaded !== null ? { session: threaded } : {}),
      // A slow reader of stdout holds the analysis; the capture thread goes on, and the ring's drops count it.
      gate: () => { lines.flush(); return io.gate(); },
      onFrame: writer === null ? undefined : (f) => saving((w) => w.writeRawFrame(f)),
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
        lines.flush();
        saving((w) => w.flush());
        const now = clock.now();
        const k = s.counters;
        const rate = (k.packets - lastPackets) / Math.max(1e-3, now - lastT);
        lastPackets = k.packets;
        lastT = now;
        let findings = 0;
        for (const n of Object.values(k.findings)) findings += n ?? 0;
        source.stats();
        view.stats?.({
          interface: o.interface, filter, packets: k.packets, tcpPackets: k.tcpPackets, rate, drops: source.info.drops,
          dropsSource: source.info.dropCounters?.source ?? null,
          connectionsEnded: k.connections, findings, elapsedSeconds: now - started,
        });
      },
    }));
  } finally {
    threaded?.close();
    if (durationTimer !== null) clearTimeout(durationTimer);
    io.release();
    source.close();
    try {
      writer?.close();
    } catch (e) {
      writeFailure ??= `${o.write}: cannot write: ${(e as Error).message}`;
    }
  }
  const stopReason = source.stopReason === 'count' ? 'count' : io.reason;
  const ended = clock.now();
  const extras: SummaryExtras = {
    evicted: session.counters.evicted,
    live: {
      interface: o.interface, filter, linkType: source.linkType, timestamps: source.timestamps, stoppedBy: stopReason,
      seconds: Math.round((ended - started) * 1e6) / 1e6, pcap: o.write ?? null, pcapFrames: writer?.framesWritten ?? null,
      drops: source.info.drops, dropCounters: source.info.dropCounters ?? null,
      dropsNote: dropsNote(source), dropsText: dropsText(source),
    },
  };
  if (o.write !== undefined) writeSidecar(o.write, extras.live!);
  lines.flush();
  await view.end?.(report, extras);
  lines.flush();
  if (results !== null) {
    results.progress(session);
    await results.end(report);
    process.stderr.write(`teardown: wrote ${o.out}: ${report.connections.length} connections, ${report.findings.length} findings\n`);
  }
  if (io.broken) return EXIT_USAGE; // said on stderr already
  if (writeFailure !== null || result.error !== null) {
    const why = writeFailure ?? result.error!.oneLine();
    process.stderr.write(`teardown: ${why}; capture stopped after ${report.capture.packets} packets (the report covers them)\n`);
    return EXIT_USAGE;
  }
  let findings = 0;
  for (const n of Object.values(report.summary.findings)) findings += n ?? 0;
  process.stderr.write(`teardown: stopped (${stopReason}) after ${plural(report.capture.packets, 'packet')}, ${plural(report.summary.connections, 'connection')}, ${plural(findings, 'finding')}; ${dropsText(source)}${writer ? `; ${plural(writer.framesWritten, 'packet')} saved to ${o.write}` : ''}\n`);
  return exitCodeFor(report, o.failOn);
}

/**
 * The analysis loop of a live capture, streamed: a judged connection goes out as its line (NDJSON) and is folded into
 * exact counts and the aggregates (a spool) and, for the text report, into the view's bounded digest (TextView, the
 * UI), not kept: memory follows the connections open at once, not every connection seen in hours of capture.
 * `whole`: keep the whole report (--out writes its results folder from it).
 */
export async function analyzeLive(source: PacketSource, whole: boolean, opts: StreamOptions): ReturnType<typeof streamAnalysis> {
  const spool = whole ? null : new ReportSpool({ json: false });
  try {
    return await streamAnalysis(source, { ...opts, spool: spool ?? undefined });
  } finally {
    spool?.close();
  }
}

/** The drops in one phrase for the stop line and the text report. */
export function dropsText(source: LiveSource): string {
  const d = source.info.dropCounters;
  if (d === null || d === undefined) return 'drops unknown (no libpcap counters, and a filter makes the interface counters incomparable)';
  if (d.source === 'estimate') return `about ${d.total} packets dropped (estimate: interface counters against packets seen)`;
  const parts = [`${d.total} packets dropped`];
  const where: string[] = [];
  if (d.kernel) where.push(`${d.kernel} by the kernel buffer`);
  if (d.interface) where.push(`${d.interface} by the interface`);
  if (d.ring) where.push(`${d.ring} by the ring (analysis behind)`);
  if (where.length) parts.push(`(${where.join(', ')})`);
  if (d.received !== null) parts.push(`of ${d.received} received by libpcap`);
  return parts.join(' ');
}

/**
 * `-w file.pcap` gets `file.pcap.drops.json` beside it: a classic pcap has no place for libpcap's counters, and an
 * offline reader of the file must know that packets were lost while it was written.
 */
function writeSidecar(pcap: string, live: Record<string, unknown>): void {
  try {
    writeFileSync(`${pcap}.drops.json`, JSON.stringify({
      pcap: basename(pcap), interface: live.interface, filter: live.filter, seconds: live.seconds, frames: live.pcapFrames,
      drops: live.drops, dropCounters: live.dropCounters, note: live.dropsNote ?? live.dropsText,
    }, null, 2) + '\n');
  } catch (e) {
    process.stderr.write(`teardown: ${pcap}.drops.json: cannot write: ${(e as Error).message}\n`);
  }
}

function dropsNote(source: LiveSource): string | null {
  const d = source.info.dropCounters;
  if (d === null || d === undefined) return 'drops unknown: the cap fallback has no libpcap counters, and with a filter the interface counters are not comparable';
  if (d.source === 'estimate') return 'estimate: the interface\'s packet counters against the packets seen (cap fallback: no libpcap counters)';
  return null;
}
