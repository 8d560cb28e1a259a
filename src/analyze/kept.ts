import type { FindingKind, Severity, Teardown } from '../model/report.js';
import type { Contribution, SpoolFinding } from './spool.js';

/**
 * What a streamed session keeps with a judged connection for judging it again after a reopen (its Contribution to
 * the summary), as one array of numbers. The flow table freezes every judged connection (src/tcp/frozen.ts) with
 * what it keeps, and almost none is ever reopened: as plain objects (the contribution and one per finding) each was
 * encoded key by key, about a tenth of the analysis's CPU on a busy live capture; an array of numbers is written in
 * one pass. Unpacked only when a reopened connection is judged again.
 *
 * Layout: ff, seq, version, teardown, oneSided (0/1), then per finding kind, severity, half, time, idx. Strings are
 * numbered once per thread (finding kinds, severities and teardowns: a few dozen), never across threads: a frozen
 * connection is thawed by the thread that froze it.
 */
export type PackedContribution = number[];

const HEAD = 5;
const PER_FINDING = 5;

const words: string[] = [];
const wordIndex = new Map<string, number>();

function code(s: string): number {
  let i = wordIndex.get(s);
  if (i === undefined) {
    i = words.length;
    words.push(s);
    wordIndex.set(s, i);
  }
  return i;
}

function word(i: number): string {
  const s = words[i];
  if (s === undefined) throw new Error(`packed contribution: no string numbered ${i}`);
  return s;
}

export function packContribution(r: Contribution): PackedContribution {
  const out: number[] = [r.ff, r.seq, r.version, code(r.teardown), r.oneSided ? 1 : 0];
  for (const f of r.findings) out.push(code(f.kind), code(f.severity), f.half, f.time, f.idx);
  return out;
}

export function unpackContribution(a: PackedContribution): Contribution {
  const findings: SpoolFinding[] = [];
  for (let o = HEAD; o + PER_FINDING <= a.length; o += PER_FINDING) {
    findings.push({
      kind: word(a[o] as number) as FindingKind, severity: word(a[o + 1] as number) as Severity,
      half: a[o + 2] as SpoolFinding['half'], time: a[o + 3] as number, idx: a[o + 4] as number, json: null,
    });
  }
  return {
    ff: a[0] as number, seq: a[1] as number, version: a[2] as number, teardown: word(a[3] as number) as Teardown,
    oneSided: a[4] === 1, findings,
  };
}
