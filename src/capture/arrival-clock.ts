/**
 * Wall-clock time of arrival from a monotonic clock: process.hrtime.bigint() anchored once to Date.now(), so
 * stamps never go backwards when the wall clock is stepped. Truncated to microseconds (what `-w` writes).
 */
export class ArrivalClock {
  private readonly hr0: bigint;
  private readonly baseSec: number;
  private readonly baseNs: number;
  /** Set by stamp(). */
  sec = 0;
  nsec = 0;

  constructor(wallMs: number = Date.now(), hr0: bigint = process.hrtime.bigint()) {
    this.hr0 = hr0;
    this.baseSec = Math.floor(wallMs / 1000);
    this.baseNs = Math.round((wallMs - this.baseSec * 1000) * 1e6);
  }

  /** Stamps the current time into `sec`/`nsec` (µs resolution). */
  stamp(hrNow: bigint = process.hrtime.bigint()): void {
    // Number() is exact below 2^53 ns (104 days of capture).
    const ns = this.baseNs + Number(hrNow - this.hr0);
    const whole = Math.floor(ns / 1e9);
    const frac = ns - whole * 1e9;
    this.sec = this.baseSec + whole;
    this.nsec = frac - (frac % 1000);
  }

  /** Now as epoch seconds (for session.tick). */
  now(): number {
    this.stamp();
    return this.sec + this.nsec * 1e-9;
  }
}
