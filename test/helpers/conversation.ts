/**
 * Builds TCP conversations for engine tests: each call adds one segment with sequence and ack numbers tracked
 * per side (override any of them to model loss, reordering or stacks misbehaving), then runs the real session.
 *
 *   const cv = new Conversation();            // client 10.0.0.1:40000 → server 10.0.0.2:80
 *   cv.handshake(); cv.c('P.', { len: 100 }); cv.s('.'); cv.c('F.'); cv.s('.'); cv.s('F.'); cv.c('.');
 *   const r = cv.report();
 */
import { AnalysisSession } from '../../src/analyze/session.js';
import type { Report, Settings } from '../../src/model/report.js';
import type { RawFrame } from '../../src/capture/types.js';
import { buildFrame, frameOf, type LinkSpec, type SegmentSpec } from './packets.js';

export interface SegOpts {
  len?: number;
  seq?: number;
  ack?: number;
  /** Seconds after the previous segment (default 0.001). */
  dt?: number;
  /** Absolute time (seconds) instead of dt. */
  at?: number;
  win?: number;
  ttl?: number;
  ipId?: number;
  ts?: [number, number];
  wscale?: number;
  /** Carry a TCP-MD5 signature option (RFC 2385). */
  md5?: boolean;
  /** Do not advance the sender's next sequence (a segment the stack would not count, e.g. a probe). */
  noAdvance?: boolean;
}

interface Side { addr: string; port: number; nxt: number; rcv: number; ipId: number }

export class Conversation {
  readonly client: Side;
  readonly server: Side;
  t: number;
  private readonly frames: { spec: SegmentSpec; t: number }[];
  constructor(opts: { client?: string; server?: string; cport?: number; sport?: number; cIsn?: number; sIsn?: number; t0?: number;
    link?: LinkSpec; shared?: { spec: SegmentSpec; t: number }[] } = {}) {
    this.client = { addr: opts.client ?? '10.0.0.1', port: opts.cport ?? 40000, nxt: opts.cIsn ?? 1000, rcv: 0, ipId: 100 };
    this.server = { addr: opts.server ?? '10.0.0.2', port: opts.sport ?? 80, nxt: opts.sIsn ?? 5000, rcv: 0, ipId: 900 };
    this.t = opts.t0 ?? 1_700_000_000;
    this.frames = opts.shared ?? [];
  }

  /** Another conversation appending to the same frame list (interleaved connections, reused tuples). */
  sibling(opts: ConstructorParameters<typeof Conversation>[0] = {}): Conversation {
    const s = new Conversation({ ...opts, shared: this.frames });
    return s;
  }

  c(flags: string, o: SegOpts = {}): this { return this.seg(this.client, this.server, flags, o); }
  s(flags: string, o: SegOpts = {}): this { return this.seg(this.server, this.client, flags, o); }

  handshake(o: { ts?: boolean } = {}): this {
    this.c('S', o.ts ? { ts: [100, 0] } : {});
    this.s('S.', o.ts ? { ts: [500, 100] } : {});
    return this.c('.', o.ts ? { ts: [101, 500] } : {});
  }

  /** Moves the clock without a packet. */
  wait(seconds: number): this { this.t += seconds; return this; }

  private seg(from: Side, to: Side, flags: string, o: SegOpts): this {
    this.t = o.at ?? this.t + (o.dt ?? 0.001);
    const len = o.len ?? 0;
    const seq = o.seq ?? from.nxt;
    const syn = flags.includes('S');
    const fin = flags.includes('F');
    const rst = flags.includes('R');
    const spec: SegmentSpec = {
      src: from.addr, dst: to.addr, sport: from.port, dport: to.port, seq: seq >>> 0, flags, len,
      win: o.win ?? 65535, ttl: o.ttl ?? 64, ipId: o.ipId ?? from.ipId++,
    };
    if (flags.includes('.')) spec.ack = (o.ack ?? to.nxt) >>> 0;
    const options: NonNullable<SegmentSpec['options']> = {};
    if (o.ts) options.ts = o.ts;
    if (o.wscale !== undefined) options.wscale = o.wscale;
    if (o.md5) options.md5 = true;
    if (Object.keys(options).length) spec.options = options;
    if (!o.noAdvance && !rst && o.seq === undefined) from.nxt = (seq + len + (syn ? 1 : 0) + (fin ? 1 : 0)) >>> 0;
    else if (!o.noAdvance && !rst && syn) from.nxt = (seq + 1 + len) >>> 0;
    this.frames.push({ spec, t: this.t });
    return this;
  }

  rawFrames(link: LinkSpec = { type: 'ethernet' }, keep: (s: SegmentSpec) => boolean = () => true): RawFrame[] {
    return this.frames.filter(({ spec }) => keep(spec)).map(({ spec, t }, i) => {
      const tsSec = Math.floor(t);
      return frameOf(buildFrame(spec, link), linkTypeFor(link), { index: i + 1, tsSec, tsNsec: Math.round((t - tsSec) * 1e9) });
    });
  }

  report(settings: Partial<Settings> = {}, link: LinkSpec = { type: 'ethernet' }): Report {
    return runFrames(this.rawFrames(link), settings);
  }

  /** The report of a capture that holds only the packets one side sent (a one-way tap or asymmetric route). */
  reportOneWay(sender: 'client' | 'server', settings: Partial<Settings> = {}): Report {
    const from = sender === 'client' ? this.client : this.server;
    return runFrames(this.rawFrames({ type: 'ethernet' }, (s) => s.src === from.addr), settings);
  }
}

import { linkTypeOf } from './packets.js';
const linkTypeFor = linkTypeOf;

export function runFrames(frames: RawFrame[], settings: Partial<Settings> = {}, before?: (s: AnalysisSession, f: RawFrame, i: number) => void): Report {
  const s = new AnalysisSession(settings);
  frames.forEach((f, i) => { before?.(s, f, i); s.ingest(f); });
  return s.finish({
    path: 'test', format: 'pcap', compressed: false, linkTypes: [1], packets: s.counters.packets, tcpPackets: s.counters.tcpPackets,
    undecodable: s.counters.undecodable, firstTime: s.counters.firstTime, lastTime: s.counters.lastTime, truncated: false, interrupted: false,
    error: null, warnings: [], drops: null,
  });
}

/** The findings of one kind. */
export const kinds = (r: Report, kind: string) => r.findings.filter((f) => f.kind === kind);
