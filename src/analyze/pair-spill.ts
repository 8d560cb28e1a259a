import { foldPair, newPairAcc, pairRow, type AggregateInput, type PairAcc } from '../findings/aggregates.js';
import { fmix32 } from '../model/hash.js';
import type { PairAggregate } from '../model/report.js';
import { SortedSpill } from './spill.js';

/** A text's hash with a seed (two seeds: 64 bits to group a pair's connections; equal texts are still compared). */
function textHash(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h ^ s.length) >>> 0;
}

const HAS_TW = 1;
/** A connection without reuses (foldPair only reads it). */
const NO_REUSES: [boolean, number][] = [];

/** Null fields of a row, as bits of its first number. */
const NO_RATE = 1;
const NO_FASTEST = 2;
const NO_PEAK = 4;
const NO_RATIO = 8;

/**
 * The per-pair (client address → server endpoint) aggregates of a streamed report, exactly as
 * AggregateAccumulator.pairRows() gives them, in bounded memory: a long capture has a pair for almost every
 * connection (a million pairs is ~500 MB as rows and running totals). Each connection, in the report's order, goes
 * to a sorted spill keyed by its pair's hash then that order; read back, each pair's connections come together and
 * in order, are folded (foldPair, as the accumulator does), and its row goes to a second spill keyed by the rows'
 * order (byPressure, ties by the pair's first connection: the accumulator's first-appearance order). Memory: the
 * spills' runs and one pair at a time.
 */
export class PairSpill {
  private readonly input: SortedSpill;
  private output: SortedSpill | null = null;
  private n = 0;
  private readonly nums: number[] = [];

  /** `keep`: only the rows it keeps are spilled and read back (every pair is still folded); null: all. */
  constructor(private readonly runBytes?: number, private readonly keep: ((row: PairAggregate) => boolean) | null = null) {
    this.input = new SortedSpill('pairs', runBytes);
  }

  /** The next connection in the report's order. */
  add(c: AggregateInput): void {
    // The pair's text (client and server addresses; the server's port goes in the numbers): hashed with the port.
    const text = `${c.client.address}\t${c.server.address}`;
    const x = this.nums;
    x[0] = c.server.ipVersion; x[1] = c.server.port; x[2] = c.client.port; x[3] = c.start; x[4] = c.end;
    x[5] = c.timeWaitUntil === null ? 0 : HAS_TW; x[6] = c.timeWaitUntil ?? 0;
    let k = 7;
    x[k++] = c.reuses.length;
    for (const [rejected, since] of c.reuses) { x[k++] = rejected ? 1 : 0; x[k++] = since; }
    this.input.add(textHash(text, 0x811c9dc5 ^ c.server.port), textHash(text, 0x9747b28c ^ c.server.port), this.n++, 0, x, k, text);
  }

  /** The rows in the accumulator's order (read back from disk as they go out). */
  *rows(): Generator<PairAggregate> {
    const out = this.output ??= this.fold();
    for (const r of out.sorted()) {
      const m = r.num(0);
      const text = r.text();
      const tab = text.indexOf('\t');
      yield {
        client: text.slice(0, tab), server: { ipVersion: r.num(9) as 4 | 6, address: text.slice(tab + 1), port: r.num(10) },
        connections: r.num(1), distinctClientPorts: r.num(2), ratePerSecond: (m & NO_RATE) !== 0 ? null : r.num(3),
        timeWaitReuses: r.num(4), rejectedReuses: r.num(5), fastestReuseSeconds: (m & NO_FASTEST) !== 0 ? null : r.num(6),
        portsInUsePeak: (m & NO_PEAK) !== 0 ? null : r.num(7), exhaustionRatio: (m & NO_RATIO) !== 0 ? null : r.num(8),
      };
    }
  }

  close(): void {
    this.input.close();
    this.output?.close();
  }

  /** Every pair's connections folded, its row spilled in row order. */
  private fold(): SortedSpill {
    const out = new SortedSpill('pair-rows', this.runBytes);
    /** The pairs of one hash (almost always one), by their text and server port, with their first connection's place. */
    const group = new Map<string, { acc: PairAcc; first: number; text: string }>();
    let h0 = NaN;
    let h1 = NaN;
    const x = this.nums;
    const flush = (): void => {
      for (const { acc, first, text } of group.values()) {
        const a = pairRow(acc);
        if (this.keep !== null && !this.keep(a)) continue;
        x[0] = (a.ratePerSecond === null ? NO_RATE : 0) | (a.fastestReuseSeconds === null ? NO_FASTEST : 0)
          | (a.portsInUsePeak === null ? NO_PEAK : 0) | (a.exhaustionRatio === null ? NO_RATIO : 0);
        x[1] = a.connections; x[2] = a.distinctClientPorts; x[3] = a.ratePerSecond ?? 0; x[4] = a.timeWaitReuses;
        x[5] = a.rejectedReuses; x[6] = a.fastestReuseSeconds ?? 0; x[7] = a.portsInUsePeak ?? 0; x[8] = a.exhaustionRatio ?? 0;
        x[9] = a.server.ipVersion; x[10] = a.server.port;
        // byPressure as keys: larger ratio, reuses, connections first; then the order of first appearance.
        out.add(-(a.exhaustionRatio ?? 0), -a.timeWaitReuses, -a.connections, first, x, 11, text);
      }
      group.clear();
    };
    // What foldPair reads of a connection (newPairAcc keeps its server: a new one per pair).
    const c: AggregateInput = {
      client: { ipVersion: 4, address: '', port: 0 }, server: { ipVersion: 4, address: '', port: 0 },
      teardown: 'none', start: 0, end: 0, timeWaitUntil: null, halfCloses: [], reuses: [],
    };
    const client = c.client as { ipVersion: 4 | 6; address: string; port: number };
    for (const r of this.input.sorted()) {
      if (r.k0 !== h0 || r.k1 !== h1) { flush(); h0 = r.k0; h1 = r.k1; }
      const text = r.text();
      const port = r.num(1);
      const key = `${port}\t${text}`;
      client.port = r.num(2);
      c.start = r.num(3); c.end = r.num(4); c.timeWaitUntil = r.num(5) === HAS_TW ? r.num(6) : null;
      let k = 7;
      let n = r.num(k++);
      if (n === 0) c.reuses = NO_REUSES;
      else for (c.reuses = []; n > 0; n--, k += 2) c.reuses.push([r.num(k) === 1, r.num(k + 1)]);
      let g = group.get(key);
      if (g === undefined) {
        const tab = text.indexOf('\t');
        const v = r.num(0) as 4 | 6;
        client.ipVersion = v; client.address = text.slice(0, tab);
        c.server = { ipVersion: v, address: text.slice(tab + 1), port };
        g = { acc: newPairAcc(c), first: r.k2, text };
        group.set(key, g);
      }
      foldPair(g.acc, c);
    }
    flush();
    this.input.close();
    return out;
  }
}
