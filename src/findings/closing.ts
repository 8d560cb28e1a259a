import type { Finding, Side, Teardown } from '../model/report.js';
import { endpointText } from '../model/endpoint.js';
import type { Connection } from '../tcp/connection.js';
import { finCovers, type FinRecord } from '../tcp/endpoint.js';
import { gt } from '../tcp/seq.js';
import { endpointName, finding, otherSide, secs, sideName, type JudgeContext } from './context.js';
import { rstClass } from './rst.js';

export interface Ending {
  teardown: Teardown;
  closer: Side | 'both' | null;
  ending: string;
}

/**
 * Who closed first, decided from the ACK fields and not from capture order (docs/rules.md §4): a FIN whose ACK covers the
 * peer's FIN was sent by the passive closer; neither covering the other is a simultaneous close.
 */
export function ending(c: Connection): Ending {
  const [cl, sv] = c.ep;
  if (c.refused) return { teardown: 'refused', closer: null, ending: 'refused' };
  if (c.acceptedRst !== null) {
    const cls = rstClass(c);
    // The closer is who closed first (docs/rules.md §4): a FIN sent before the RST decides, whoever sent the RST (a server
    // in CLOSE_WAIT that aborts with SO_LINGER{1,0} did not close first; the client's FIN did).
    const r = c.acceptedRst;
    // A lone FIN counts only when its ACK covers no more than the peer was seen to send: an ACK beyond that covers
    // uncaptured peer segments, perhaps the peer's FIN, and then who closed first is not known from the FINs.
    const finBefore = (d: 0 | 1) => {
      const f = c.ep[d].fin;
      const peer = c.ep[d ^ 1] as Connection['ep'][0];
      if (f === null || f.frame >= r.frame) return false;
      return peer.fin !== null || !f.hasAck || !gt(f.ack, peer.sndMax);
    };
    const cf = finBefore(0);
    const sf = finBefore(1);
    const closer: Side | 'both' | null = cf && sf ? finCloser(c).closer : cf ? 'client' : sf ? 'server' : sideName(c.rstBy);
    return { teardown: 'rst', closer, ending: cls };
  }
  if (cl.fin !== null && sv.fin !== null) return finCloser(c);
  if (cl.fin !== null || sv.fin !== null) {
    const d: 0 | 1 = cl.fin !== null ? 0 : 1;
    const f = c.ep[d].fin as FinRecord;
    return { teardown: 'half-close', closer: sideName(d), ending: f.ackFrame !== 0 ? 'half-closed' : 'fin-unacknowledged' };
  }
  if (c.established || cl.state === 'MIDSTREAM' || sv.state === 'MIDSTREAM') return { teardown: 'open', closer: null, ending: 'open' };
  if (c.sawSyn && !c.sawSynAck) return { teardown: 'none', closer: null, ending: 'syn-unanswered' };
  return { teardown: 'none', closer: null, ending: 'handshake-incomplete' };
}

function finCloser(c: Connection): Ending {
  const a = c.ep[0].fin as FinRecord;
  const b = c.ep[1].fin as FinRecord;
  const aCovers = finCovers(a, b);
  const bCovers = finCovers(b, a);
  if (!aCovers && !bCovers) return { teardown: 'fin', closer: 'both', ending: 'graceful-simultaneous' };
  if (aCovers && bCovers) {
    // Impossible on the wire (each FIN would ack a FIN sent after it): fall back to capture order.
    return { teardown: 'fin', closer: a.frame < b.frame ? 'client' : 'server', ending: 'inconsistent-fin' };
  }
  const active: 0 | 1 = aCovers ? 1 : 0;
  const A = c.ep[active].fin as FinRecord;
  const B = c.ep[otherSide(active)].fin as FinRecord;
  // The passive side's FIN inferred from the active side's ACK (not captured): whether it came with the ACK of the
  // active FIN or after a separate one is unknown.
  if (B.inferredFrom !== 0) return { teardown: 'fin', closer: sideName(active), ending: 'graceful-peer-fin-inferred' };
  // 3-way when the passive side's first segment acknowledging the active FIN is its own FIN (docs/rules.md §5.1 #2).
  let way = A.ackFrame === B.frame ? 'graceful-3way' : 'graceful-4way';
  // The passive side kept sending after acknowledging the FIN: a shutdown(SHUT_WR) half-close (docs/rules.md §5.1 #4).
  if (c.ep[otherSide(active)].dataAfterPeerFin > 0) way = 'half-close-then-data';
  return { teardown: 'fin', closer: sideName(active), ending: B.ackFrame === 0 && B.reAckFrame === 0 ? `${way}-final-ack-missing` : way };
}

/** `simultaneous-close`, `refused`, `fin-unacknowledged` and `fin-retransmitted`. */
export function closingFindings(ctx: JudgeContext, end: Ending): Finding[] {
  const c = ctx.c;
  const out: Finding[] = [];
  const [cl, sv] = c.ep;

  if (end.ending === 'graceful-simultaneous') {
    const a = cl.fin as FinRecord;
    const b = sv.fin as FinRecord;
    const first = a.frame < b.frame ? a : b;
    out.push(finding(ctx, 'simultaneous-close', 'info', Math.max(a.t, b.t),
      `Both sides closed at once: client FIN (frame ${a.frame}) and server FIN (frame ${b.frame}) crossed; both hold TIME_WAIT.`,
      `Neither FIN acknowledges the other: client FIN ack=${a.ack} does not cover server FIN seq ${b.finSeq}, server FIN ack=${b.ack} does not cover client FIN seq ${a.finSeq} (rules §4). Wireshark marks frame ${first.frame} as fin_active by capture order.`,
      [a.frame, b.frame, a.ackFrame, b.ackFrame],
      { clientFinFrame: a.frame, serverFinFrame: b.frame, timeWaitHolders: 'both', wiresharkFinActiveFrame: first.frame }));
  }

  if (c.refused) {
    const cli = cl;
    const r = c.acceptedRst;
    out.push(finding(ctx, 'refused', 'warn', r?.t ?? c.lastT,
      `Connection refused: the SYN to ${endpointText(ctx.server)} was answered by RST${cli.synRetx ? `; the client sent it ${cli.synRetx + 1} times with the same ISN (one attempt, ${c.refusals} RST${c.refusals === 1 ? '' : 's'})` : ''}.`,
      `RST,ACK with ack=${r?.ack} = SYN seq ${cli.isn} + 1 while the client was in SYN_SENT (RFC 9293 §3.10.7.3); no SYN-ACK was seen.`,
      [cli.synFrame, r?.frame ?? 0, ...(c.reuse === null ? retryFrames(c) : [])],
      { attempts: cli.synRetx + 1, refusals: c.refusals, rttSeconds: r ? r.t - cli.synT : null }));
  }

  for (const d of [0, 1] as const) {
    const X = c.ep[d];
    const f = X.fin;
    if (f === null) continue;
    // fin-unacknowledged: the FIN was never acknowledged and nothing reset the connection (docs/rules.md §6.1, §6.5).
    if (f.ackFrame === 0 && f.reAckFrame === 0 && c.acceptedRst === null) {
      const rtoWait = Math.max(1, 3 * handshakeRtt(c) + 0.2); // docs/rules.md §6.5 T_rto_wait
      if (ctx.now - f.t >= rtoWait || f.retx > 0) out.push(finUnacknowledged(ctx, d, f, rtoWait));
    }
    // fin-retransmitted: the active closer's FIN went out again (docs/rules.md §6.5, "same machinery").
    if (f.retx > 0 && !finCovers(f, c.ep[otherSide(d)].fin)) {
      const ackCaptured = f.ackFrame !== 0 && f.ackedBeforeRetx;
      out.push(finding(ctx, 'fin-retransmitted', 'info', f.retxTimes[0] ?? f.t,
        `The ${sideName(d)} retransmitted its FIN ${f.retx} time(s)${ackCaptured ? `; the ACK captured in frame ${f.ackFrame} was lost after the capture point` : ''}.`,
        `Frames ${[f.frame, ...f.retxFrames].join(', ')}${f.retx > f.retxFrames.length ? ` (the first ${f.retxFrames.length} of ${f.retx} retransmissions)` : ''} carry the same FIN sequence number ${f.finSeq} (rules §0.2); first retransmission after ${secs((f.retxTimes[0] ?? f.t) - f.t)}.${f.reAcks ? ` The FIN sent again with an ACK newly covering the peer's FIN is that ACK, not a retransmission.` : ''}`,
        [f.frame, ...f.retxFrames, f.ackFrame, f.reAckFrame],
        { side: sideName(d), retransmissions: f.retx, retransmissionFrames: [...f.retxFrames], ackCaptured, rtoSeconds: (f.retxTimes[0] ?? f.t) - f.t }));
    }
  }
  return out;
}

/** Linux TCP_RTO_MAX: the longest a live sender waits between two retransmissions (RFC 6298 (2.5): at least 60 s). */
export const MAX_RTO = 120;

/**
 * X's FIN has no ACK in the capture (docs/rules.md §6.1, §6.5). Only the sender's retransmissions show it never got
 * one: a stack retransmits an unacknowledged FIN within the RTO wait, so a FIN never sent again while the capture went
 * on past that wait was acknowledged out of view (the peer's direction is missing from the capture) — info, not a
 * warning. The wait stated is what the capture can vouch for: up to the last time the FIN was sent plus the longest
 * retransmission interval, bounded by the capture's end (a file whose clock jumps, or that concatenates captures,
 * must not turn into a wait of months).
 */
function finUnacknowledged(ctx: JudgeContext, d: 0 | 1, f: FinRecord, rtoWait: number): Finding {
  const c = ctx.c;
  const X = c.ep[d];
  const Y = c.ep[otherSide(d)];
  const waited = Math.max(0, Math.min(ctx.now, f.lastT + MAX_RTO) - f.t);
  const details: Record<string, unknown> = { side: sideName(d), retransmissions: f.retx, waitedSeconds: waited };
  if (f.retx > 0) {
    return finding(ctx, 'fin-unacknowledged', 'warn', f.t,
      `The ${sideName(d)}'s FIN (frame ${f.frame}) was never acknowledged, although it was sent ${f.retx + 1} times: ${endpointName(ctx, otherSide(d))} did not answer within ${secs(waited)}.`,
      `No segment from the ${sideName(otherSide(d))} carried ack ≥ ${(f.finSeq + 1) >>> 0} (FIN seq ${f.finSeq} + 1) before the capture ended, and the ${sideName(d)} retransmitted the FIN (frames ${f.retxFrames.join(', ')}): it never got an ACK (rules §6.1, §6.5).`,
      [f.frame, ...f.retxFrames], details);
  }
  // Data of X's that Y never acknowledged in the capture and X never retransmitted either: acknowledged out of view
  // too, so Y's direction is missing from the capture after its last captured segment.
  const dataUnacked = X.hasDataEnd && (!Y.hasAck || gt(X.dataEnd, Y.ackMax)) && X.retransmits === 0;
  const peerLost = dataUnacked && Y.packets > 0 && Y.lastFrame < f.frame;
  details.ackOutOfView = true;
  details.peerLastFrame = Y.packets > 0 ? Y.lastFrame : null;
  return finding(ctx, 'fin-unacknowledged', 'info', f.t,
    `The ${sideName(d)}'s FIN (frame ${f.frame}) has no ACK in the capture, but the ${sideName(d)} never sent it again: the ${sideName(otherSide(d))}'s ACK was most likely not captured${peerLost ? ` (no packet from the ${sideName(otherSide(d))} was captured after frame ${Y.lastFrame})` : ''}.`,
    `No segment from the ${sideName(otherSide(d))} carried ack ≥ ${(f.finSeq + 1) >>> 0} (FIN seq ${f.finSeq} + 1), yet no retransmission of the FIN followed in the ${secs(waited)} after it, although a sender without that ACK retransmits within the RTO wait (${secs(rtoWait)}): the ACK reached it out of view of the capture, or the capture stopped seeing this connection (rules §6.5, "no ACK, no retransmission").${dataUnacked ? ` Its data up to seq ${X.dataEnd} has no captured ACK either and was never retransmitted: acknowledged out of view as well.` : ''}`,
    [f.frame, peerLost ? Y.lastFrame : 0], details);
}

/** Frames of SYN retries and the RSTs that answered them (from the packet log). */
function retryFrames(c: Connection): number[] {
  const out: number[] = [];
  for (const r of c.log.packets()) if (out.length < 16 && r.note !== null && (r.note === 'SYN retransmission' || r.note.startsWith('RST (connection refused'))) out.push(r.frame);
  return out;
}

/** Round-trip estimate from the handshake (SYN → SYN-ACK as captured), 0 when unknown (docs/rules.md §10.1). */
export function handshakeRtt(c: Connection): number {
  const [cl, sv] = c.ep;
  return cl.isnKnown === 1 && sv.isnKnown === 1 && sv.synT >= cl.synT ? sv.synT - cl.synT : 0;
}
