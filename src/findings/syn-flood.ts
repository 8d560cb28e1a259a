import type { Finding, PacketRef } from '../model/report.js';
import { formatEndpoint } from '../decode/format.js';
import type { Connection } from '../tcp/connection.js';
import type { TupleEntry } from '../tcp/flow-table.js';
import type { LogRec } from '../tcp/packet-log.js';
import { CATALOG } from './catalog.js';
import { refOf, secs } from './context.js';
import { fmix32 as fmix } from '../model/hash.js';
import { DistinctCounter, type DistinctRaw } from './distinct.js';

/** A server endpoint is flooded when at least this many handshakes to it never completed… */
export const FLOOD_MIN_ATTEMPTS = 1000;
/** …at this rate or faster (attempts per second between the first and the last). */
export const FLOOD_MIN_RATE = 100;
/** Server endpoints tracked at once; past it the ones with the fewest attempts are forgotten (scans). */
export const MAX_TARGETS = 1 << 15;

interface Sample { rec: LogRec; clientIsn: number; serverIsn: number }

interface Target {
  v: 4 | 6;
  addr: number[];
  port: number;
  attempts: number;
  syns: number;
  answered: number;
  refused: number;
  firstT: number;
  lastT: number;
  first: Sample;
  last: Sample;
  /** Hashes of the first attempt's source (the counters are made at the second attempt: scans stay cheap). */
  src0: number;
  addr0: number;
  sources: DistinctCounter | null;
  addresses: DistinctCounter | null;
  /** Created after targets were forgotten: this one may have been among them, its counts are a lower bound. */
  partial: boolean;
}

/** A handshake that never completed: SYN seen, never synchronized, no data (what a SYN flood is made of). */
export interface FloodRaw {
  forgotten: boolean;
  targets: [number | string, Omit<Target, 'sources' | 'addresses'> & { sources: DistinctRaw | null; addresses: DistinctRaw | null }][];
}

export function incompleteHandshake(c: Connection): boolean {
  return c.sawSyn && !c.established && c.ep[0].dataBytes === 0 && c.ep[1].dataBytes === 0;
}

function sample(c: Connection, frame: number): Sample | null {
  const rec = c.log.find(frame);
  return rec === undefined ? null : { rec, clientIsn: c.ep[0].isn, serverIsn: c.ep[1].isn };
}

/**
 * Counts incomplete handshakes per server endpoint in bounded memory (RFC 4987's SYN flooding), whether the
 * connection was judged or dropped under pressure, and reports the endpoints that were flooded.
 */
export class FloodTracker {
  private readonly targets = new Map<number | string, Target>();
  private threshold = 2;
  private forgotten = false;

  /** Record a connection leaving the table (judged or dropped) if its handshake never completed. */
  observe(c: Connection, e: TupleEntry): void {
    if (!incompleteHandshake(c)) return;
    const a = c.clientIsA;
    const port = a ? e.bPort : e.aPort;
    const s0 = a ? e.b0 : e.a0;
    const key: number | string = e.v === 4 ? s0 * 65536 + port
      : `${s0},${a ? e.b1 : e.a1},${a ? e.b2 : e.a2},${a ? e.b3 : e.a3},${port}`;
    const ca = e.v === 4 ? (a ? e.a0 : e.b0)
      : fmix((a ? e.a0 : e.b0) ^ fmix((a ? e.a1 : e.b1) ^ fmix((a ? e.a2 : e.b2) ^ fmix(a ? e.a3 : e.b3))));
    const addrHash = fmix(ca);
    const srcHash = fmix(addrHash ^ Math.imul((a ? e.aPort : e.bPort) + 1, 0x9e3779b1));
    const syns = c.ep[0].packets;
    let t = this.targets.get(key);
    if (t === undefined) {
      const first = sample(c, c.firstFrame);
      const last = sample(c, c.lastFrame);
      if (first === null || last === null) return;
      if (this.targets.size >= MAX_TARGETS) this.forget();
      t = {
        v: e.v, addr: a ? e.b : e.a, port, attempts: 0, syns: 0, answered: 0, refused: 0, firstT: c.firstT, lastT: c.lastT,
        first, last, src0: srcHash, addr0: addrHash, sources: null, addresses: null, partial: this.forgotten,
      };
      this.targets.set(key, t);
    } else {
      if (t.sources === null) {
        t.sources = new DistinctCounter(); t.sources.add(t.src0);
        t.addresses = new DistinctCounter(); t.addresses.add(t.addr0);
      }
      t.sources.add(srcHash);
      (t.addresses as DistinctCounter).add(addrHash);
      if (c.firstT < t.firstT || (c.firstT === t.firstT && c.firstFrame < t.first.rec.frame)) {
        const s = sample(c, c.firstFrame);
        if (s !== null) { t.first = s; t.firstT = c.firstT; }
      }
      if (c.lastT > t.lastT || (c.lastT === t.lastT && c.lastFrame > t.last.rec.frame)) {
        const s = sample(c, c.lastFrame);
        if (s !== null) { t.last = s; t.lastT = c.lastT; }
      }
    }
    t.attempts++;
    t.syns += syns;
    if (c.sawSynAck) t.answered++;
    if (c.refused) t.refused++;
  }

  /** Forget the targets with the fewest attempts until at most half the bound is used (amortized O(1)). */
  private forget(): void {
    this.forgotten = true;
    while (this.targets.size > MAX_TARGETS / 2) {
      for (const [k, t] of this.targets) if (t.attempts < this.threshold) this.targets.delete(k);
      if (this.targets.size > MAX_TARGETS / 2) this.threshold *= 2;
    }
  }

  /** The targets as plain data (another thread's tracker, merged with merge()). */
  raw(): FloodRaw {
    return {
      forgotten: this.forgotten,
      targets: [...this.targets].map(([k, t]) => [k, { ...t, sources: t.sources?.raw() ?? null, addresses: t.addresses?.raw() ?? null }]),
    };
  }

  /**
   * Fold in the targets another tracker saw (each analysis thread sees some of every server's tuples): counts add
   * up, the first and last samples are the earliest and latest, distinct counts merge; the same as one tracker
   * unless targets were forgotten (then counts are lower bounds either way).
   */
  merge(o: FloodRaw): void {
    if (o.forgotten) this.forgotten = true;
    for (const [k, b] of o.targets) {
      const src = b.sources === null ? null : DistinctCounter.fromRaw(b.sources);
      const addrs = b.addresses === null ? null : DistinctCounter.fromRaw(b.addresses);
      const t = this.targets.get(k);
      if (t === undefined) {
        if (this.targets.size >= MAX_TARGETS) this.forget();
        this.targets.set(k, { ...b, sources: src, addresses: addrs });
        continue;
      }
      if (t.sources === null) {
        t.sources = new DistinctCounter(); t.sources.add(t.src0);
        t.addresses = new DistinctCounter(); t.addresses.add(t.addr0);
      }
      if (src === null) { t.sources.add(b.src0); (t.addresses as DistinctCounter).add(b.addr0); } else {
        t.sources.merge(src.raw());
        (t.addresses as DistinctCounter).merge((addrs as DistinctCounter).raw());
      }
      if (b.firstT < t.firstT || (b.firstT === t.firstT && b.first.rec.frame < t.first.rec.frame)) { t.first = b.first; t.firstT = b.firstT; }
      if (b.lastT > t.lastT || (b.lastT === t.lastT && b.last.rec.frame > t.last.rec.frame)) { t.last = b.last; t.lastT = b.lastT; }
      t.attempts += b.attempts; t.syns += b.syns; t.answered += b.answered; t.refused += b.refused;
      t.partial ||= b.partial;
    }
  }

  /** One `syn-flood` finding per flooded server endpoint. */
  findings(): Finding[] {
    const out: Finding[] = [];
    for (const t of this.targets.values()) {
      const duration = t.lastT - t.firstT;
      // Arrivals per second: n attempts span n - 1 gaps.
      const rate = duration > 0 ? (t.attempts - 1) / duration : Infinity;
      if (t.attempts < FLOOD_MIN_ATTEMPTS || rate < FLOOD_MIN_RATE) continue;
      const server = formatEndpoint(t.v, t.addr, t.port);
      const sources = t.sources?.count() ?? 1;
      const addresses = t.addresses?.count() ?? 1;
      const srcEst = t.sources !== null && !t.sources.isExact;
      const addrEst = t.addresses !== null && !t.addresses.isExact;
      const estimated = srcEst || addrEst;
      const rateShown = Number.isFinite(rate) ? Math.round(rate) : null;
      const evidence: PacketRef[] = [ref(t.first, t.firstT, 'first SYN of the flood')];
      if (t.last.rec.frame !== t.first.rec.frame) evidence.push(ref(t.last, t.firstT, 'last packet of the flood'));
      out.push({
        kind: 'syn-flood', severity: CATALOG['syn-flood'].severity, connection: '',
        summary: `SYN flood on ${server}: ${t.attempts} handshakes never completed in ${secs(duration)}`
          + `${rateShown === null ? '' : ` (${rateShown}/s)`}, from ${srcEst ? '~' : ''}${sources} source endpoints on `
          + `${addrEst ? '~' : ''}${addresses} ${addresses === 1 ? 'address' : 'addresses'}`,
        why: `${t.attempts} connection attempts to ${server} never completed their handshake (${t.answered} answered by `
          + `SYN-ACK, ${t.refused} refused), at ${rateShown === null ? 'one instant' : `${rateShown} per second`}: at least `
          + `${FLOOD_MIN_ATTEMPTS} at ${FLOOD_MIN_RATE}/s or faster is a flood (RFC 4987).`,
        rule: CATALOG['syn-flood'].rule, time: t.firstT, evidence,
        details: {
          server, attempts: t.attempts, syns: t.syns, answered: t.answered, refused: t.refused,
          distinctSources: sources, distinctSourceAddresses: addresses, distinctEstimated: estimated,
          ratePerSecond: rateShown, durationSeconds: Math.round(duration * 1e6) / 1e6,
          firstFrame: t.first.rec.frame, lastFrame: t.last.rec.frame, countsExact: !t.partial,
        },
      });
    }
    return out.sort((x, y) => x.time - y.time);
  }
}

/** Evidence with sequence numbers relative to its own attempt and the offset from the flood's start. */
function ref(s: Sample, floodStart: number, note: string): PacketRef {
  const r = refOf(s.rec, s.clientIsn, s.serverIsn, floodStart);
  r.note = note;
  return r;
}
