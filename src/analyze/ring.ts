/**
 * A single-producer single-consumer ring of frame records in a SharedArrayBuffer: the reader thread copies each
 * frame in (no per-frame message), a worker reads it in place. Records are 4-byte aligned:
 *
 *   u32 kind | u32 capLength | u32 index | u32 tsSec | u32 tsNsec | u32 linkType | u32 wireLength | u32 interfaceId | bytes…
 *
 * kind FRAME carries a frame; BOUNDARY a sweep (at tsSec/tsNsec); END the end of input (the capture's last time); WRAP says
 * the next record starts at offset 0. `ctrl` holds the write and read offsets: the writer publishes its offset
 * every PUBLISH_EVERY records (and at boundaries and the end), the reader its own every PUBLISH_EVERY records too.
 *
 * Waking a thread costs far more than a record (a context switch; on a machine with fewer cores than threads, a
 * reschedule): each side says when it sleeps (a flag in `ctrl`) and is woken only then. A writer that found the ring
 * full sleeps until a quarter of it is free, so the two sides trade places once per quarter ring, not once per
 * record; a reader that found it empty is woken at the writer's next publication.
 */
import type { RawFrame } from '../capture/types.js';
export const KIND_FRAME = 1;
export const KIND_WRAP = 2;
export const KIND_BOUNDARY = 3;
export const KIND_END = 4;
/** Live: a clock tick (the time as a float64 in words 3-4); LOSS: frames lost (word 3). Word 2 of a mark: the last frame index sent. */
export const KIND_TICK = 5;
export const KIND_LOSS = 6;
const HEADER = 32;
/** The words of `ctrl` (Int32Array). */
export const CTRL = {
  /** The write and read offsets, as last published. */
  WRITE: 0, READ: 1,
  /** Set by a reader that failed: the writer stops waiting for room and throws. */
  FAILED: 2,
  /** Set while the writer sleeps for room / the reader sleeps for records: the other side wakes it. */
  WRITER_SLEEPS: 3, READER_SLEEPS: 4,
} as const;
const { WRITE, READ, FAILED, WRITER_SLEEPS, READER_SLEEPS } = CTRL;
const CTRL_WORDS = 5;
export const PUBLISH_EVERY = 64;
/** A writer that found the ring full sleeps until this share of it is free (1/RESUME_AT). */
export const RESUME_AT = 4;
/** Longest sleep (ms) before a side looks again on its own (a lost wakeup costs at most this). */
const NAP = 20;

/** Free bytes for the writer at w when the reader is at r (one byte stays free: w === r means empty). */
const TICK_F64 = new Float64Array(1);
const TICK_U32 = new Uint32Array(TICK_F64.buffer);
/** A tick's time from the two words of its float64 bits. */
export function tickTime(lo: number, hi: number): number {
  TICK_U32[0] = lo; TICK_U32[1] = hi;
  return TICK_F64[0] as number;
}

const freeBytes = (w: number, r: number, cap: number): number => (r > w ? r - w : cap - w + r);

/** The reader gave up (its thread stopped): it says why in a message of its own. */
export class RingFailed extends Error {
  constructor() { super('an analysis thread stopped reading'); }
}

export interface RingBuffers { data: SharedArrayBuffer; ctrl: SharedArrayBuffer }

export function newRing(bytes: number): RingBuffers {
  return { data: new SharedArrayBuffer(bytes & ~3), ctrl: new SharedArrayBuffer(4 * CTRL_WORDS) };
}

export class RingWriter {
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly ctrl: Int32Array;
  private readonly cap: number;
  /** The most bytes of a frame the ring takes (a frame's record must fit in half of it: reserve()). */
  readonly maxFrame: number;
  private w = 0;
  private unpublished = 0;
  /** Times the writer waited for room (the consumer was behind). */
  waits = 0;

  constructor(r: RingBuffers) {
    this.u8 = new Uint8Array(r.data);
    this.u32 = new Uint32Array(r.data);
    this.ctrl = new Int32Array(r.ctrl);
    this.cap = r.data.byteLength;
    this.maxFrame = (this.cap / 2 - 4 - HEADER) & ~3;
  }

  frame(data: Uint8Array, offset: number, len: number, index: number, tsSec: number, tsNsec: number, linkType: number, wire: number, iface: number): void {
    this.put(this.reserve(HEADER + ((len + 3) & ~3), true), data, offset, len, index, tsSec, tsNsec, linkType, wire, iface);
  }

  /** frame() without waiting: false (nothing written) when the ring has no room for it now. */
  tryFrame(data: Uint8Array, offset: number, len: number, index: number, tsSec: number, tsNsec: number, linkType: number, wire: number, iface: number): boolean {
    const at = this.reserve(HEADER + ((len + 3) & ~3), false);
    if (at < 0) return false;
    this.put(at, data, offset, len, index, tsSec, tsNsec, linkType, wire, iface);
    return true;
  }

  private put(at: number, data: Uint8Array, offset: number, len: number, index: number, tsSec: number, tsNsec: number, linkType: number, wire: number, iface: number): void {
    const u = this.u32;
    const i = at >>> 2;
    u[i] = KIND_FRAME; u[i + 1] = len; u[i + 2] = index; u[i + 3] = tsSec; u[i + 4] = tsNsec; u[i + 5] = linkType; u[i + 6] = wire; u[i + 7] = iface;
    this.u8.set(data.subarray(offset, offset + len), at + HEADER);
    if (++this.unpublished === PUBLISH_EVERY) this.publish();
  }

  /** A sweep at, or the end of input with, packet time tsSec/tsNsec. */
  mark(kind: typeof KIND_BOUNDARY | typeof KIND_END | typeof KIND_LOSS | typeof KIND_TICK, tsSec: number, tsNsec: number, frame = 0): void {
    const at = this.reserve(HEADER, true);
    const i = at >>> 2;
    this.u32[i] = kind; this.u32[i + 1] = 0; this.u32[i + 2] = frame; this.u32[i + 3] = tsSec; this.u32[i + 4] = tsNsec;
    this.publish();
  }

  /** mark() without waiting: false (nothing written) when the ring has no room for it now. */
  tryMark(kind: typeof KIND_LOSS, w3: number, w4: number, frame: number): boolean {
    const at = this.reserve(HEADER, false);
    if (at < 0) return false;
    const i = at >>> 2;
    this.u32[i] = kind; this.u32[i + 1] = 0; this.u32[i + 2] = frame; this.u32[i + 3] = w3; this.u32[i + 4] = w4;
    this.publish();
    return true;
  }

  /** A live clock tick at `now` (epoch seconds, exactly: its float64 bits), after frame `frame`. */
  tick(now: number, frame: number): void {
    TICK_F64[0] = now;
    this.mark(KIND_TICK, TICK_U32[0] as number, TICK_U32[1] as number, frame);
  }

  publish(): void {
    this.unpublished = 0;
    Atomics.store(this.ctrl, WRITE, this.w);
    if (Atomics.load(this.ctrl, READER_SLEEPS) !== 0) { Atomics.store(this.ctrl, READER_SLEEPS, 0); Atomics.notify(this.ctrl, WRITE); }
  }

  /**
   * Room for `size` bytes at the write offset (wrapping when the tail is too short). When the ring is full, sleeps
   * until a quarter of it is free (the reader wakes it then), not just `size`.
   */
  private reserve(size: number, wait: boolean): number {
    if (size + 4 > this.cap / 2) throw new RangeError(`frame of ${size} bytes does not fit the ring`);
    let want = size;
    for (;;) {
      const r = Atomics.load(this.ctrl, READ);
      const tail = this.cap - this.w;
      if (tail < size) {
        // Wrap: only when the reader is not at 0..size (it would look empty), and it has left the tail.
        if (r <= this.w && r > size && freeBytes(this.w, r, this.cap) > want) { this.u32[this.w >>> 2] = KIND_WRAP; this.w = 0; continue; }
      } else if (freeBytes(this.w, r, this.cap) > want) {
        const at = this.w; this.w += size; if (this.w === this.cap) this.w = 0; return at;
      }
      if (Atomics.load(this.ctrl, FAILED) !== 0) throw new RingFailed();
      if (!wait) { this.publish(); return -1; }
      want = Math.max(size, (this.cap / RESUME_AT) | 0);
      this.publish();
      this.waits++;
      // Say so, then look again (the reader may have moved before it could see the flag), then sleep.
      Atomics.store(this.ctrl, WRITER_SLEEPS, 1);
      if (Atomics.load(this.ctrl, READ) === r) Atomics.wait(this.ctrl, READ, r, NAP);
      Atomics.store(this.ctrl, WRITER_SLEEPS, 0);
    }
  }
}

/** The reading side, in the worker: calls back per record, in place (the bytes are valid during the call). */
export class RingReader {
  readonly u8: Uint8Array;
  /** The frame run() hands on: one object over the ring's bytes, set for each frame read (the sink copies what it keeps). */
  readonly frame: RawFrame;
  private readonly u32: Uint32Array;
  private readonly ctrl: Int32Array;
  private r = 0;

  constructor(r: RingBuffers) {
    this.u8 = new Uint8Array(r.data);
    this.u32 = new Uint32Array(r.data);
    this.ctrl = new Int32Array(r.ctrl);
    this.frame = { index: 0, tsSec: 0, tsNsec: 0, linkType: 0, interfaceId: 0, data: this.u8, dataOffset: 0, capLength: 0, wireLength: 0, fileOffset: 0 };
  }

  /** Tell the writer this reader will not read any more. */
  fail(): void {
    Atomics.store(this.ctrl, FAILED, 1);
    Atomics.notify(this.ctrl, READ);
  }

  /**
   * Reads until END: frame(the frame, its bytes in u8) for frames, boundary(time) for sweeps; returns END's time.
   * Blocks (Atomics.wait) while the ring is empty.
   */
  run(onFrame: (frame: RawFrame) => void,
    onBoundary: (tsSec: number, tsNsec: number) => void,
    onMark?: (kind: number, frame: number, w3: number, w4: number) => void): { tsSec: number; tsNsec: number } {
    const u = this.u32;
    const cap = u.length * 4;
    let unpublished = 0;
    for (;;) {
      const w = Atomics.load(this.ctrl, WRITE);
      if (w === this.r) {
        this.publish(cap);
        // Say so, then look again (the writer may have published before it could see the flag), then sleep.
        Atomics.store(this.ctrl, READER_SLEEPS, 1);
        if (Atomics.load(this.ctrl, WRITE) === w) Atomics.wait(this.ctrl, WRITE, w, NAP);
        Atomics.store(this.ctrl, READER_SLEEPS, 0);
        continue;
      }
      while (this.r !== w) {
        const i = this.r >>> 2;
        const kind = u[i];
        if (kind === KIND_WRAP) { this.r = 0; continue; }
        const len = u[i + 1] as number;
        if (kind === KIND_FRAME) {
          const f = this.frame;
          f.dataOffset = this.r + HEADER; f.capLength = len; f.index = u[i + 2] as number; f.tsSec = u[i + 3] as number;
          f.tsNsec = u[i + 4] as number; f.linkType = u[i + 5] as number; f.wireLength = u[i + 6] as number; f.interfaceId = u[i + 7] as number;
          onFrame(f);
        } else if (kind === KIND_BOUNDARY) {
          onBoundary(u[i + 3] as number, u[i + 4] as number);
        } else if (kind === KIND_TICK || kind === KIND_LOSS) {
          onMark?.(kind, u[i + 2] as number, u[i + 3] as number, u[i + 4] as number);
        } else if (kind === KIND_END) {
          const end = { tsSec: u[i + 3] as number, tsNsec: u[i + 4] as number };
          this.r += HEADER;
          this.publish(cap);
          return end;
        }
        this.r += HEADER + ((len + 3) & ~3);
        if (this.r === cap) this.r = 0;
        if (++unpublished === PUBLISH_EVERY) { unpublished = 0; this.publish(cap); }
      }
    }
  }

  /** Publishes the read offset; wakes a sleeping writer once a quarter of the ring is free. */
  private publish(cap: number): void {
    Atomics.store(this.ctrl, READ, this.r);
    if (Atomics.load(this.ctrl, WRITER_SLEEPS) !== 0 && freeBytes(Atomics.load(this.ctrl, WRITE), this.r, cap) > cap / RESUME_AT) {
      Atomics.store(this.ctrl, WRITER_SLEEPS, 0);
      Atomics.notify(this.ctrl, READ);
    }
  }
}
