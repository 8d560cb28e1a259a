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
  | 'UNKNOWN_LINKTYPE'; // no decoder for the file's link type (reported once, frames counted)

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
  /** pcapng ISB if_dropcount or libpcap drop counter, when reported. */
  drops: number | null;
}

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
   */
  run(sink: FrameSink, signal?: AbortSignal): Promise<SourceResult>;
}
