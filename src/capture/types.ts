/**
 * The contract between capture sources (files, stdin, live) and the rest of the pipeline.
 * A source pushes frames synchronously into a sink; the frame object and its bytes are reused:
 * a sink copies whatever it keeps before returning.
 */

/** One captured frame. The object is reused between frames; copy what you keep. */
export interface RawFrame {
  /** 1-based frame number in the capture, as Wireshark numbers frames. */
  index: number;
  /** Capture timestamp: whole seconds since the Unix epoch (after pcapng if_tsoffset). */
  tsSec: number;
  /** Nanoseconds within the second, 0..999_999_999 (microsecond files are scaled). */
  tsNsec: number;
  /** LINKTYPE_* of the interface this frame came from. */
  linkType: number;
  /** pcapng interface id; 0 for classic pcap and live capture. */
  interfaceId: number;
  /**
   * Backing buffer holding the captured bytes at [dataOffset, dataOffset + capLength). It is the reader's chunk or
   * carry buffer (no per-frame subarray allocation): valid only during the sink call.
   */
  data: Uint8Array;
  dataOffset: number;
  /** Captured length (may be shorter than wireLength when a snaplen cut it). */
  capLength: number;
  /** Original length on the wire. */
  wireLength: number;
  /** Byte offset of this record's header in the (decompressed) capture stream. */
  fileOffset: number;
}

export type FrameSink = (frame: RawFrame) => void;

export type CaptureFormat = 'pcap' | 'pcapng' | 'live';

export type CaptureErrorCode =
  | 'EMPTY'            // zero bytes of input
  | 'BAD_MAGIC'        // not a pcap/pcapng/gzip file
  | 'BAD_HEADER'       // a file or section header that cannot be right
  | 'BAD_RECORD'       // impossible record/block length
  | 'TRUNCATED'        // input ended inside a header, record or block
  | 'BAD_GZIP'         // gzip stream damaged
  | 'UNREADABLE'       // cannot open/read the file (ENOENT, EACCES, EISDIR…)
  | 'UNKNOWN_LINKTYPE' // no decoder for the file's link type (reported once, frames counted)
  | 'MEMORY'           // the process neared its heap limit: reading stopped, what was read is reported
  | 'INTERNAL'         // the analysis failed on a frame (a bug): reading stopped, what was read is reported
  | 'TEMP_DIR';       // the temporary directory is full, missing or not writable: no report (a spill lost a record)

/** File-level damage: carries a stable code and the byte offset where it was found. Never a stack trace for users. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(
    readonly code: CaptureErrorCode,
    message: string,
    readonly file: string,
    /** Byte offset in the (decompressed) stream, or null when it does not apply. */
    readonly offset: number | null,
  ) {
    super(message);
  }
  /** One line for a terminal: `teardown: <file>: <message> (at byte N)`. */
  oneLine(): string {
    const at = this.offset === null ? '' : ` (at byte ${this.offset})`;
    return `${this.file}: ${this.message}${at}`;
  }
}

/** What a source knows about its input; filled progressively (link types as interfaces appear). */
export interface CaptureInfo {
  path: string;              // file path, '-' for stdin, or the interface name for live capture
  format: CaptureFormat | null;
  compressed: boolean;       // gzip detected by magic
  linkTypes: number[];       // distinct link types in order of appearance
  totalBytes: number | null; // size on disk when known (progress); null for stdin/live
  /** pcapng ISB if_dropcount, or live: every frame lost (libpcap's kernel and interface drops + ring drops). */
  drops: number | null;
  /** Live capture: where the drops happened (null for files). */
  dropCounters?: DropCounters | null;
}

/**
 * Live capture's drop accounting. 'libpcap': libpcap's own counters (pcap_stats) and the ring buffer's;
 * 'estimate': the interface's packet counters against the packets seen (no libpcap counters available).
 *   received = kernel + delivered (libpcap counts before its kernel buffer), delivered = analyzed + ring (+ frames
 *   left unread after --count). On a loopback interface only the arriving copy of each packet is captured (the
 *   addon sets PACKET_IGNORE_OUTGOING), so `received` counts each packet once there too.
 */
export interface DropCounters {
  source: 'libpcap' | 'estimate';
  /** ps_recv: packets that passed the filter in the kernel (null when unknown). */
  received: number | null;
  /** ps_drop: dropped because libpcap's kernel buffer was full. */
  kernel: number | null;
  /** ps_ifdrop: dropped by the network interface or its driver. */
  interface: number | null;
  /** Dropped because the ring between the capture thread and the analysis was full (the analysis fell behind). */
  ring: number;
  /** Frames libpcap handed to the capture thread. */
  delivered: number | null;
  /** kernel + interface + ring (for 'estimate': the estimated loss). */
  total: number;
}

/**
 * Backpressure between chunks: returns a promise while the consumer (a slow output) wants the source to wait,
 * null to go on at once.
 */
export type Gate = () => Promise<void> | null;

export interface SourceResult {
  frames: number;
  /** Set when reading stopped because of damage; frames before it were delivered. */
  error: CaptureError | null;
  /** Non-fatal notes (e.g. unknown pcapng block types skipped: counted once per type). */
  warnings: string[];
}

export interface PacketSource {
  readonly info: CaptureInfo;
  /** Bytes consumed so far (compressed bytes for gzip input, so it compares with totalBytes). */
  readonly bytesRead: number;
  /**
   * Reads to the end, pushing frames into `sink`. Yields to the event loop between chunks so a UI stays
   * responsive. Resolves (never rejects) with the damage, if any, in `error`. Stops early when `signal` aborts.
   * Between chunks it awaits `gate()` when that returns a promise (a slow output: reading pauses).
   */
  run(sink: FrameSink, signal?: AbortSignal, gate?: Gate): Promise<SourceResult>;
  /**
   * Live sources: called (between frames) with the number of frames the capture lost since the last call, as soon
   * as the loss is known, so that the connections open at that moment can be marked.
   */
  onLoss?: ((lost: number) => void) | null;
}
