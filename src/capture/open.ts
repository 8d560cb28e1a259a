/**
 * openCapture(): a PacketSource over a file or stdin ('-'). Gzip is detected by its magic (1f 8b) and inflated
 * as a stream; the format by the first 4 bytes (classic pcap magics, pcapng SHB 0A0D0D0A). Files are read in
 * 1 MiB chunks into one reused buffer; every chunk is parsed synchronously, then the loop yields to the event loop.
 */
import { constants as fsConstants, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Socket } from 'node:net';
import type { FileHandle } from 'node:fs/promises';
import { constants as zlibConstants, createGunzip, type Gunzip } from 'node:zlib';
import { PcapParser, hexBytes } from './pcap.js';
import type { CaptureParser } from './pcap.js';
import { PcapngParser } from './pcapng.js';
import { CaptureError } from './types.js';
import type { CaptureInfo, FrameSink, Gate, PacketSource, SourceResult } from './types.js';

export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

export interface OpenOptions {
  /** Stream read for '-' (default process.stdin); injectable for tests. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** File read size in bytes (default 1 MiB). */
  chunkSize?: number;
  /**
   * Size in bytes of the chunks a gzip stream is inflated into (default 256 KiB, at least 64). Each stream allocates
   * one such output buffer up front: callers opening many small captures in one process can ask for less.
   */
  inflateChunkSize?: number;
}

export const DEFAULT_INFLATE_CHUNK_SIZE = 256 * 1024;

/** A PacketSource that can also release its file without running (run() closes it by itself). */
export interface CaptureSource extends PacketSource {
  close(): Promise<void>;
}

export async function openCapture(path: string, opts: OpenOptions = {}): Promise<CaptureSource> {
  const info: CaptureInfo = { path, format: null, compressed: false, linkTypes: [], totalBytes: null, drops: null };
  if (path === '-') {
    const stdin = opts.stdin ?? process.stdin;
    if (stdin.isTTY === true) {
      throw new CaptureError('UNREADABLE', 'stdin is a terminal: pipe a capture into it (e.g. tcpdump -w - | teardown -)', path, null);
    }
    return new Source(info, (count) => new StreamReader(stdin, count), opts.inflateChunkSize);
  }
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw unreadable(path, e);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new CaptureError('UNREADABLE', 'is a directory', path, null);
    if (st.isFile()) info.totalBytes = st.size;
    if (st.isFIFO()) {
      // A named pipe is read like stdin, through the event loop: a blocking read of it in libuv's thread pool would
      // hold the process at exit (an interrupt while the writer keeps the pipe open and silent). The open above
      // waited for a writer, so a non-blocking open now finds one.
      const sock = new Socket({ fd: openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK), readable: true, writable: false });
      await fh.close();
      return new Source(info, (count) => new StreamReader(sock, count, true), opts.inflateChunkSize);
    }
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e instanceof CaptureError ? e : unreadable(path, e);
  }
  const chunkSize = Math.max(opts.chunkSize ?? DEFAULT_CHUNK_SIZE, 16);
  return new Source(info, (count) => new FileReader(fh, chunkSize, count), opts.inflateChunkSize);
}

function unreadable(path: string, e: unknown): CaptureError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const msg =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied: run as a user who can read it'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'ENOTDIR'
            ? 'no such file (a part of the path is not a directory)'
            : `cannot read: ${(e as Error).message}`;
  return new CaptureError('UNREADABLE', msg, path, null);
}

/** Produces raw chunks; null at the end. A chunk is only valid until the next call unless `freshBuffers()`. */
interface ChunkReader {
  next(): Promise<Uint8Array | null>;
  /** Later chunks must not reuse earlier chunks' memory (the gzip stream keeps them). */
  freshBuffers(): void;
  close(): Promise<void>;
}

const ABORTED = Symbol('aborted');

class Source implements CaptureSource {
  private read = 0;
  private started = false;
  private readonly raw: ChunkReader;

  private readonly inflateChunkSize: number;

  constructor(
    readonly info: CaptureInfo,
    makeReader: (count: (n: number) => void) => ChunkReader,
    inflateChunkSize = DEFAULT_INFLATE_CHUNK_SIZE,
  ) {
    this.inflateChunkSize = Math.max(inflateChunkSize, zlibConstants.Z_MIN_CHUNK);
    this.raw = makeReader((n) => {
      this.read += n;
    });
  }

  get bytesRead(): number {
    return this.read;
  }

  close(): Promise<void> {
    return this.raw.close();
  }

  async run(sink: FrameSink, signal?: AbortSignal, gate?: Gate): Promise<SourceResult> {
    if (this.started) throw new Error('PacketSource.run() can only be called once');
    this.started = true;
    const feeder = new Feeder(this.info);
    let reader: ChunkReader = this.raw;
    let gunzip: GunzipReader | null = null;
    let readError: CaptureError | null = null;
    let onAbort: (() => void) | null = null;
    const aborted =
      signal === undefined
        ? null
        : new Promise<typeof ABORTED>((resolve) => {
            onAbort = () => resolve(ABORTED);
            if (signal.aborted) resolve(ABORTED);
            else signal.addEventListener('abort', onAbort, { once: true });
          });
    const next = (): Promise<Uint8Array | null | typeof ABORTED> =>
      aborted === null ? reader.next() : Promise.race([reader.next(), aborted]);

    try {
      // Sniff gzip on the raw bytes (it needs 2).
      const head: Uint8Array[] = [];
      const sniff: number[] = [];
      while (sniff.length < 2) {
        const c = await next();
        if (c === ABORTED) return this.result(feeder, null);
        if (c === null) break;
        head.push(c.length < 2 ? Uint8Array.from(c) : c);
        for (let i = 0; i < c.length && sniff.length < 2; i++) sniff.push(c[i]!);
      }
      reader = new PrefixReader(head, this.raw);
      if (sniff[0] === 0x1f && sniff[1] === 0x8b) {
        this.info.compressed = true;
        this.raw.freshBuffers();
        reader = gunzip = new GunzipReader(reader, this.inflateChunkSize);
      }
      feeder.compressed = this.info.compressed;

      for (;;) {
        if (signal?.aborted) break;
        let c: Uint8Array | null | typeof ABORTED;
        try {
          c = await next();
        } catch (e) {
          readError = this.readFailure(e, feeder);
          break;
        }
        if (c === ABORTED) break;
        if (c === null) {
          feeder.end();
          break;
        }
        feeder.push(c, sink);
        if (feeder.parser !== null) this.info.drops = feeder.parser.drops;
        if (feeder.error !== null) break;
        // A slow output holds reading here (backpressure); otherwise let a UI redraw.
        const wait = gate?.();
        if (wait) {
          if (aborted === null) await wait;
          else if ((await Promise.race([wait, aborted])) === ABORTED) break;
        } else await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      if (onAbort !== null) signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) {
        // A read may be pending on a pipe or FIFO whose writer is idle: closing would wait for it. Let it go.
        void reader.close().catch(() => undefined);
        void this.raw.close().catch(() => undefined);
      } else {
        await reader.close();
        await this.raw.close();
      }
    }
    const r = this.result(feeder, readError);
    if (gunzip?.warning) r.warnings.push(gunzip.warning);
    return r;
  }

  private result(feeder: Feeder, readError: CaptureError | null): SourceResult {
    const p = feeder.parser;
    if (p !== null) this.info.drops = p.drops;
    return { frames: p?.frames ?? 0, error: feeder.error ?? readError, warnings: p === null ? [] : [...p.warnings] };
  }

  /** A read or inflate failure; frames already parsed stay delivered. */
  private readFailure(e: unknown, feeder: Feeder): CaptureError | null {
    const path = this.info.path;
    const err = e as NodeJS.ErrnoException;
    const code = typeof err?.code === 'string' ? err.code : '';
    if (code.startsWith('Z_')) {
      if (code === 'Z_BUF_ERROR') {
        // Cut-off .gz: a record left half-way is the more useful report.
        if (feeder.parser !== null) {
          feeder.end();
          if (feeder.error !== null) return null;
        }
        return new CaptureError('TRUNCATED', 'gzip stream ends early (file cut off)', path, feeder.offset);
      }
      return new CaptureError('BAD_GZIP', `gzip data is damaged (${err.message})`, path, feeder.offset);
    }
    return new CaptureError('UNREADABLE', `read failed: ${err?.message ?? String(e)}`, path, feeder.offset);
  }
}

const PCAP_MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1];
const PCAPNG_MAGIC = 0x0a0d0d0a;

/** Picks the parser from the first 4 (decompressed) bytes, then forwards everything to it. */
class Feeder {
  parser: CaptureParser | null = null;
  compressed = false;
  private own: CaptureError | null = null;
  private readonly head = new Uint8Array(4);
  private headLen = 0;
  private total = 0;

  constructor(private readonly info: CaptureInfo) {}

  get error(): CaptureError | null {
    return this.own ?? this.parser?.error ?? null;
  }

  /** Decompressed bytes seen. */
  get offset(): number {
    return this.total;
  }

  push(chunk: Uint8Array, sink: FrameSink): void {
    this.total += chunk.length;
    if (this.parser !== null) {
      this.parser.push(chunk, sink);
      return;
    }
    if (this.own !== null) return;
    if (this.headLen === 0 && chunk.length >= 4) {
      if (this.choose(chunk)) this.parser!.push(chunk, sink);
      return;
    }
    const take = Math.min(4 - this.headLen, chunk.length);
    this.head.set(chunk.subarray(0, take), this.headLen);
    this.headLen += take;
    if (this.headLen < 4 || !this.choose(this.head)) return;
    this.parser!.push(this.head, sink);
    if (take < chunk.length) this.parser!.push(chunk.subarray(take), sink);
  }

  end(): void {
    if (this.parser !== null) {
      this.parser.end();
      return;
    }
    if (this.own !== null) return;
    const path = this.info.path;
    if (this.total === 0) {
      const what = this.compressed ? 'the gzip stream holds no data' : path === '-' ? 'no input on stdin' : 'the file is empty';
      this.own = new CaptureError('EMPTY', what, path, null);
    } else {
      this.own = this.badMagic(`only ${this.headLen} byte(s): ${hexBytes(this.head, 0, this.headLen)}`);
    }
  }

  private choose(b: Uint8Array): boolean {
    const m = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const path = this.info.path;
    if (PCAP_MAGICS.includes(m)) {
      this.parser = new PcapParser(path);
      this.info.format = 'pcap';
    } else if (m === PCAPNG_MAGIC) {
      this.parser = new PcapngParser(path);
      this.info.format = 'pcapng';
    } else {
      this.own = this.badMagic(`starts with ${hexBytes(b, 0, 4)}`);
      return false;
    }
    this.info.linkTypes = this.parser.linkTypes; // live: grows as interfaces appear
    return true;
  }

  private badMagic(found: string): CaptureError {
    const what = this.compressed ? 'gzip-compressed, but not a pcap or pcapng file inside' : 'not a pcap or pcapng file';
    return new CaptureError('BAD_MAGIC', `${what} (${found})`, this.info.path, 0);
  }
}

/** Reads a file sequentially into one reused buffer (fresh buffers once gzip needs them). */
class FileReader implements ChunkReader {
  private buf: Buffer;
  private fresh = false;
  private closed = false;
  private pending: Promise<unknown> | null = null;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
    private readonly count: (n: number) => void,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  next(): Promise<Uint8Array | null> {
    const p = this.read();
    this.pending = p;
    return p;
  }

  private async read(): Promise<Uint8Array | null> {
    if (this.closed) return null;
    const buf = this.fresh ? Buffer.allocUnsafe(this.size) : this.buf;
    const { bytesRead } = await this.fh.read(buf, 0, this.size, null);
    if (bytesRead === 0) return null;
    this.count(bytesRead);
    return buf.subarray(0, bytesRead);
  }

  freshBuffers(): void {
    this.fresh = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = this.pending;
    let settled = pending === null;
    void pending?.then(() => { settled = true; }, () => { settled = true; });
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!settled) {
      // A read still waits on a pipe or FIFO whose writer is idle. Closing now would queue behind it, and a process
      // that exits with that close pending waits for the read forever: close once the read returns.
      void pending!.finally(() => this.fh.close().catch(() => undefined)).catch(() => undefined);
      return;
    }
    await this.fh.close().catch(() => undefined);
  }
}

/** Pulls chunks from a readable stream one at a time (paused in between, so memory stays bounded). */
class StreamReader implements ChunkReader {
  private readonly queue: Uint8Array[] = [];
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly onData = (c: Uint8Array | string): void => {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    this.count(b.length);
    this.queue.push(b);
    this.s.pause();
    this.poke();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.poke();
  };
  private readonly onError = (e: Error): void => {
    this.failure = e;
    this.poke();
  };

  constructor(
    private readonly s: NodeJS.ReadableStream,
    private readonly count: (n: number) => void,
    /** The stream was opened for this reader (a named pipe), so closing the reader destroys it. */
    private readonly owned = false,
  ) {
    s.on('data', this.onData);
    s.on('end', this.onEnd);
    s.on('error', this.onError);
    s.pause();
  }

  async next(): Promise<Uint8Array | null> {
    for (;;) {
      const c = this.queue.shift();
      if (c !== undefined) return c;
      if (this.failure !== null) throw this.failure;
      if (this.ended) return null;
      this.s.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  freshBuffers(): void {} // stream chunks are never reused

  async close(): Promise<void> {
    if (this.ended && this.wake === null && this.queue.length === 0) {
      this.detach();
      return;
    }
    this.ended = true;
    this.queue.length = 0;
    this.detach();
    this.s.pause();
    this.poke();
  }

  private detach(): void {
    this.s.removeListener('data', this.onData);
    this.s.removeListener('end', this.onEnd);
    this.s.removeListener('error', this.onError);
    if (this.owned) (this.s as Socket).destroy();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

/** Replays the chunks read while sniffing, then continues with the underlying reader. */
class PrefixReader implements ChunkReader {
  constructor(
    private readonly head: Uint8Array[],
    private readonly inner: ChunkReader,
  ) {}
  next(): Promise<Uint8Array | null> {
    const c = this.head.shift();
    return c !== undefined ? Promise.resolve(c) : this.inner.next();
  }
  freshBuffers(): void {
    this.inner.freshBuffers();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** gzip trailer: CRC32 and ISIZE of the (last) member. */
const GZIP_TRAILER = 8;

/**
 * Inflates a gzip stream (multi-member too) chunk by chunk, with backpressure in both directions.
 *
 * The last 8 input bytes (the final member's trailer) are held back until everything before them has been inflated
 * and handed on; only then are they written, so that a damaged trailer (bad CRC32 or ISIZE: zlib's "incorrect data
 * check") costs nothing but a warning — zlib would otherwise fail the write that carries the trailer and drop the
 * data inflated with it, as `gzip -dc` does not. A stream cut short still ends in an error, after its data.
 */
class GunzipReader implements ChunkReader {
  private readonly gz: Gunzip;
  private readonly queue: Uint8Array[] = [];
  private ended = false;
  private inputDone = false;
  private reading = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  /** Input held back: the last GZIP_TRAILER bytes seen. */
  private held: Buffer = Buffer.alloc(0);
  /** After the input ended: 'flush' (inflating what came before the held bytes), 'held' (held bytes written), 'end'. */
  private phase: 'read' | 'flush' | 'held' | 'end' = 'read';
  private flushed = false;
  private heldDone = false;
  /** Set when the trailer was damaged but the data inflated completely. */
  warning: string | null = null;

  constructor(private readonly inner: ChunkReader, chunkSize: number) {
    const gz = this.gz = createGunzip({ chunkSize });
    gz.on('data', (c: Buffer) => {
      this.queue.push(c);
      gz.pause();
      this.poke();
    });
    gz.on('end', () => {
      this.ended = true;
      this.poke();
    });
    gz.on('error', (e: NodeJS.ErrnoException) => {
      if (this.phase === 'held' && e.code === 'Z_DATA_ERROR' && /incorrect (data|length) check/.test(e.message)) {
        // Everything before the trailer was inflated and delivered already.
        this.warning = `gzip trailer is damaged (${e.message}): the data inflated completely and was read, but its checksum could not be verified`;
        this.ended = true;
      } else this.failure ??= e;
      this.poke();
    });
    gz.on('drain', () => this.poke());
    gz.pause();
  }

  async next(): Promise<Uint8Array | null> {
    for (;;) {
      const c = this.queue.shift();
      if (c !== undefined) return c;
      if (this.failure !== null) throw this.failure;
      if (this.ended) return null;
      this.gz.resume();
      if (this.inputDone) this.finish();
      // Read input in the background: inflated output must not wait for the next raw chunk (stdin may pause).
      else if (!this.reading && !this.gz.writableNeedDrain) {
        this.reading = true;
        this.inner.next().then(
          (raw) => {
            this.reading = false;
            if (this.ended) return;
            if (raw === null) {
              this.inputDone = true;
              this.phase = 'flush';
              this.gz.flush(zlibConstants.Z_SYNC_FLUSH, () => { this.flushed = true; this.poke(); });
            } else this.feed(raw);
            this.poke();
          },
          (e: Error) => {
            this.reading = false;
            this.failure ??= e;
            this.poke();
          },
        );
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Writes all but the last GZIP_TRAILER bytes seen so far. */
  private feed(raw: Uint8Array): void {
    const b = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
    if (this.held.length + b.length <= GZIP_TRAILER) {
      this.held = Buffer.concat([this.held, b]);
      return;
    }
    const keep = Math.min(GZIP_TRAILER, b.length);
    const fromHeld = GZIP_TRAILER - keep; // bytes of the old held part still held
    if (this.held.length > fromHeld) this.gz.write(this.held.subarray(0, this.held.length - fromHeld));
    const rest = this.held.subarray(this.held.length - fromHeld);
    if (b.length > keep) this.gz.write(b.subarray(0, b.length - keep));
    this.held = Buffer.concat([rest, b.subarray(b.length - keep)]);
  }

  /** Input ended: once all inflated output is taken, write the held bytes; once that is taken too, end. */
  private finish(): void {
    if (this.gz.readableLength > 0) return;
    if (this.phase === 'flush' && this.flushed) {
      this.phase = 'held';
      this.gz.write(this.held, () => { this.heldDone = true; this.poke(); });
    } else if (this.phase === 'held' && this.heldDone) {
      this.phase = 'end';
      this.gz.end();
    }
  }

  freshBuffers(): void {}

  async close(): Promise<void> {
    this.ended = true;
    this.gz.removeAllListeners('data');
    this.gz.on('error', () => undefined);
    this.gz.destroy();
    this.poke();
    await this.inner.close();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
