/**
 * Live capture. The capture itself runs on the teardown-pcap addon (native/pcap, src/capture/pcap-thread.ts):
 * libpcap on its own thread, a ring buffer between it and the analysis, libpcap's drop counters. The optional
 * `cap` package lists the interfaces, and captures when the addon is not built (then frames share the analysis's
 * thread and drops are only estimated, below). Both are loaded lazily (createRequire) only when a live command
 * runs, so everything else installs and works without them or without libpcap.
 *
 * The rest of this comment is about the `cap` fallback.
 * cap delivers no capture timestamps: every frame is stamped on arrival by an ArrivalClock (a monotonic
 * high-resolution clock anchored once to wall time), truncated to microseconds so that the pcap written with `-w`
 * holds exactly the times the live session used. cap copies each packet into one shared buffer and emits it
 * synchronously; the frame handed to the sink points into that buffer, so — as with every PacketSource — a sink
 * copies whatever it keeps before returning (the next packet overwrites it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LINKTYPE } from '../model/link-types.js';
import { ArrivalClock } from './arrival-clock.js';
import { ADDON_NAME, loadPcapThread, PcapThreadSource } from './pcap-thread.js';
import type { CaptureInfo, FrameSink, PacketSource, RawFrame, SourceResult } from './types.js';

/** Snapshot length cap sets on every handle (pcap_set_snaplen(65535)); frames never exceed it. */
export { ArrivalClock };

export const LIVE_SNAPLEN = 65535;
/** Default libpcap ring buffer size. */
export const DEFAULT_LIVE_BUFFER = 128 * 1024 * 1024;

export type LiveFailure = 'no-cap' | 'permission' | 'no-device' | 'bad-filter' | 'open-failed';

/** A live capture that cannot start: one line for the user (the CLI prints it and exits 2). */
export class LiveCaptureError extends Error {
  override readonly name = 'LiveCaptureError';
  constructor(
    readonly reason: LiveFailure,
    message: string,
  ) {
    super(message);
  }
}

export const INSTALL_HINT = 'apt-get install libpcap-dev, then rebuild the addons: npm rebuild teardown-pcap cap';
export const PRIVILEGE_HINT = 'run as root, or grant node the capture capabilities: setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))';

/** The part of cap's API this module uses. */
interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
  removeAllListeners(event?: string): unknown;
}
export interface CapDevice {
  name: string;
  description?: string;
  addresses: { addr: string; netmask?: string; broadaddr?: string; dstaddr?: string }[];
  flags?: string;
}
interface CapModule {
  Cap: { new (): CapHandle; deviceList(): CapDevice[] };
}

let loaded: CapModule | null = null;

/**
 * Loads `cap` (or `moduleName`, for tests). Throws LiveCaptureError('no-cap') with the install hint when the
 * package is missing, its addon was never built, or libpcap cannot be loaded.
 */
export function loadCap(moduleName = 'cap'): CapModule {
  if (loaded !== null && moduleName === 'cap') return loaded;
  const require = createRequire(import.meta.url);
  let mod: CapModule;
  try {
    mod = require(moduleName) as CapModule;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const msg = String(err?.message ?? e);
    const why = err?.code === 'MODULE_NOT_FOUND' && msg.includes(`'${moduleName}'`)
      ? `the optional package ${moduleName} is not installed`
      : err?.code === 'MODULE_NOT_FOUND'
        ? `the ${moduleName} addon was not built`
        : /libpcap/i.test(msg)
          ? 'libpcap cannot be loaded'
          : `${moduleName} does not load: ${msg.split('\n')[0]}`;
    throw new LiveCaptureError('no-cap', `live capture needs libpcap and the cap addon (${why}): ${INSTALL_HINT}`);
  }
  if (typeof mod?.Cap !== 'function' || typeof mod.Cap.deviceList !== 'function') {
    throw new LiveCaptureError('no-cap', `live capture needs libpcap and the cap addon (${moduleName} is not the expected package): ${INSTALL_HINT}`);
  }
  if (moduleName === 'cap') loaded = mod;
  return mod;
}

/** Capture devices as libpcap lists them (pcap_findalldevs). */
export function listInterfaces(moduleName?: string): CapDevice[] {
  return loadCap(moduleName).Cap.deviceList();
}

/** cap reports the link type as a name; the analyzer wants the LINKTYPE_* number. */
export function linkTypeFromCap(name: string): number {
  switch (name) {
    case 'ETHERNET': return LINKTYPE.ETHERNET;
    case 'NULL': return LINKTYPE.NULL;
    case 'LINKTYPE_LINUX_SLL': return LINKTYPE.LINUX_SLL;
    case 'RAW': return LINKTYPE.RAW;
    case 'IEEE802_11_RADIO': return 127;
    default: {
      // 'Unknown linktype N' carries the DLT value, which equals the LINKTYPE value for everything not named above.
      const m = /(\d+)\s*$/.exec(name);
      return m === null ? -1 : Number(m[1]);
    }
  }
}

export interface LiveOptions {
  /** Interface name (as `teardown interfaces` lists it). */
  device: string;
  /** libpcap BPF filter expression ('' = everything). */
  filter?: string;
  /** libpcap buffer size in bytes (packets wait there while JavaScript is busy). */
  bufferSize?: number;
  /** Stop after this many frames. */
  count?: number;
  /** Shared with the caller so ticks and frames use the same clock. */
  clock?: ArrivalClock;
  /** Module to load instead of 'cap' (tests); capture then goes through it instead of the addon. */
  moduleName?: string;
  /** Bytes of the ring between the capture thread and the analysis (addon only; default DEFAULT_RING). */
  ringBytes?: number;
}

/** Default ring between the capture thread and the analysis. */
export const DEFAULT_RING = 64 * 1024 * 1024;

export interface LiveSource extends PacketSource {
  readonly linkType: number;
  readonly linkName: string;
  readonly clock: ArrivalClock;
  /** Frames delivered so far. */
  readonly frames: number;
  /** Frames cut at the snapshot length. */
  readonly truncated: number;
  /** 'kernel': libpcap's timestamps (the addon); 'arrival': stamped when read (cap delivers none). */
  readonly timestamps: 'kernel' | 'arrival';
  /** Capture backend: the addon, or cap on the analysis's thread. */
  readonly backend: 'teardown-pcap' | 'cap';
  /** Why run() returned: 'signal' (aborted), 'count', 'closed' (close() called) or null while running. */
  readonly stopReason: 'signal' | 'count' | 'closed' | null;
  /** Stops capturing; run() resolves. Safe to call more than once and from inside the sink. */
  close(): void;
  /** Refreshes info.drops and info.dropCounters from the counters now. */
  stats(): unknown;
}

/**
 * Opens `device` with `filter` and starts capturing at once (packets are read when the event loop polls, so call
 * run() before yielding). Throws LiveCaptureError with one line on any failure.
 */
export function openLive(opts: LiveOptions): LiveSource {
  const device = opts.device;
  const filter = opts.filter ?? '';
  const addon = opts.moduleName === undefined ? loadPcapThread() : null;
  let mod: CapModule | null = null;
  try {
    mod = loadCap(opts.moduleName);
  } catch (e) {
    if (addon === null || typeof addon === 'string') {
      throw typeof addon === 'string' && e instanceof LiveCaptureError
        ? new LiveCaptureError('no-cap', `${e.message} (and ${addon})`) : e;
    }
  }
  // Check the name first: for an unknown device libpcap also prints a warning of its own on stderr.
  let names: string[] | null = null;
  try {
    names = mod?.Cap.deviceList().map((d) => d.name) ?? null;
  } catch {
    names = null;
  }
  if (names !== null && !names.includes(device) && !existsSync(`/sys/class/net/${device.replace(/\//g, '')}`)) {
    throw new LiveCaptureError('no-device', `${device}: no such interface (teardown interfaces lists them${names.length ? `: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}` : ''})`);
  }
  const clock = opts.clock ?? new ArrivalClock();
  const bufferSize = opts.bufferSize ?? DEFAULT_LIVE_BUFFER;
  if (addon !== null && typeof addon !== 'string') {
    let o: ReturnType<typeof addon.open>;
    try {
      o = addon.open(device, filter, LIVE_SNAPLEN, bufferSize, opts.ringBytes ?? DEFAULT_RING, true);
    } catch (e) {
      throw openFailure(device, filter, e);
    }
    return new PcapThreadSource(addon, o.handle, device, o.linkType, o.linkName, clock, opts.count ?? Infinity, o.ringBytes);
  }
  if (mod === null) throw new LiveCaptureError('no-cap', `live capture needs libpcap and the ${ADDON_NAME} addon or cap: ${INSTALL_HINT}`);
  const cap = new mod.Cap();
  const buffer = Buffer.alloc(LIVE_SNAPLEN + 1);
  let linkName: string;
  try {
    linkName = cap.open(device, filter, bufferSize, buffer);
  } catch (e) {
    // Not closed: after a failed open cap's close() would stop a poll handle it never started.
    throw openFailure(device, filter, e);
  }
  const linkType = linkTypeFromCap(linkName);
  return new CapSource(cap, buffer, device, linkType, linkName, clock, opts.count ?? Infinity, filter === '' ? InterfaceCounters.open(device) : null);
}

function openFailure(device: string, filter: string, e: unknown): LiveCaptureError {
  const msg = (e instanceof Error ? e.message : String(e)).trim().replace(/\s+/g, ' ');
  if (/permission|not permitted|EPERM|EACCES/i.test(msg)) {
    return new LiveCaptureError('permission', `${device}: no permission to capture (${msg}): ${PRIVILEGE_HINT}`);
  }
  if (/no such device|doesn't exist|does not exist|no such interface/i.test(msg)) {
    return new LiveCaptureError('no-device', `${device}: no such interface (teardown interfaces lists them)`);
  }
  if (/filter|syntax|parse|expression/i.test(msg) && filter !== '') {
    return new LiveCaptureError('bad-filter', `bad capture filter '${filter}': ${msg}`);
  }
  if (/not up|is down|ENETDOWN/i.test(msg)) {
    return new LiveCaptureError('open-failed', `${device}: interface is down (${msg})`);
  }
  return new LiveCaptureError('open-failed', `${device}: cannot capture: ${msg}`);
}

const PCAP_FILE_HEADER = 24;
const PCAP_RECORD_HEADER = 16;

/**
 * The `cap` fallback's drop estimate: the interface's packet counters (/sys/class/net/<dev>/statistics) against the
 * frames seen. Only without a filter (a filter makes the counters incomparable); on loopback each packet counts
 * once in rx_packets (and once in tx_packets) while libpcap delivers it once, elsewhere rx + tx.
 */
export class InterfaceCounters {
  private readonly base: number;
  private constructor(
    private readonly dir: string,
    private readonly loopback: boolean,
  ) {
    this.base = this.read();
  }

  static open(device: string): InterfaceCounters | null {
    const dir = `/sys/class/net/${device.replace(/\//g, '')}/statistics`;
    if (!existsSync(`${dir}/rx_packets`)) return null;
    let loopback = false;
    try {
      loopback = (Number(readFileSync(`/sys/class/net/${device.replace(/\//g, '')}/flags`, 'utf8').trim()) & 0x8) !== 0;
    } catch { /* not known: count both directions */ }
    return new InterfaceCounters(dir, loopback);
  }

  private read(): number {
    const n = (f: string): number => Number(readFileSync(`${this.dir}/${f}`, 'utf8').trim());
    try {
      return this.loopback ? n('rx_packets') : n('rx_packets') + n('tx_packets');
    } catch {
      return NaN;
    }
  }

  /** Packets the interface passed since open. */
  passed(): number {
    return this.read() - this.base;
  }
}

class CapSource implements LiveSource {
  readonly info: CaptureInfo;
  readonly timestamps = 'arrival' as const;
  readonly backend = 'cap' as const;
  frames = 0;
  truncated = 0;
  stopReason: 'signal' | 'count' | 'closed' | null = null;
  private read = 0;
  private started = false;
  private closed = false;
  private finish: (() => void) | null = null;
  private failure: unknown = null;
  private readonly frame: RawFrame;

  constructor(
    private readonly cap: CapHandle,
    private readonly buffer: Buffer,
    device: string,
    readonly linkType: number,
    readonly linkName: string,
    readonly clock: ArrivalClock,
    private readonly count: number,
    private readonly counters: InterfaceCounters | null,
  ) {
    this.info = { path: device, format: 'live', compressed: false, linkTypes: [linkType], totalBytes: null, drops: null, dropCounters: null };
    this.frame = {
      index: 0, tsSec: 0, tsNsec: 0, linkType, interfaceId: 0, data: buffer, dataOffset: 0, capLength: 0, wireLength: 0,
      fileOffset: 0,
    };
  }

  get bytesRead(): number {
    return this.read;
  }

  run(sink: FrameSink, signal?: AbortSignal): Promise<SourceResult> {
    if (this.started) throw new Error('PacketSource.run() can only be called once');
    this.started = true;
    return new Promise<SourceResult>((resolve, reject) => {
      const onAbort = (): void => this.stop('signal');
      this.finish = () => {
        signal?.removeEventListener('abort', onAbort);
        if (this.failure !== null) reject(this.failure);
        else resolve({ frames: this.frames, error: null, warnings: this.truncated ? [`${this.truncated} frames longer than the ${this.buffer.length}-byte capture buffer were cut`] : [] });
      };
      if (this.closed) {
        this.finish();
        return;
      }
      if (signal?.aborted) {
        this.stop('signal');
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const f = this.frame;
      const clock = this.clock;
      const buf = this.buffer;
      this.cap.on('packet', (nbytes: number, truncated: boolean) => {
        if (this.closed) return;
        clock.stamp();
        f.index = ++this.frames;
        f.tsSec = clock.sec;
        f.tsNsec = clock.nsec;
        f.capLength = nbytes;
        f.wireLength = nbytes >= LIVE_SNAPLEN ? wireLength(this.linkType, buf, nbytes) : nbytes;
        f.fileOffset = PCAP_FILE_HEADER + this.read;
        this.read += PCAP_RECORD_HEADER + nbytes;
        if (truncated) this.truncated++;
        try {
          sink(f); // the sink copies what it keeps: cap overwrites `buf` with the next packet
        } catch (e) {
          // A throw must not unwind into cap's native dispatch loop: stop, and reject run() with it.
          this.failure = e;
          this.stop('closed');
          return;
        }
        if (this.frames >= this.count) this.stop('count');
      });
    });
  }

  close(): void {
    this.stop('closed');
  }

  /** Refreshes the drop estimate (cap exposes no libpcap counters). */
  stats(): void {
    if (this.counters === null) return;
    const passed = this.counters.passed();
    if (!Number.isFinite(passed)) return;
    const lost = Math.max(0, passed - this.frames);
    this.info.drops = lost;
    this.info.dropCounters = { source: 'estimate', received: passed, kernel: null, interface: null, ring: 0, delivered: this.frames, total: lost };
  }

  private stop(reason: 'signal' | 'count' | 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.stopReason = reason;
    try {
      this.cap.close(); // safe inside a 'packet' callback: cap finishes its dispatch loop, then releases the handle
    } catch {
      /* already closed */
    }
    this.cap.removeAllListeners('packet');
    this.stats();
    const done = this.finish;
    this.finish = null;
    done?.();
  }
}

/**
 * cap does not pass the original length; a frame at the snaplen may have been cut, so take the length from the
 * IP header when the link type lets us find it (Ethernet, Linux SLL). Otherwise the captured length.
 */
function wireLength(linkType: number, b: Buffer, n: number): number {
  let p: number;
  let type: number;
  if (linkType === LINKTYPE.ETHERNET && n >= 14) { type = b.readUInt16BE(12); p = 14; }
  else if (linkType === LINKTYPE.LINUX_SLL && n >= 16) { type = b.readUInt16BE(14); p = 16; }
  else return n;
  if (type === 0x0800 && n >= p + 4) return Math.max(n, p + b.readUInt16BE(p + 2));
  if (type === 0x86dd && n >= p + 6) return Math.max(n, p + 40 + b.readUInt16BE(p + 4));
  return n;
}
