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
