import { fmix32 } from '../model/hash.js';

/**
 * Distinct count in bounded memory: exact up to EXACT_LIMIT values, then a HyperLogLog estimate (Flajolet et al.
 * 2007, with linear counting for small ranges; 2^12 registers, ±1.6 % standard error). Values are 32-bit hashes.
 */
const EXACT_LIMIT = 1024;
const P = 12;
const M = 1 << P;
const ALPHA = 0.7213 / (1 + 1.079 / M);

export interface DistinctRaw { exact: number[] | null; registers: Uint8Array | null }

export class DistinctCounter {
  private exact: Set<number> | null = new Set();
  private registers: Uint8Array | null = null;

  add(hash: number): void {
    if (this.exact !== null) {
      this.exact.add(hash | 0);
      if (this.exact.size <= EXACT_LIMIT) return;
      this.registers = new Uint8Array(M);
      for (const h of this.exact) this.addHll(h);
      this.exact = null;
      return;
    }
    this.addHll(hash);
  }

  /** The state as plain data (for another thread); fromRaw() rebuilds it. */
  raw(): DistinctRaw {
    return { exact: this.exact === null ? null : [...this.exact], registers: this.registers };
  }

  static fromRaw(r: DistinctRaw): DistinctCounter {
    const d = new DistinctCounter();
    d.exact = r.exact === null ? null : new Set(r.exact);
    d.registers = r.registers === null ? null : Uint8Array.from(r.registers);
    return d;
  }

  /** Count the values of another counter too: the same state as one counter that saw both streams. */
  merge(o: DistinctRaw): void {
    if (o.exact !== null) { for (const h of o.exact) this.add(h); return; }
    if (this.exact !== null) {
      this.registers = new Uint8Array(M);
      for (const h of this.exact) this.addHll(h);
      this.exact = null;
    }
    const r = this.registers as Uint8Array;
    const s = o.registers as Uint8Array;
    for (let i = 0; i < M; i++) if ((s[i] as number) > (r[i] as number)) r[i] = s[i] as number;
  }

  /** True while the count is exact (at most EXACT_LIMIT distinct values seen). */
  get isExact(): boolean { return this.exact !== null; }

  count(): number {
    if (this.exact !== null) return this.exact.size;
    const r = this.registers as Uint8Array;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < M; i++) { const v = r[i] as number; sum += 2 ** -v; if (v === 0) zeros++; }
    const e = ALPHA * M * M / sum;
    if (e <= 2.5 * M && zeros > 0) return Math.round(M * Math.log(M / zeros));
    return Math.round(e);
  }

  private addHll(hash: number): void {
    const h = fmix32(hash) >>> 0;
    const idx = h >>> (32 - P);
    const rest = (h << P) | (1 << (P - 1)); // a sentinel bit bounds the rank
    const rank = Math.clz32(rest) + 1;
    const r = this.registers as Uint8Array;
    if (rank > (r[idx] as number)) r[idx] = rank;
  }
}

