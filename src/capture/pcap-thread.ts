/**
 * Live capture on the teardown-pcap addon (native/pcap): libpcap runs on a thread of its own that only copies
 * frames into a ring buffer; this source drains the ring on the main thread in batches and pushes the frames into
 * the sink. Capture and analysis do not share one thread's budget: while the analysis (or a slow reader of its
 * output) is busy, libpcap keeps reading and the ring fills; a frame that finds the ring full is dropped and
 * counted. Frames carry libpcap's (kernel) timestamps, in nanoseconds.
 *
 * Drop accounting comes from libpcap's own counters (pcap_stats, polled by the capture thread) plus the ring's:
 *   received (ps_recv) = kernel drops (ps_drop) + delivered to the thread,  delivered = queued + ring drops.
 */
import { createRequire } from 'node:module';
import type { ArrivalClock } from './arrival-clock.js';
import { CaptureError } from './types.js';
import type { CaptureInfo, DropCounters, FrameSink, Gate, RawFrame, SourceResult } from './types.js';

/** The addon's surface (native/pcap/src/capture.c). */
export interface PcapThreadModule {
  open(device: string, filter: string, snaplen: number, bufferBytes: number, ringBytes: number, promisc: boolean):
    { handle: unknown; linkType: number; linkName: string; nanos: boolean; ringBytes: number };
  start(handle: unknown, wake: () => void): void;
  read(handle: unknown, into: Uint8Array): number;
  stats(handle: unknown): NativeStats;
  close(handle: unknown): void;
  libVersion(): string;
}

export interface NativeStats {
  received: number;
  dropped: number;
  ifDropped: number;
  delivered: number;
  queued: number;
  ringDropped: number;
  ringUsed: number;
  ringBytes: number;
  statsOk: boolean;
  error: string | null;
}

export const ADDON_NAME = 'teardown-pcap';

/** Loads the addon, or returns why it cannot be loaded. */
export function loadPcapThread(moduleName = ADDON_NAME): PcapThreadModule | string {
  try {
    const mod = createRequire(import.meta.url)(moduleName) as PcapThreadModule;
    if (typeof mod?.open !== 'function' || typeof mod.stats !== 'function') return `${moduleName} is not the expected addon`;
    return mod;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return err?.code === 'MODULE_NOT_FOUND' ? `${moduleName} is not built` : String(err?.message ?? e).split('\n')[0]!;
  }
}

/** Drop counters as reported (capture summary, live header, -w sidecar). */
export function dropCounters(s: NativeStats): DropCounters {
  return {
    source: 'libpcap',
    received: s.statsOk ? s.received : null,
    kernel: s.statsOk ? s.dropped : null,
    interface: s.statsOk ? s.ifDropped : null,
    ring: s.ringDropped,
    delivered: s.delivered,
    total: (s.statsOk ? s.dropped + s.ifDropped : 0) + s.ringDropped,
  };
}

const REC_HEADER = 16;
/** Read buffer: whole records are copied out of the ring into it (must hold the largest record). */
const READ_BYTES = 1 << 20;

export class PcapThreadSource {
  readonly info: CaptureInfo;
  readonly timestamps = 'kernel' as const;
  readonly backend = 'teardown-pcap' as const;
  frames = 0;
  truncated = 0;
  stopReason: 'signal' | 'count' | 'closed' | null = null;
  private read = 0;
  private started = false;
  private capturing = true;
  private wake: (() => void) | null = null;
  private readonly buf = Buffer.allocUnsafe(READ_BYTES);
  private final: NativeStats | null = null;
  onLoss: ((lost: number) => void) | null = null;
  /**
   * Frames the analysis read from the ring but had no room for further on (live --threads: an analysis thread's ring
   * was full): counted with the ring's drops, so that `delivered = analyzed + ring` holds.
   */
  ringDropsAfter: (() => number) | null = null;
  /** Drops already passed to onLoss. */
  private told = 0;

  constructor(
    private readonly mod: PcapThreadModule,
    private readonly handle: unknown,
    device: string,
    readonly linkType: number,
    readonly linkName: string,
    readonly clock: ArrivalClock,
    private readonly count: number,
    readonly ringBytes: number,
  ) {
    this.info = { path: device, format: 'live', compressed: false, linkTypes: [linkType], totalBytes: null, drops: 0, dropCounters: null };
    this.stats();
  }

  get bytesRead(): number {
    return this.read;
  }

  /** libpcap's and the ring's counters now (final once closed); also updates info.drops. */
  stats(): NativeStats {
    const s = this.final ?? this.mod.stats(this.handle);
    const d = dropCounters(s);
    const after = this.ringDropsAfter?.() ?? 0;
    d.ring += after;
    d.total += after;
    this.info.drops = d.total;
    this.info.dropCounters = d;
    return s;
  }

  async run(sink: FrameSink, signal?: AbortSignal, gate?: Gate): Promise<SourceResult> {
    if (this.started) throw new Error('PacketSource.run() can only be called once');
    this.started = true;
    const onAbort = (): void => this.stop('signal');
    if (signal?.aborted) this.stop('signal');
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (this.capturing) {
        this.mod.start(this.handle, () => this.poke());
        await this.drain(sink, gate);
      }
    } catch (e) {
      // A throw from the sink stops the capture and rejects run() with it.
      this.stop('closed');
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.stop('closed');
    }
    const s = this.stats();
    const warnings = this.truncated ? [`${this.truncated} frames were cut at the snapshot length`] : [];
    const error = s.error !== null ? new CaptureError('UNREADABLE', `capture failed: ${s.error}`, this.info.path, null) : null;
    return { frames: this.frames, error, warnings };
  }

  /**
   * Frames from the ring until the capture has stopped and the ring is empty: frames queued before a stop (a
   * signal, close()) are still analyzed; after --count the rest is left unread (`unread`).
   */
  private async drain(sink: FrameSink, gate: Gate | undefined): Promise<void> {
    const buf = this.buf;
    const f: RawFrame = {
      index: 0, tsSec: 0, tsNsec: 0, linkType: this.linkType, interfaceId: 0, data: buf, dataOffset: 0, capLength: 0,
      wireLength: 0, fileOffset: 0,
    };
    for (;;) {
      const n = this.mod.read(this.handle, buf);
      if (n < 0) { this.tellLoss(); return; }
      if (n === 0) {
        // The addon wakes us when the next frame (or the end) arrives.
        await new Promise<void>((resolve) => { this.wake = resolve; });
        continue;
      }
      let off = 0;
      while (off < n) {
        const cap = buf.readUInt32LE(off);
        f.index = ++this.frames;
        f.capLength = cap;
        f.wireLength = buf.readUInt32LE(off + 4);
        f.tsSec = buf.readUInt32LE(off + 8);
        f.tsNsec = buf.readUInt32LE(off + 12);
        f.dataOffset = off + REC_HEADER;
        f.fileOffset = 24 + this.read;
        this.read += 16 + cap;
        if (f.wireLength > cap) this.truncated++;
        sink(f);
        off += REC_HEADER + ((cap + 3) & ~3);
        if (this.frames >= this.count) {
          this.stop('count');
          return;
        }
      }
      // Frames are lost after the ones already queued (in libpcap's buffer or the ring): tell after the batch.
      this.tellLoss();
      // Between batches: timers and signals run; a slow sink holds us here (the ring fills, then drops count).
      const wait = gate?.();
      if (wait) await wait;
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Passes drops that grew since the last call to onLoss (before the frames that follow the gap). */
  private tellLoss(): void {
    if (this.onLoss === null) return;
    this.stats();
    // Those dropped further on are told by whoever dropped them.
    const total = (this.info.drops ?? 0) - (this.ringDropsAfter?.() ?? 0);
    if (total > this.told) {
      const n = total - this.told;
      this.told = total;
      this.onLoss(n);
    }
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Stops capturing; run() resolves once the frames already queued are analyzed. Safe to call more than once. */
  close(): void {
    this.stop('closed');
  }

  /** Frames queued in the ring but never analyzed (left after --count). */
  get unread(): number {
    return Math.max(0, this.stats().queued - this.frames);
  }

  private stop(reason: 'signal' | 'count' | 'closed'): void {
    if (!this.capturing) return;
    this.capturing = false;
    this.stopReason = reason;
    this.mod.close(this.handle); // joins the capture thread and takes libpcap's final counters
    this.final = this.mod.stats(this.handle);
    this.stats();
    this.poke();
  }
}
