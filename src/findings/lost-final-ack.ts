import type { Finding } from '../model/report.js';
import { finCovers } from '../tcp/endpoint.js';
import { finding, otherSide, secs, sideName, type JudgeContext } from './context.js';

/**
 * `lost-final-ack` (docs/rules.md §6.5): the passive closer B retransmitted its FIN (same finSeq) because the active
 * closer A's final ACK did not reach it. If A's ACK was captured before the retransmission it was lost after the
 * capture point (downstream); otherwise it was lost before it (or B's FIN was lost after the capture point).
 */
export function lostFinalAckFindings(ctx: JudgeContext): Finding[] {
  const c = ctx.c;
  const out: Finding[] = [];
  for (const B of [0, 1] as const) {
    const bf = c.ep[B].fin;
    const A = otherSide(B);
    if (bf === null || bf.retx === 0 || !finCovers(bf, c.ep[A].fin)) continue;
    const ackCaptured = bf.ackFrame !== 0 && bf.ackedBeforeRetx;
    const r = c.acceptedRst;
    const rstReply = r !== null && c.rstBy === A && r.t >= (bf.retxTimes[0] ?? bf.t);
    const answered = bf.reAckFrame !== 0 || (bf.ackFrame !== 0 && !bf.ackedBeforeRetx);
    const variant = ackCaptured ? 'ack-captured-then-lost'
      : answered ? 'ack-not-captured'
        : rstReply ? 'last-ack-rst' : 'last-ack-unanswered';
    const rto = (bf.retxTimes[0] ?? bf.t) - bf.t;
    const ackWho = sideName(A);
    const where = ackCaptured
      ? `the ${ackWho}'s final ACK (frame ${bf.ackFrame}) passed the capture point and was lost after it`
      : answered ? `the ${ackWho}'s final ACK never appeared in the capture before the retransmission: lost before the capture point (or the first FIN was lost after it)`
        : rstReply ? `the ${ackWho} answered the retransmission with RST: its TIME_WAIT was gone`
          : `no ACK ever came: the ${sideName(B)} is stuck in LAST_ACK`;
    out.push(finding(ctx, 'lost-final-ack', variant === 'last-ack-unanswered' ? 'error' : 'warn', bf.retxTimes[0] ?? bf.t,
      `The ${sideName(B)} retransmitted its FIN ${bf.retx} time(s): ${where}.`,
      `FIN seq ${bf.finSeq} (frame ${bf.frame}) sent again in frame(s) ${bf.retxFrames.join(', ')} with the same FIN sequence number (rules §0.2), first after ${secs(rto)} (an RTO; Linux TCP_RTO_MIN 200 ms)${answered ? `; ACK ${bf.reAckFrame ? `frame ${bf.reAckFrame}` : ''} followed` : ''}. Capture point decides the variant (rules §6.5).`,
      [bf.frame, bf.ackFrame, ...bf.retxFrames, bf.reAckFrame, rstReply && r ? r.frame : 0],
      { lostBy: ackWho, retransmissions: bf.retx, ackCaptured, variant, rtoSeconds: rto,
        finFrame: bf.frame, ackFrame: bf.ackFrame || null, reAckFrame: bf.reAckFrame || null }));
  }
  return out;
}
