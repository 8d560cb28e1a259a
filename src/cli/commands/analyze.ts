import { Command, Option } from 'commander';
import type { AnalysisSink } from '../../analyze/sink.js';
import { streamAnalysis } from '../../analyze/stream.js';
import { openCapture } from '../../capture/open.js';
import { CaptureError } from '../../capture/types.js';
import { FLOW_KEYS, type Report, type Severity } from '../../model/report.js';
import { DEFAULT_MAX_CONNECTIONS } from '../../analyze/session.js';
import { TextDigest } from '../../analyze/digest.js';
import { statSync } from 'node:fs';
import { defaultThreads, streamAnalysisParallel, ThreadStop } from '../../analyze/parallel.js';
import { ReportSpool } from '../../analyze/spool.js';
import { TempDirError } from '../../analyze/temp-dir.js';
import { jsonChunks, jsonSpoolChunks, jsonSpoolChunksAside, OutChunks } from '../../report/json.js';
import { NdjsonBytes, NdjsonSink } from '../../report/ndjson.js';
import { textReport } from '../../report/text.js';
import { ResultsSink } from '../../results/sink.js';
import { inCi } from '../ci.js';
import { UsageError } from '../errors.js';
import { exitCodeFor, exitWhenFlushed, outcome } from '../outcome.js';
import { seconds, settingsFrom, severity, shard, timeWait, wholeNumber, type CommonAnalysisFlags } from '../options.js';
import { stopControls, type StopControls } from '../stop.js';

interface AnalyzeFlags extends CommonAnalysisFlags {
  text?: boolean;
  json?: boolean;
  ndjson?: boolean;
  ladders?: 'all' | 'findings';
  failOn?: Severity;
  maxPerKind?: number;
  maxConnections?: number;
  out?: string;
  label?: string;
  shard?: { k: number; n: number };
  threads?: number;
}

export { exitCodeFor };

export function addAnalysisOptions(cmd: Command): Command {
  return cmd
    .option('--half-close-timeout <seconds>', 'a half-close older than this, with an idle peer, is stuck (Linux tcp_fin_timeout)', seconds('--half-close-timeout'))
    .option('--time-wait <seconds|profile>', 'TIME_WAIT length: seconds, or linux (60), bsd (60), macos (30), windows (240), rfc (240)', timeWait)
    .addOption(new Option('--flow-key <key>', 'what keeps connections on the same 4-tuple apart: tuple (sequence numbers decide across VLANs, tunnels and interfaces), tuple+vlan or tuple+interface (strict)').choices(FLOW_KEYS));
}

export function analyzeCommand(): Command {
  const cmd = new Command('analyze')
    .description('analyze a capture file (pcap, pcapng, gzip; - for standard input)')
    .argument('<capture>', 'capture file, or - for standard input')
    .addOption(new Option('--text', 'plain text report (default when stdout is not a terminal)').conflicts(['json', 'ndjson']))
    .addOption(new Option('--json', 'one JSON object (docs/json-format.md)').conflicts('ndjson'))
    .option('--ndjson', 'stream NDJSON as the input is read: a line per finding as made, per connection as it ends, then a summary (tcpdump -U -w - | teardown analyze - --ndjson)')
    .addOption(new Option('--ladders <which>', 'with --json or --ndjson: include packet ladders for all connections or only those with findings').choices(['all', 'findings']).default('findings'))
    .option('--max-per-kind <n>', 'text report (implies --text on a terminal): findings printed in full per kind, worst first (0 = all)', wholeNumber('--max-per-kind'))
    .option('--fail-on <severity>', 'exit 1 when a finding at or above this severity (info, warn, error) exists', severity)
    .option('--max-connections <n>', `bound the connection table (default ${DEFAULT_MAX_CONNECTIONS}): handshake-only connections are dropped first, then the least recently active are judged early (counted)`, wholeNumber('--max-connections', 1))
    .option('--out <dir>', 'write the results as Parquet (connections.parquet, findings.parquet, run.json) for teardown report and SQL engines (docs/fleet.md); prints the report only with --text/--json')
    .option('--label <name>', 'with --out: the host or capture label stored with every row (default: the capture file name)')
    .option('--shard <K/N>', 'analyze only the connections whose 4-tuple hash modulo N is K (0-based): N processes with K = 0…N-1 cover the capture exactly once', shard)
    .option('--threads <n>', 'with --json or --text: analysis threads, each holding the connections of its share of the 4-tuples (default: the machine\'s cores; --ndjson and --out use one); the report is the same for any number', wholeNumber('--threads', 1));
  addAnalysisOptions(cmd);
  cmd.action(async (capture: string, o: AnalyzeFlags) => {
    // Options that cannot apply to the output chosen are refused rather than ignored.
    if (cmd.getOptionValueSource('ladders') === 'cli' && !o.json && !o.ndjson) throw new UsageError('--ladders only applies with --json or --ndjson');
    if (o.maxPerKind !== undefined && (o.json || o.ndjson)) throw new UsageError(`--max-per-kind only applies to the text report, not with --${o.json ? 'json' : 'ndjson'}`);
    if (o.label !== undefined && o.out === undefined) throw new UsageError('--label goes with --out');
    // One thread is always fine; more only where the report is printed from a spool (--json, --text).
    if (o.threads !== undefined && o.threads > 1 && (o.ndjson || o.out !== undefined || (!o.json && !o.text))) {
      throw new UsageError(`--threads applies to --json and --text only${o.ndjson ? ' (--ndjson writes connections in the order they end, from one thread)' : o.out !== undefined ? ' (--out writes the results folder from one thread)' : ''}`);
    }
    // DuckDB is loaded before the capture is read: a missing package is reported at once.
    const results = o.out === undefined ? null : new ResultsSink({ dir: o.out, label: o.label, shard: o.shard, ladders: o.ladders });
    await results?.open();
    if (o.ndjson) { process.exitCode = await analyzeNdjson(capture, o, results); return; }
    // A terminal without --text/--json/--out gets the interactive UI (null: no keyboard, print the plain report).
    // ink draws nothing until exit when CI is set (its is-in-ci check): a CI job gets the text report instead.
    const ui = !o.text && !o.json && o.maxPerKind === undefined && results === null && o.shard === undefined && process.stdout.isTTY === true && !inCi()
      ? await (await import('../../ui/render.js')).analyzeInteractively(capture, { settings: settingsFrom(o), maxConnections: o.maxConnections }) : null;
    if (ui) {
      if (ui.result.error !== null) process.stderr.write(`teardown: ${ui.result.error.oneLine()}${ui.report.capture.packets ? ` — reporting the ${ui.report.capture.packets} packets before it` : ''}\n`);
      process.exitCode = exitCodeFor(ui.report, o.failOn);
      return;
    }
    // Otherwise the loop without clock ticks, then the final report and/or the results folder. SIGINT/SIGTERM stop
    // the reading: the report covers what was read, marked interrupted.
    const print = results === null || o.text === true || o.json === true;
    let source = await openCapture(capture);
    const io = stopControls();
    // Streamed: judged connections are spooled (JSON) or folded into the text digest, not kept; memory follows
    // the connections open at once. The results folder (--out) is written from the whole report.
    // The text report lists only the pairs with reuse: the spool keeps no other pair row.
    let spool = results === null ? new ReportSpool({ json: o.json === true, ladders: o.ladders ?? 'findings', pairs: o.json ? 'all' : 'reuse' }) : null;
    let digest = spool !== null && !o.json ? new TextDigest(o.maxPerKind ?? 50) : null;
    const threads = analysisThreads(o.threads, spool !== null);
    const single = () => streamAnalysis(source, {
      settings: settingsFrom(o), maxConnections: o.maxConnections, shard: o.shard, spool: spool ?? undefined,
      sink: {
        hooks: digest === null ? undefined : { onJudged: (c, f, seq, v) => digest?.add(c, f, seq, v), onLoose: (f) => digest?.addLoose(f) },
        progress: results === null ? undefined : (session) => results.progress(session),
      },
      packetTickSeconds: null, signal: io.signal, interrupted: () => io.interruptedBy !== null,
    });
    let code: number;
    try {
      let run;
      if (spool !== null && threads > 1) {
        try {
          run = await streamAnalysisParallel(source, {
            threads, settings: settingsFrom(o), maxConnections: o.maxConnections, shard: o.shard, spool, digest,
            signal: io.signal, interrupted: () => io.interruptedBy !== null,
          });
        } catch (e) {
          // A thread failed on a frame or neared its heap limit: one thread reports what was read before it. A
          // regular file is read again that way; other inputs cannot be (the one line says --threads 1).
          if (!(e instanceof ThreadStop) || capture === '-' || !isFile(capture)) throw e;
          spool.close();
          spool = new ReportSpool(spool.opts);
          digest = digest === null ? null : new TextDigest(digest.maxPerKind);
          source = await openCapture(capture);
        }
      }
      const { report, result } = run ?? await single();
      if (results !== null) {
        await results.end(report);
        process.stderr.write(`teardown: wrote ${o.out}: ${report.connections.length} connections, ${report.findings.length} findings${o.shard ? ` (shard ${o.shard.k}/${o.shard.n})` : ''}\n`);
      }
      if (print && !nothingAnalyzed(report)) { // after an input error before the first packet stdout stays empty
        if (o.json) {
          const chunks = new OutChunks();
          // With threads, the aggregates are folded on one while the connections go out (a thread stopped early: one thread throughout).
          const streamed = spool === null ? null : run !== undefined ? jsonSpoolChunksAside(report, spool, chunks) : jsonSpoolChunks(report, spool, chunks);
          const full = await writeJsonTo(io, streamed ?? jsonChunks(report, { ladders: o.ladders ?? 'findings' }), chunks);
          // The line names the capture, as one stopped while reading does, and says what stdout holds.
          if (full) throw new CaptureError('TEMP_DIR', `${full.error.message}; ${full.cut ? 'the JSON on stdout stops short of its end' : 'no report was written'}`, capture, null);
        }
        else io.out(textReport(report, { maxPerKind: o.maxPerKind ?? 50 }, digest ?? undefined));
      }
      code = outcome(report, result, io, o.failOn);
    } finally {
      spool?.close();
      io.release();
    }
    if (io.interruptedBy !== null || io.broken) await exitWhenFlushed(code);
    process.exitCode = code;
  });
  return cmd;
}

/**
 * Analysis threads: as asked, else the machine's cores when the report is printed from a spool (--json, --text),
 * else one (--ndjson writes connections as they end, --out from the whole report).
 */
export function analysisThreads(asked: number | undefined, spooled: boolean, cores: number = defaultThreads()): number {
  return spooled ? asked ?? cores : 1;
}

function isFile(path: string): boolean {
  try { return statSync(path).isFile(); } catch { return false; }
}

/** An input error before the first packet: there is no report to print. */
const nothingAnalyzed = (report: Report): boolean => report.capture.error !== null && report.capture.packets === 0;

/**
 * Streams the JSON report with backpressure: a huge report never sits in memory as one string. A byte chunk goes
 * back to `recycle` when stdout wrote it through (a chunk a pipe still holds is left to the garbage collector).
 * A temporary directory that fills meanwhile (the spools and the aggregates' thread write there) is returned with
 * whether stdout has part of the document (`cut`).
 */
async function writeJsonTo(io: StopControls, chunks: Iterable<string | Uint8Array | Promise<void>>, recycle: OutChunks): Promise<{ error: TempDirError; cut: boolean } | undefined> {
  let cut = false;
  try {
    for (const c of chunks) {
      if (io.broken) return undefined;
      if (c instanceof Promise) { await c; continue; } // the aggregates' thread (jsonSpoolChunksAside)
      if (io.out(c) && typeof c !== 'string') recycle.give(c);
      cut = true;
      const wait = io.gate();
      if (wait) await wait;
    }
  } catch (e) {
    if (e instanceof TempDirError) return { error: e, cut };
    throw e;
  }
  return undefined;
}

/**
 * `teardown analyze <file|-> --ndjson`: the same streaming loop over a file or standard input, on packet time
 * (kernel timestamps kept). On standard input (a live pipe such as tcpdump -U -w -) state also ages while the pipe
 * is quiet: now = last packet time + the wall time since it arrived. Ctrl-C/SIGTERM end it with the summary line.
 */
export async function analyzeNdjson(path: string, o: CommonAnalysisFlags & { ladders?: 'all' | 'findings'; failOn?: Severity; maxConnections?: number; shard?: { k: number; n: number } }, results: ResultsSink | null = null): Promise<number> {
  const source = await openCapture(path);
  const io = stopControls();
  // Lines go out together as bytes: after each chunk of input (the gate) and each clock tick on a quiet pipe.
  const lines = new NdjsonBytes(io.out);
  const sink = new NdjsonSink(lines, { ladders: o.ladders ?? 'findings' });
  // Lines go out as connections end; the summary line's counts and aggregates come from a spool (--out: the whole report).
  const spool = results === null ? new ReportSpool({ json: false }) : null;
  let lastArrival = Date.now();
  const stdin = path === '-';
  let code: number;
  try {
    const { report, result, session } = await streamAnalysis(source, {
      settings: settingsFrom(o), maxConnections: o.maxConnections, shard: o.shard, spool: spool ?? undefined,
      sink, signal: io.signal, gate: () => { lines.flush(); return io.gate(); }, interrupted: () => io.interruptedBy !== null,
      // A file is read much faster than it was captured: ticking every 10 s of its time keeps the cost down.
      packetTickSeconds: stdin ? 1 : 10,
      onFrame: stdin ? () => { lastArrival = Date.now(); } : undefined,
      onInterval: stdin ? () => lines.flush() : undefined,
      idleClock: stdin
        ? (s) => {
            const last = s.counters.lastTime;
            const idle = (Date.now() - lastArrival) / 1000;
            return last === null || idle < 1 ? null : last + idle;
          }
        : undefined,
    });
    if (!nothingAnalyzed(report)) sink.end(report, { evicted: session.counters.evicted });
    if (results !== null) { results.progress(session); await results.end(report); }
    code = outcome(report, result, io, o.failOn);
  } finally {
    lines.flush(); // the lines made before a failure too
    spool?.close();
    io.release();
  }
  if (io.interruptedBy !== null || io.broken) await exitWhenFlushed(code);
  return code;
}
