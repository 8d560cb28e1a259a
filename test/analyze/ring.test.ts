/**
 * The ring's hand-over between the reader thread and a worker, checked in one thread (no sleeping side, no timing):
 * what each side publishes while it goes, and when it wakes the other.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CTRL, KIND_END, KIND_LOSS, KIND_TICK, newRing, PUBLISH_EVERY, RESUME_AT, RingReader, RingWriter, tickTime } from '../../src/analyze/ring.js';

const FRAME = new Uint8Array(100).map((_, i) => i);
/** Bytes one FRAME takes in the ring (header and padding). */
const RECORD = 32 + 100;

/** A ring holding `frames` frames then the end of input, and its control words. */
function filled(bytes: number, frames: number): { reader: RingReader; ctrl: Int32Array; cap: number } {
  const ring = newRing(bytes);
  const w = new RingWriter(ring);
  for (let i = 0; i < frames; i++) w.frame(FRAME, 0, FRAME.length, i, 1, 0, 1, FRAME.length, 0);
  w.mark(KIND_END, 2, 0);
  return { reader: new RingReader(ring), ctrl: new Int32Array(ring.ctrl), cap: ring.data.byteLength };
}

describe('ring hand-over', () => {
  test('the reader gives room back while it reads, not only once it has read everything published', () => {
    const { reader, ctrl } = filled(1 << 20, 1000);
    const seen: number[] = [];
    reader.run(({ index }) => { seen.push(index); if (index === 500) assert.ok(Atomics.load(ctrl, CTRL.READ) >= (500 - PUBLISH_EVERY) * RECORD, `read offset at frame 500: ${Atomics.load(ctrl, CTRL.READ)}`); }, () => {});
    assert.equal(seen.length, 1000);
    assert.deepEqual(seen.slice(0, 3), [0, 1, 2]);
  });

  test('a sleeping writer is woken once a quarter of the ring is free, not at every publication', () => {
    const frames = 3000;
    const { reader, ctrl, cap } = filled(512 * 1024, frames);
    assert.ok(frames * RECORD > cap * 0.75, 'the ring is mostly full');
    // The writer found the ring full and sleeps (as RingWriter.reserve leaves the flag).
    Atomics.store(ctrl, CTRL.WRITER_SLEEPS, 1);
    const write = Atomics.load(ctrl, CTRL.WRITE);
    const free = (r: number) => (r > write ? r - write : cap - write + r);
    let wokenAt = -1;
    let publications = 0;
    let lastRead = 0;
    reader.run(({ index }) => {
      const r = Atomics.load(ctrl, CTRL.READ);
      if (r !== lastRead) { publications++; lastRead = r; }
      if (wokenAt < 0 && Atomics.load(ctrl, CTRL.WRITER_SLEEPS) === 0) {
        wokenAt = index;
        assert.ok(free(r) > cap / RESUME_AT, `woken with ${free(r)} of ${cap} bytes free`);
      }
      if (wokenAt < 0) assert.ok(free(r) <= cap / RESUME_AT + PUBLISH_EVERY * RECORD, `still asleep with ${free(r)} of ${cap} bytes free`);
    }, () => {});
    assert.ok(wokenAt > 0, 'the writer was woken');
    assert.ok(publications > 3, `the reader published ${publications} times before and after`);
  });

  test('a writer that publishes wakes only a reader that sleeps', () => {
    const ring = newRing(1 << 16);
    const ctrl = new Int32Array(ring.ctrl);
    const w = new RingWriter(ring);
    w.mark(KIND_END, 1, 0);
    assert.equal(Atomics.load(ctrl, CTRL.READER_SLEEPS), 0);
    Atomics.store(ctrl, CTRL.READER_SLEEPS, 1);
    w.publish();
    assert.equal(Atomics.load(ctrl, CTRL.READER_SLEEPS), 0, 'the flag is taken down by the writer that wakes it');
  });

  test('tryFrame never waits: a full ring refuses the frame (nothing written), and takes frames again once read', () => {
    const ring = newRing(16 * 1024);
    const ctrl = new Int32Array(ring.ctrl);
    const w = new RingWriter(ring);
    let sent = 0;
    while (w.tryFrame(FRAME, 0, FRAME.length, sent + 1, 1, 0, 1, FRAME.length, 0)) sent++;
    assert.ok(sent > 50 && sent * RECORD < 16 * 1024, `${sent} frames fit`);
    assert.equal(w.waits, 0, 'never waited');
    assert.equal(Atomics.load(ctrl, CTRL.WRITER_SLEEPS), 0, 'never said it sleeps');
    assert.equal(w.tryFrame(FRAME, 0, FRAME.length, 0, 1, 0, 1, FRAME.length, 0), false, 'still full');
    // Once the reader has read (and published) part of it, there is room again: a tick (its time exactly), a loss,
    // a frame and the end follow, in order (one thread: everything is written before the reader would wait).
    const now = 1763000000.123456789;
    const reader = new RingReader(ring);
    const seen: number[] = [];
    const marks: [number, number, number][] = [];
    const r = reader.run(({ dataOffset: at, capLength: len, index }) => {
      seen.push(index);
      assert.deepEqual(reader.u8.subarray(at, at + len), FRAME);
      if (index !== sent) return;
      w.tick(now, sent);
      w.mark(KIND_LOSS, 7, 0, sent);
      assert.ok(w.tryFrame(FRAME, 0, FRAME.length, sent + 1, 1, 0, 1, FRAME.length, 0), 'room again once read');
      w.mark(KIND_END, 2, 0);
    }, () => {}, (kind, frame, w3, w4) => { marks.push([kind, frame, kind === KIND_TICK ? tickTime(w3, w4) : w3]); });
    assert.deepEqual(r, { tsSec: 2, tsNsec: 0 });
    assert.deepEqual(seen, Array.from({ length: sent + 1 }, (_, i) => i + 1));
    assert.deepEqual(marks, [[KIND_TICK, sent, now], [KIND_LOSS, sent, 7]]);
  });
});
