import type { ConnectionReport, Finding, Side } from '../model/report.js';
import { CATALOG } from './catalog.js';
import { sideName } from './context.js';
import type { Connection } from '../tcp/connection.js';
import { finCovers } from '../tcp/endpoint.js';
import { addFrame } from '../tcp/frame-list.js';
import { closingFindings, ending } from './closing.js';
import { toRef, type JudgeContext } from './context.js';
import { halfCloseFindings } from './half-close.js';
import { lostFinalAckFindings } from './lost-final-ack.js';
import { rstFindings, type RstClass } from './rst.js';
import { reuseFindings } from './time-wait-reuse.js';

export interface Judgement {
  report: ConnectionReport;
  findings: Finding[];
  /** The frames of its closing packets, in frame order: the flow table keeps those it logged for judging a later SYN on the tuple. */
  closing: number[];
}

/**
 * Run every detector over one connection and build its report entry. Pure: reads the connection only.
 * The ladder (an object per kept packet) is built when `ladder` is 'all', or 'findings' and there are findings;
 * never with 'none' (its packets then count as elided).
 */
export function judgeConnection(ctx: JudgeContext, filter: string, v: 4 | 6, ladder: 'all' | 'findings' | 'none' = 'all'): Judgement {
  const c = ctx.c;
  const end = ending(c);
  let findings = reuseFindings(ctx);
  append(findings, closingFindings(ctx, end));
  append(findings, halfCloseFindings(ctx));
  append(findings, rstFindings(ctx, end.teardown === 'rst' ? end.ending as RstClass : null));
  append(findings, lostFinalAckFindings(ctx));
  const missing = c.missingSide();
  if (missing !== null) findings = oneSided(findings, sideName(missing));
  const [cl, sv] = c.ep;
  const log = ladder === 'all' || (ladder === 'findings' && findings.length > 0) ? c.log.packets() : [];
  const first = cl.fin && sv.fin ? (cl.fin.t <= sv.fin.t ? cl.fin : sv.fin) : cl.fin ?? sv.fin;
  const other = first === cl.fin ? sv.fin : cl.fin;
  const halfClosed = first !== null && first.ackFrame !== 0 && !finCovers(first, other) && (other === null || other.t > first.ackT) ? first.ackT : null;
  const holdsTw = cl.state === 'TIME_WAIT' || sv.state === 'TIME_WAIT';
  const closedT = c.closedT || null;
  const report: ConnectionReport = {
    id: ctx.id, client: ctx.client, server: ctx.server, clientGuessed: c.clientGuessed, ipVersion: v,
    incarnation: c.incarnation, previous: c.previousId, next: null,
    firstFrame: c.firstFrame, lastFrame: c.lastFrame, start: c.firstT, end: c.lastT, packets: c.packets,
    bytes: { c2s: cl.dataBytes, s2c: sv.dataBytes },
    retransmissions: { c2s: cl.retransmits, s2c: sv.retransmits },
    keepalives: { c2s: cl.keepalives, s2c: sv.keepalives },
    duplicates: c.duplicates,
    handshake: c.sawSyn && c.sawSynAck ? 'complete' : c.sawSyn ? 'syn-only' : c.sawSynAck ? 'syn-ack-only' : 'midstream',
    retries: { syn: cl.synRetx, synAck: sv.synRetx },
    teardown: end.teardown, closer: end.closer, ending: end.ending,
    states: { client: cl.state, server: sv.state },
    findings: kindsOf(findings),
    times: {
      halfClosed, closed: closedT,
      timeWaitUntil: closedT !== null && holdsTw ? closedT + ctx.settings.timeWait : null,
      reset: c.acceptedRst?.t ?? null,
    },
    revisions: c.revisions.map((v) => ({ frame: v.frame, revisedBy: v.revisedBy, what: v.what, why: v.why })),
    ...(c.inferences.length > 0
      ? { inferences: c.inferences.map((x) => ({ frame: x.frame, what: x.what, side: sideName(x.side), why: x.why })) } : {}),
    capture: missing === null ? 'two-sided' : 'one-sided',
    missingSide: missing === null ? null : sideName(missing),
    capturePoint: capturePoint(c),
    filter,
    ladder: log.map((r) => toRef(c, r)),
    elided: c.packets - log.length,
  };
  // The closing packets a later reuse finding shows: FINs, their ACKs, the RST (frame order, no repeats).
  const closing: number[] = [];
  if (cl.fin) { addFrame(closing, cl.fin.frame); addFrame(closing, cl.fin.ackFrame); addFrame(closing, cl.fin.reAckFrame); }
  if (sv.fin) { addFrame(closing, sv.fin.frame); addFrame(closing, sv.fin.ackFrame); addFrame(closing, sv.fin.reAckFrame); }
  if (c.acceptedRst) addFrame(closing, c.acceptedRst.frame);
  return { report, findings, closing };
}

function append(to: Finding[], more: readonly Finding[]): void {
  for (const f of more) to.push(f);
}

/** The kinds of the findings, each once, in order of first appearance. */
function kindsOf(findings: readonly Finding[]): Finding['kind'][] {
  const out: Finding['kind'][] = [];
  for (const f of findings) if (!out.includes(f.kind)) out.push(f.kind);
  return out;
}

/**
 * One-sided capture (one direction never captured): a finding that needs the missing direction is never a warning
 * or an error. `fin-unacknowledged` is dropped (the ACK could only be in the missing direction); the others are kept
 * as info, saying why they cannot be confirmed.
 */
function oneSided(findings: Finding[], missing: Side): Finding[] {
  const out: Finding[] = [];
  for (const f of findings) {
    if (!CATALOG[f.kind].needsBothDirections) { out.push(f); continue; }
    if (f.kind === 'fin-unacknowledged') continue;
    f.details.oneSided = true;
    if (f.severity !== 'info') {
      f.severity = 'info';
      f.summary += ` (One-sided capture: no packet from the ${missing} was captured, so this cannot be confirmed.)`;
    }
    out.push(f);
  }
  return out;
}

/**
 * Capture point from handshake gaps (docs/rules.md §10.1): d1 = SYN → SYN-ACK, d2 = SYN-ACK → client's next packet.
 * d1 ≫ d2: near the client; d2 ≫ d1: near the server. Sub-0.2 ms gaps (same host, loopback) cannot tell.
 */
function capturePoint(c: Connection): ConnectionReport['capturePoint'] {
  const [cl, sv] = c.ep;
  if (cl.isnKnown !== 1 || sv.isnKnown !== 1 || c.thirdT === 0) return 'unknown';
  const d1 = sv.synT - cl.synT;
  const d2 = c.thirdT - sv.synT;
  if (Math.max(d1, d2) < 0.0002) return 'unknown';
  if (d1 > 4 * d2) return 'near-client';
  if (d2 > 4 * d1) return 'near-server';
  return 'middle';
}
