import { Command, Option } from 'commander';
import type { AnalysisSession } from '../../analyze/session.js';
import type { AnalysisSink, SummaryExtras } from '../../analyze/sink.js';
import { streamAnalysis } from '../../analyze/stream.js';
import { ArrivalClock, DEFAULT_LIVE_BUFFER, LIVE_SNAPLEN, LiveCaptureError, openLive, type LiveSource } from '../../capture/live.js';
import { PcapWriter } from '../../capture/pcap-writer.js';
import { endMarkerFrame } from '../../extract/marker.js';
import type { Report, Severity } from '../../model/report.js';
import { plural } from '../../report/format.js';
import { TextView } from '../../report/live-text.js';
import { NdjsonSink } from '../../report/ndjson.js';
import { inCi } from '../ci.js';
import { UsageError } from '../errors.js';
import { seconds, settingsFrom, severity, wholeNumber, type CommonAnalysisFlags } from '../options.js';
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
  ndjson?: boolean;
  text?: boolean;
  ladders?: 'all' | 'findings';
  failOn?: Severity;
}

const positiveInt = (name: string) => wholeNumber(name, 1);
const positiveSeconds = (name: string) => seconds(name, true);

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
    .addOption(new Option('--ndjson', 'NDJSON on stdout even on a terminal').conflicts('text'))
    .option('--text', 'text on stdout even without a terminal')
    .addOption(new Option('--ladders <which>', 'NDJSON connection lines: packet ladders for all connections or only those with findings').choices(['all', 'findings']).default('findings'))
    .option('--fail-on <severity>', 'exit 1 when a finding at or above this severity (info, warn, error) was made', severity);
  addAnalysisOptions(cmd);
  cmd.addHelpText('after', HELP_AFTER);
  cmd.action(async (o: LiveFlags) => {
    if (cmd.getOptionValueSource('ladders') === 'cli' && (o.text || process.stdout.isTTY === true) && !o.ndjson) {
      throw new UsageError('--ladders only applies to NDJSON output (--ndjson, or stdout not a terminal)');
    }
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
  const ui = tty && o.text !== true && o.ndjson !== true && !inCi()
    ? (await import('../../ui/live-view.js')).openLiveUi({ interface: o.interface, filter, stop: (why) => io.stop(why) }) : null;
  const view: AnalysisSink = ui ?? (useText
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
      settings: settingsFrom(o), maxConnections: o.maxConnections, sink: view, signal: io.signal,
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
  await view.end?.(report, extras);
  process.stderr.write(`teardown: stopped (${stopReason}) after ${plural(report.capture.packets, 'packet')}, ${plural(report.summary.connections, 'connection')}, ${plural(report.findings.length, 'finding')}${writer ? `; ${plural(writer.framesWritten, 'packet')} saved to ${o.write}` : ''}\n`);
  return exitCodeFor(report, o.failOn);
}
