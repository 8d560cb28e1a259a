/**
 * `teardown extract`: the packets of chosen connections into a small classic pcap, with the original link type
 * and timestamps. Two passes over the input: the first analyzes it (the same engine as `analyze`) to resolve ids,
 * tuples and findings into 4-tuples and frame ranges; the second copies the matching frames (frames are the
 * reader's reused buffers: they are written out, or copied before anonymizing, during the sink call).
 *
 * The output is written to a temporary file next to it and renamed into place when complete, so a refused or
 * failed extract never leaves a half-written capture behind.
 */
import { rename, unlink, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { analyzeSource } from '../analyze/analyze.js';
import type { ConnectionReport, Report, Settings } from '../model/report.js';
import { openCapture } from '../capture/open.js';
import { PcapWriter } from '../capture/pcap-writer.js';
import type { PacketSource, RawFrame } from '../capture/types.js';
import { decodeFrame } from '../decode/decode.js';
import { parseAddress } from '../decode/format.js';
import { newTcpPacket, type TcpPacket } from '../decode/packet.js';
import { linkTypeName } from '../model/link-types.js';
import { Anonymizer } from './anonymize.js';
import { endMarkerFrame } from './marker.js';
import { resolveSelection, type Selection, type SelectionRequest } from './select.js';

export interface ExtractOptions extends SelectionRequest {
  /** Output pcap path. */
  output: string;
  anonymize?: boolean;
  /** With anonymize: keep TCP payload bytes (default zeroed). */
  keepPayload?: boolean;
  /** With anonymize: rebase each host's TCP timestamps (TSval/TSecr) to a clock starting at TS_BASE. */
  rebaseTimestamps?: boolean;
  /** Append the end-of-capture marker (see marker.ts) when the capture ran on after the last extracted packet. Default true. */
  endMarker?: boolean;
  /** Keep only frames of this link type (when the chosen packets come from interfaces of several link types). */
  linkType?: number;
  settings?: Partial<Settings>;
}

export interface ExtractResult {
  input: string;
  output: string;
  /** The first pass: the input's report. */
  source: Report;
  selection: Selection;
  /** TCP frames written (the marker not counted). */
  frames: number;
  /** Packets the report counts for the chosen connections (differs from `frames` only for odd inputs). */
  expectedFrames: number;
  linkType: number;
  nanosecond: boolean;
  /** The end marker was written, at this time (epoch seconds). */
  markerTime: number | null;
  anonymizer: Anonymizer | null;
  warnings: string[];
}

/** A request that cannot be carried out (stdin input, several link types…): one line for the user. */
export class ExtractError extends Error {
  override readonly name = 'ExtractError';
}

export const linkName = (lt: number): string => `${lt} (${linkTypeName(lt) ?? 'unknown'})`;

interface Wanted {
  v: 4 | 6;
  a: Uint32Array;
  aPort: number;
  b: Uint32Array;
  bPort: number;
  ranges: [number, number][];
}

const portKey = (p: number, q: number): number => (p < q ? p * 65536 + q : q * 65536 + p);

function same(x: Uint32Array, y: Uint32Array): boolean {
  return x[0] === y[0] && x[1] === y[1] && x[2] === y[2] && x[3] === y[3];
}

/** The tuples and frame ranges of the chosen connections, indexed by port pair. */
function wantedIndex(conns: readonly ConnectionReport[]): Map<number, Wanted[]> {
  const index = new Map<number, Wanted[]>();
  for (const c of conns) {
    const a = parseAddress(c.client.address);
    const b = parseAddress(c.server.address);
    if (a === null || b === null) continue;
    const aPort = c.client.port;
    const bPort = c.server.port;
    const key = portKey(aPort, bPort);
    const list = index.get(key) ?? [];
    let w = list.find((x) => x.v === a.ipVersion && x.aPort === aPort && x.bPort === bPort && same(x.a, a.words) && same(x.b, b.words));
    if (w === undefined) {
      w = { v: a.ipVersion, a: a.words, aPort, b: b.words, bPort, ranges: [] };
      list.push(w);
      index.set(key, list);
    }
    w.ranges.push([c.firstFrame, c.lastFrame]);
  }
  return index;
}

function isWanted(index: Map<number, Wanted[]>, p: TcpPacket, frame: number): boolean {
  const list = index.get(portKey(p.srcPort, p.dstPort));
  if (list === undefined) return false;
  for (const w of list) {
    if (w.v !== p.ipVersion) continue;
    const fwd = p.srcPort === w.aPort && p.dstPort === w.bPort && same(p.src, w.a) && same(p.dst, w.b);
    const rev = !fwd && p.srcPort === w.bPort && p.dstPort === w.aPort && same(p.src, w.b) && same(p.dst, w.a);
    if (!fwd && !rev) continue;
    for (const [lo, hi] of w.ranges) if (frame >= lo && frame <= hi) return true;
  }
  return false;
}

/** What the first pass learns about the frames themselves (the report does not keep it). */
interface FrameStats {
  nanosecond: boolean;
  maxCapLength: number;
  lastSec: number;
  lastNsec: number;
}

function observing(src: PacketSource, stats: FrameStats): PacketSource {
  const observe = (f: RawFrame): void => {
    if (f.tsNsec % 1000 !== 0) stats.nanosecond = true;
    if (f.capLength > stats.maxCapLength) stats.maxCapLength = f.capLength;
    if (f.tsSec > stats.lastSec || (f.tsSec === stats.lastSec && f.tsNsec > stats.lastNsec)) {
      stats.lastSec = f.tsSec;
      stats.lastNsec = f.tsNsec;
    }
  };
  return {
    info: src.info,
    get bytesRead() { return src.bytesRead; },
    run: (sink, signal) => src.run((f) => { observe(f); sink(f); }, signal),
  };
}

/** Extracts the chosen connections of `input` into `opts.output`. Throws ExtractError/SelectionError for requests it cannot carry out. */
export async function extractCapture(input: string, opts: ExtractOptions): Promise<ExtractResult> {
  if (input === '-') throw new ExtractError('extract reads its input twice: give a capture file, not standard input');
  if (resolve(input) === resolve(opts.output)) throw new ExtractError('the output would overwrite the input: choose another -w file');
  const warnings: string[] = [];

  // Pass 1: verdicts, ids, frame ranges.
  const stats: FrameStats = { nanosecond: false, maxCapLength: 0, lastSec: -1, lastNsec: 0 };
  const { report, result } = await analyzeSource(observing(await openCapture(input), stats), { settings: opts.settings ?? {} });
  if (result.error !== null) {
    if (report.capture.packets === 0) throw result.error;
    warnings.push(`the input is damaged (${result.error.oneLine()}): extracting from the ${report.capture.packets} frames before it`);
  }
  const selection = resolveSelection(report, opts);
  const index = wantedIndex(selection.connections);
  const expectedFrames = selection.connections.reduce((n, c) => n + c.packets, 0);
  const anonymizer = opts.anonymize ? new Anonymizer(selection.connections, { keepPayload: opts.keepPayload ?? false, rebaseTimestamps: opts.rebaseTimestamps ?? false }) : null;

  // Pass 2: copy the frames.
  const tmp = `${opts.output}.tmp-${process.pid}`;
  let writer: PcapWriter | null = null;
  let writerLink = opts.linkType ?? -1;
  const otherLinks = new Map<number, number>();
  const pkt = newTcpPacket();
  let frames = 0;
  let lastSec = -1;
  let lastNsec = 0;
  let notAnonymized: number | null = null;
  const nanosecond = stats.nanosecond;
  const snaplen = Math.max(262144, stats.maxCapLength);
  try {
    await writeFile(tmp, '');
  } catch (e) {
    throw new ExtractError(`cannot write ${opts.output}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`);
  }
  try {
    const src = await openCapture(input);
    await src.run((f) => {
      if (decodeFrame(f, pkt) !== 'ok' || !isWanted(index, pkt, f.index)) return;
      if (writerLink < 0) writerLink = f.linkType;
      if (f.linkType !== writerLink) {
        otherLinks.set(f.linkType, (otherLinks.get(f.linkType) ?? 0) + 1);
        return;
      }
      writer ??= PcapWriter.createFile(tmp, { linkType: writerLink, nanosecond, snaplen });
      if (anonymizer !== null) {
        const copy = Uint8Array.from(f.data.subarray(f.dataOffset, f.dataOffset + f.capLength));
        if (!anonymizer.rewrite(copy, f.linkType)) { notAnonymized ??= f.index; return; }
        writer.writeFrame(f.tsSec, f.tsNsec, copy, f.wireLength);
      } else {
        writer.writeRawFrame(f);
      }
      frames++;
      if (f.tsSec > lastSec || (f.tsSec === lastSec && f.tsNsec > lastNsec)) {
        lastSec = f.tsSec;
        lastNsec = f.tsNsec;
      }
    });
    const w = writer as PcapWriter | null;
    if (notAnonymized !== null) {
      throw new ExtractError(`frame ${notAnonymized} is tunnelled or label-switched: --anonymize rewrites only IP right after the link header (and its VLAN tags), so it would leave the outer addresses; extract without --anonymize`);
    }
    if (otherLinks.size > 0 && opts.linkType === undefined) {
      const counts = [[writerLink, frames] as const, ...otherLinks].map(([lt, n]) => `${n} frame(s) with link type ${linkName(lt)}`).join(', ');
      throw new ExtractError(`the chosen connections' packets come from interfaces with different link types (${counts}); a pcap file holds one link type: add --link-type <n> to keep one of them`);
    }
    if (w === null) {
      throw new ExtractError(opts.linkType !== undefined
        ? `no packets of the chosen connections have link type ${linkName(opts.linkType)}${otherLinks.size ? ` (they have ${[...otherLinks.keys()].map(linkName).join(', ')})` : ''}`
        : 'no packets of the chosen connections were found on the second read (did the file change?)');
    }
    let markerTime: number | null = null;
    if ((opts.endMarker ?? true) && (stats.lastSec > lastSec || (stats.lastSec === lastSec && stats.lastNsec > lastNsec))) {
      const marker = endMarkerFrame(writerLink);
      if (marker === null) {
        warnings.push(`no end-of-capture marker for link type ${linkName(writerLink)}: verdicts measured at capture end (half-close age) may differ`);
      } else {
        w.writeFrame(stats.lastSec, stats.lastNsec, marker);
        markerTime = stats.lastSec + stats.lastNsec * 1e-9;
      }
    }
    w.close();
    writer = null;
    await rename(tmp, opts.output);
    if (otherLinks.size > 0) warnings.push(`left out ${[...otherLinks].map(([lt, n]) => `${n} frame(s) with link type ${linkName(lt)}`).join(', ')} (--link-type ${writerLink})`);
    if (frames !== expectedFrames && otherLinks.size === 0) {
      warnings.push(`wrote ${frames} frames; the analysis counted ${expectedFrames} packets for these connections`);
    }
    return {
      input, output: opts.output, source: report, selection, frames, expectedFrames, linkType: writerLink, nanosecond,
      markerTime, anonymizer, warnings,
    };
  } catch (e) {
    (writer as PcapWriter | null)?.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}
