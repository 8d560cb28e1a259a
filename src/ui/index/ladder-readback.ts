/**
 * Ladders read back from the capture. A big report keeps packet ladders only for its first connections and those
 * with findings (the session's 'auto'); the view can still draw any connection's: while the capture is analyzed,
 * the byte offset of every frame's record goes to a file (8 bytes a frame, FrameOffsets), and opening a connection
 * without a ladder reads the records from its first to its last frame back, keeps those of its 4-tuple, and runs
 * them through a fresh analysis session that records every packet.
 *
 * Plain files: the file header (the bytes before the first frame) and the connection's byte range are read and
 * parsed directly. The result must match the report (same first and last frame, same packet count); if it does not
 * (a pcapng whose interfaces are described after its first packet, or a second section), and for gzip input, the
 * capture is read again from its start (inflated) up to the connection's last frame instead. Standard input cannot
 * be read twice: there the session records every ladder and the index holds them (no read-back).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { AnalysisSession } from '../../analyze/session.js';
import { openCapture } from '../../capture/open.js';
import { PcapParser, type CaptureParser } from '../../capture/pcap.js';
import { PcapngParser } from '../../capture/pcapng.js';
import type { CaptureFormat, RawFrame } from '../../capture/types.js';
import { decodeFrame } from '../../decode/decode.js';
import { formatEndpoint } from '../../decode/format.js';
import { newTcpPacket } from '../../decode/packet.js';
import { endpointText } from '../../model/endpoint.js';
import type { ConnectionReport, PacketRef, Settings } from '../../model/report.js';
import type { LadderReadBack } from '../rows.js';
import { F64Reader, F64Writer } from './files.js';
import type { LadderSource } from './row-index.js';
import type { TempDir } from '../../analyze/temp-dir.js';

/** The byte offset of every frame's record, in frame order, written while the capture is analyzed. */
export class FrameOffsets {
  private readonly w: F64Writer;
  /** Frames not numbered 1, 2, 3… (cannot happen with a file source): no read-back. */
  broken = false;

  constructor(private readonly dir: TempDir) {
    this.w = new F64Writer(dir.file('frames.off'));
  }

  readonly add = (f: RawFrame): void => {
    if (f.index !== this.w.count + 1) { this.broken = true; return; }
    this.w.add(f.fileOffset);
  };

  /** Stops writing (the offsets are not wanted: quit early, or no read-back); finish() closes it too. */
  close(): void {
    this.w.close();
  }

  /** Done writing: the offsets to read by frame (position = frame number − 1). */
  finish(): F64Reader {
    this.w.close();
    return new F64Reader(this.dir.file('frames.off'), this.w.count);
  }
}

export interface CaptureLadderOptions {
  path: string;
  format: CaptureFormat;
  compressed: boolean;
  offsets: F64Reader;
  settings?: Partial<Settings>;
  /** Called when a read-back finishes (the view redraws). */
  changed(): void;
}

interface Rebuilt { ladder: PacketRef[]; elided: number }

/** Ladders kept after reading back (a person opens a few). */
const KEEP = 32;

export class CaptureLadders implements LadderSource {
  private readonly done = new Map<string, LadderReadBack>();
  private closed = false;

  constructor(private readonly o: CaptureLadderOptions) {}

  read(c: ConnectionReport): LadderReadBack {
    const got = this.done.get(c.id);
    if (got !== undefined) return got;
    const reading: LadderReadBack = { state: 'reading' };
    this.remember(c.id, reading);
    this.readBack(c).then(
      (r) => this.settle(c.id, r),
      (e: unknown) => this.settle(c.id, { state: 'failed', why: e instanceof Error ? e.message : String(e) }),
    );
    return reading;
  }

  close(): void {
    this.closed = true;
    this.o.offsets.close();
  }

  /** The connection's ladder from the capture: directly by byte range, else by reading the capture again. */
  async readBack(c: ConnectionReport): Promise<LadderReadBack> {
    const o = this.o;
    if (!o.compressed) {
      const direct = this.byRange(c);
      if (direct !== null) return { state: 'done', ...direct, how: 'read back from the capture by byte offset' };
    }
    const again = await this.fromStart(c);
    if (again !== null) return { state: 'done', ...again, how: o.compressed ? 'read back from the capture (inflated again)' : 'read back from the capture' };
    return { state: 'failed', why: 'its packets read back from the capture do not make the same connection' };
  }

  private settle(id: string, r: LadderReadBack): void {
    if (this.closed) return;
    this.remember(id, r);
    this.o.changed();
  }

  private remember(id: string, r: LadderReadBack): void {
    this.done.delete(id);
    if (this.done.size >= KEEP) this.done.delete(this.done.keys().next().value as string);
    this.done.set(id, r);
  }

  /** The file header and the byte range from the first to the last frame, parsed directly; null if not the same. */
  private byRange(c: ConnectionReport): Rebuilt | null {
    const off = this.o.offsets;
    if (c.firstFrame < 1 || c.lastFrame > off.count) return null;
    const fd = openSync(this.o.path, 'r');
    try {
      const head = off.get(0);
      const from = off.get(c.firstFrame - 1);
      const to = c.lastFrame < off.count ? off.get(c.lastFrame) : fstatSync(fd).size;
      if (!(head >= 0 && from >= head && to > from)) return null;
      const read = (at: number, n: number): Buffer => {
        const b = Buffer.allocUnsafe(n);
        let got = 0;
        while (got < n) { const k = readSync(fd, b, got, n - got, at + got); if (k <= 0) break; got += k; }
        return b.subarray(0, got);
      };
      const parser: CaptureParser = this.o.format === 'pcapng' ? new PcapngParser(this.o.path) : new PcapParser(this.o.path);
      const r = new Replay(c, this.o.settings);
      const sink = (f: RawFrame) => { if (f.index > 0) { f.index += c.firstFrame - 1; r.frame(f); } };
      parser.push(read(0, head), () => undefined);
      parser.push(read(from, to - from), sink);
      parser.end();
      if (parser.error !== null) return null;
      return r.result();
    } finally {
      closeSync(fd);
    }
  }

  /** The capture read again from its start (inflated when gzip) up to the connection's last frame. */
  private async fromStart(c: ConnectionReport): Promise<Rebuilt | null> {
    const source = await openCapture(this.o.path);
    const r = new Replay(c, this.o.settings);
    const stop = new AbortController();
    await source.run((f) => {
      if (f.index < c.firstFrame || stop.signal.aborted) return;
      if (f.index > c.lastFrame) { stop.abort(); return; }
      r.frame(f);
    }, stop.signal);
    return r.result();
  }
}

/** The frames of one connection's 4-tuple through a fresh session that records every packet. */
class Replay {
  private readonly pkt = newTcpPacket();
  private readonly session: AnalysisSession;
  private found: ConnectionReport | null = null;
  private last = 0;
  private readonly a: string;
  private readonly b: string;

  constructor(private readonly c: ConnectionReport, settings: Partial<Settings> | undefined) {
    this.a = endpointText(c.client);
    this.b = endpointText(c.server);
    this.session = new AnalysisSession(settings ?? {}, {
      onConnectionEnd: (r) => { if (r.firstFrame === c.firstFrame) this.found = r; },
    }, { ladders: 'all', maxConnections: Number.POSITIVE_INFINITY });
  }

  frame(f: RawFrame): void {
    if (decodeFrame(f, this.pkt) !== 'ok') return;
    const p = this.pkt;
    const cp = this.c.client.port;
    const sp = this.c.server.port;
    if (!((p.srcPort === cp && p.dstPort === sp) || (p.srcPort === sp && p.dstPort === cp))) return;
    const s = formatEndpoint(p.ipVersion, p.src, p.srcPort);
    const d = formatEndpoint(p.ipVersion, p.dst, p.dstPort);
    if (!((s === this.a && d === this.b) || (s === this.b && d === this.a))) return;
    this.last = f.tsSec + f.tsNsec * 1e-9;
    this.session.ingest(f);
  }

  /** The connection rebuilt, if it is the report's (same frames, same packet count). */
  result(): Rebuilt | null {
    this.session.endOfInput(this.last);
    const r = this.found;
    const c = this.c;
    if (r === null || r.lastFrame !== c.lastFrame || r.packets !== c.packets || r.ladder.length === 0) return null;
    return { ladder: r.ladder, elided: r.elided };
  }
}
