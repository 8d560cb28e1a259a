import type { CompactingArena } from '../tcp/byte-arena.js';
import type { ColdStore } from '../tcp/flow-table.js';
import { RecordFile } from './record-file.js';

/** Dead bytes below which the file is never compacted. */
const DEAD_LIMIT = 64 << 20;

/**
 * Where a streamed analysis keeps the open connections that sleep (FlowTable: idle for 30 s of capture time, frozen
 * as a one-byte string): records of a private temporary file (RecordFile), so an idle connection costs the heap its
 * tuple only. A long capture gathers tens of thousands that never close (one-sided, abandoned, stuck half-closes);
 * each is read back once, when it wakes or is judged (taken: its bytes are dead). The file grows by a record each time
 * a connection falls asleep; once more than half of it (and over DEAD_LIMIT) is dead, the owner moves the live
 * records to a new file (compact(), O(live), so O(1) per record put, amortized): on a live capture where connections
 * doze and wake for days, the file stays within twice what sleeps.
 */
export class DiskColdStore implements ColdStore {
  private file = new RecordFile('teardown-idle-', 'idle connection store');
  /** Records put (a count for tests and the memory probe). */
  records = 0;
  /** Bytes of records taken (dead), and of all records. */
  private dead = 0;
  private total = 0;

  /** `deadLimit`: dead bytes below which compaction is not worth it (tests make it small). */
  constructor(private readonly deadLimit = DEAD_LIMIT) {}

  put(frozen: string): number {
    this.records++;
    this.total += 4 + frozen.length;
    return this.file.putLatin1(frozen);
  }

  /** The string put at `ref`; it is dead afterwards (every reference is taken once). */
  take(ref: number): string {
    const s = this.file.latin1(ref);
    this.dead += 4 + s.length;
    return s;
  }

  /** More than half of the file is dead: time to compact() (the owner knows the live references). */
  wasteful(): boolean {
    return this.dead > this.deadLimit && 2 * this.dead > this.total;
  }

  /** The records at `refs` (every live one) moved to a new file; their new references, in the same order. */
  compact(refs: readonly number[]): number[] {
    const old = this.file;
    this.file = new RecordFile('teardown-idle-', 'idle connection store');
    this.dead = 0;
    this.total = 0;
    this.records = 0;
    const out = refs.map((ref) => {
      const c = old.chunk(ref);
      this.records++;
      this.total += 4 + old.length;
      return this.file.put(c.subarray(old.start(ref)), old.length);
    });
    old.close();
    return out;
  }

  /** Bytes the file holds (live and dead), for tests. */
  get bytes(): number {
    return this.total;
  }

  close(): void {
    this.file.close();
  }
}

/**
 * The same for byte records (src/tcp/byte-arena.ts CompactingArena): where a streamed analysis keeps the frozen copy
 * of each judged connection for its reopen window (FlowTable: REOPEN_WINDOW, 120 s of capture time). A busy capture
 * judges thousands of connections a second and keeps them all that long (~600 bytes each, ~11 MiB per analysis
 * thread on the bench capture), while a copy is read back only when a late segment or a new path comes on its tuple
 * within the window: seldom. Freed records are dead; once more than half of the records are dead and the file is over
 * DEAD_LIMIT, the owner moves the live ones to a new file.
 */
export class DiskArena implements CompactingArena {
  private file = new RecordFile('teardown-judged-', 'judged connection store');
  /** Records put and not freed. */
  records = 0;
  /** Records freed, and all records, since the file was begun; bytes of all records. */
  private dead = 0;
  private total = 0;
  private fileBytes = 0;

  /** `deadLimit`: bytes below which the file is never compacted (tests make it small). */
  constructor(private readonly deadLimit = DEAD_LIMIT) {}

  /** The memory it holds: its buffers (the records are in the file). */
  get bytes(): number {
    return this.file.memory;
  }

  put(b: Uint8Array, n: number): number {
    this.records++;
    this.total++;
    this.fileBytes += 4 + n;
    return this.file.put(b, n);
  }

  /** The bytes holding record `ref` (read from the file into a scratch buffer if it is there); see start(). */
  chunk(ref: number): Uint8Array {
    return this.file.chunk(ref);
  }

  start(ref: number): number {
    return this.file.start(ref);
  }

  free(_ref: number): void {
    this.records--;
    this.dead++;
  }

  wasteful(): boolean {
    return this.fileBytes > this.deadLimit && 2 * this.dead > this.total;
  }

  /** The records at `refs` (every live one) moved to a new file; their new references, in the same order. */
  compact(refs: readonly number[]): number[] {
    const old = this.file;
    this.file = new RecordFile('teardown-judged-', 'judged connection store');
    this.dead = 0;
    this.total = 0;
    this.fileBytes = 0;
    this.records = 0;
    const out = refs.map((ref) => this.put(old.chunk(ref).subarray(old.start(ref)), old.length));
    old.close();
    return out;
  }

  close(): void {
    this.file.close();
  }
}
