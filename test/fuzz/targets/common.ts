/**
 * Shared by the fuzz targets and their bounded runs in the test suite: the synchronous pipeline over a byte
 * buffer, the way `analyze` runs it (parser picked by magic, frames into one session, report checked).
 */
import type { Report } from '../../../src/model/report.js';
import { AnalysisSession } from '../../../src/analyze/session.js';
import { PcapParser } from '../../../src/capture/pcap.js';
import { PcapngParser } from '../../../src/capture/pcapng.js';
import type { CaptureParser } from '../../../src/capture/pcap.js';
import type { CaptureSummary } from '../../../src/model/report.js';
import type { RawFrame } from '../../../src/capture/types.js';
import { NdjsonSink } from '../../../src/report/ndjson.js';
import { textReport } from '../../../src/report/text.js';
import { checkReport, schemaValidator } from '../invariants.js';

export const PCAPNG_MAGIC = 0x0a0d0d0a;

/** The parser `analyze` would pick for these bytes (pcapng by its magic, classic pcap otherwise). */
export function parserFor(data: Uint8Array): CaptureParser {
  const m = data.length >= 4 ? ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0 : 0;
  return m === PCAPNG_MAGIC ? new PcapngParser('fuzz') : new PcapParser('fuzz');
}

/** Push `data` in two chunks split at `cut` (the parsers keep state across chunk boundaries), then end. */
export function parseAll(p: CaptureParser, data: Uint8Array, cut: number, sink: (f: RawFrame) => void): void {
  const at = data.length === 0 ? 0 : cut % (data.length + 1);
  p.push(data.subarray(0, at), sink);
  p.push(data.subarray(at), sink);
  p.end();
}

/**
 * The whole analysis of one input: parse, judge with a table bound (small bounds exercise eviction), build
 * every output (JSON, text, NDJSON) and check the invariants. Returns the report.
 */
export function analyzeBytes(data: Uint8Array, opts: { cut?: number; maxConnections?: number } = {}): Report {
  const p = parserFor(data);
  const session = new AnalysisSession({}, {}, { maxConnections: opts.maxConnections });
  let prev = 0;
  parseAll(p, data, opts.cut ?? data.length, (f) => {
    checkFrame(f, prev);
    prev = f.index;
    session.ingest(f);
    const held = session.held;
    const bound = opts.maxConnections;
    if (bound !== undefined && (held.connections > bound || held.tuples > 2 * bound)) {
      throw new Error(`frame ${f.index}: the table holds ${held.connections} connections and ${held.tuples} tuples over a bound of ${bound}`);
    }
  });
  const capture: CaptureSummary = {
    path: 'fuzz', format: p instanceof PcapngParser ? 'pcapng' : 'pcap', compressed: false, linkTypes: [...p.linkTypes],
    packets: session.counters.packets, tcpPackets: session.counters.tcpPackets, undecodable: { ...session.counters.undecodable },
    firstTime: session.counters.firstTime, lastTime: session.counters.lastTime,
    truncated: p.error !== null, error: p.error?.oneLine() ?? null, warnings: [...p.warnings], drops: p.drops, interrupted: false,
  };
  if (p.error !== null) checkErrorLine(p.error.oneLine());
  const report = session.finish(capture);
  checkReport(report, { maxConnections: opts.maxConnections });
  textReport(report, { maxPerKind: 3 });
  let ndjson = '';
  const sink = new NdjsonSink((s: string) => { ndjson += s; }, { ladders: 'findings' });
  sink.end(report, { evicted: report.summary.evicted.total });
  for (const line of ndjson.split('\n')) if (line !== '') JSON.parse(line);
  return report;
}

/** A bound from one byte: small ones (1–16) make eviction happen on small inputs; 0 leaves the default. */
export function boundFrom(b: number | undefined): number | undefined {
  if (b === undefined) return undefined;
  const k = b & 0x1f;
  return k === 0 || k > 16 ? undefined : k;
}

/** Bad input is reported as one line naming the file (and the byte offset when it applies). */
export function checkErrorLine(line: string): void {
  if (!line.startsWith('fuzz: ') || line.includes('\n')) throw new Error(`not one line naming the file: ${JSON.stringify(line)}`);
}

/** Where to split an input into two chunks: a function of the input itself (seeds stay valid captures). */
export function cutOf(data: Uint8Array): number {
  return data.length === 0 ? 0 : ((data.length * 5) >> 3) ^ (data[data.length - 1]! & 0x3f);
}

/** What every frame a parser delivers must satisfy. */
export function checkFrame(f: RawFrame, prev: number): void {
  if (f.index !== prev + 1) throw new Error(`frame ${f.index} after ${prev}`);
  if (!(f.capLength >= 0 && f.dataOffset >= 0 && f.dataOffset + f.capLength <= f.data.length)) {
    throw new Error(`frame ${f.index}: bytes [${f.dataOffset}, +${f.capLength}) outside its buffer of ${f.data.length}`);
  }
  if (!(f.tsNsec >= 0 && f.tsNsec < 1e9 && Number.isFinite(f.tsSec))) throw new Error(`frame ${f.index}: bad timestamp ${f.tsSec}.${f.tsNsec}`);
  if (!(f.fileOffset >= 0)) throw new Error(`frame ${f.index}: bad file offset ${f.fileOffset}`);
}
schemaValidator();
