import { ROW_WIDTH, unpackRec, type LogRec } from './packet-log.js';

const CLIENT_IS_A = 1;
const CLOSED = 2;
const ENDED_BY_RST = 4;
const TIME_WAIT_0 = 8;
const TIME_WAIT_1 = 16;
const USED_TS = 32;

// Places in the number row: times, then per side (0 client, 1 server) sndMax, lastTsVal, isn; then the frames.
const CLOSE_T = 0;
const FIRST_T = 1;
const LAST_T = 2;
const SND_MAX = 3;
const TS_VAL = 5;
const ISN = 7;
const N_FRAMES = 9;
const FRAMES = 10;

/** What a tombstone is made from (the closed connection's facts, see flow-table.ts tombstone()). */
export interface TombstoneFacts {
  id: string;
  clientIsA: boolean;
  closed: boolean;
  closeT: number;
  endedByRst: boolean;
  timeWait: [boolean, boolean];
  sndMax: [number, number];
  lastTsVal: [number, number];
  usedTs: boolean;
  closeFrames: number[];
  /** The closing packets as rows of the packet log (ROW_WIDTH numbers each, its row format), in frame order: closeRows[0 .. closeRowsLength). */
  closeRows: number[];
  closeRowsLength: number;
  isn: [number, number];
  firstT: number;
  lastT: number;
}

/** A tombstone's flags (what its constructor keeps as `bits`). */
export function tombstoneBits(f: TombstoneFacts): number {
  return (f.clientIsA ? CLIENT_IS_A : 0) | (f.closed ? CLOSED : 0) | (f.endedByRst ? ENDED_BY_RST : 0)
    | (f.timeWait[0] ? TIME_WAIT_0 : 0) | (f.timeWait[1] ? TIME_WAIT_1 : 0) | (f.usedTs ? USED_TS : 0);
}

/** How many numbers a tombstone of these facts holds. */
export function tombstoneSize(f: TombstoneFacts): number {
  return FRAMES + f.closeFrames.length + f.closeRowsLength;
}

/** A tombstone's numbers (what its constructor keeps as `n`) into out[0 .. tombstoneSize(f)); out must be that long. */
export function packTombstone(f: TombstoneFacts, n: number[]): void {
  const frames = f.closeFrames;
  n[CLOSE_T] = f.closeT; n[FIRST_T] = f.firstT; n[LAST_T] = f.lastT;
  n[SND_MAX] = f.sndMax[0]; n[SND_MAX + 1] = f.sndMax[1]; n[TS_VAL] = f.lastTsVal[0]; n[TS_VAL + 1] = f.lastTsVal[1];
  n[ISN] = f.isn[0]; n[ISN + 1] = f.isn[1]; n[N_FRAMES] = frames.length;
  let o = FRAMES;
  for (let i = 0; i < frames.length; i++) n[o++] = frames[i] as number;
  const rows = f.closeRows;
  for (let i = 0; i < f.closeRowsLength; i++) n[o++] = rows[i] as number;
}

/**
 * What a closed previous incarnation on the same 4-tuple leaves behind for judging a reuse (docs/rules.md §6.4).
 * Tens of thousands rest at once on a busy capture (one per tuple closed within tombstoneLife), so each is three
 * fields: its id, a few flags, and one array of numbers holding its times, sequence numbers, closing frames and
 * closing packets (in the packet log's row format). The accessors build what they return: for judging, not per packet.
 */
export class Tombstone {
  readonly id: string;
  private readonly bits: number;
  private readonly n: number[];

  constructor(f: TombstoneFacts) {
    this.id = f.id;
    this.bits = tombstoneBits(f);
    // Exactly its length, filled in place (no spare capacity, no copy).
    const n = new Array<number>(tombstoneSize(f));
    packTombstone(f, n);
    this.n = n;
  }

  /** Side indexes refer to the previous connection: 0 its client, 1 its server; this maps them to the tuple. */
  get clientIsA(): boolean { return (this.bits & CLIENT_IS_A) !== 0; }
  get closed(): boolean { return (this.bits & CLOSED) !== 0; }
  get endedByRst(): boolean { return (this.bits & ENDED_BY_RST) !== 0; }
  get usedTs(): boolean { return (this.bits & USED_TS) !== 0; }
  /** Time of the last FIN's ACK (or last FIN), or of the accepted RST; the last packet when never closed. */
  get closeT(): number { return this.n[CLOSE_T] as number; }
  get firstT(): number { return this.n[FIRST_T] as number; }
  get lastT(): number { return this.n[LAST_T] as number; }
  get timeWait(): [boolean, boolean] { return [(this.bits & TIME_WAIT_0) !== 0, (this.bits & TIME_WAIT_1) !== 0]; }
  get sndMax(): [number, number] { return [this.n[SND_MAX] as number, this.n[SND_MAX + 1] as number]; }
  get lastTsVal(): [number, number] { return [this.n[TS_VAL] as number, this.n[TS_VAL + 1] as number]; }
  get isn(): [number, number] { return [this.n[ISN] as number, this.n[ISN + 1] as number]; }
  /** sndMax of one side (0 client, 1 server) without building the pair. */
  sndMaxOf(side: number): number { return this.n[SND_MAX + side] as number; }

  get closeFrames(): number[] {
    return this.n.slice(FRAMES, FRAMES + (this.n[N_FRAMES] as number));
  }

  /** The previous connection's closing packets, to show them as evidence if needed. */
  get closeRecs(): LogRec[] {
    const out: LogRec[] = [];
    for (let o = FRAMES + (this.n[N_FRAMES] as number); o < this.n.length; o += ROW_WIDTH) out.push(unpackRec(this.n, o));
    return out;
  }
}
