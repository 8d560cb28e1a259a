import type { Finding } from '../model/report.js';
import { FIN } from '../decode/packet.js';
import type { Connection } from '../tcp/connection.js';
import { synchronized, type RstRecord } from '../tcp/endpoint.js';
import { add32, ge } from '../tcp/seq.js';
import { finding, otherSide, secs, sideName, type JudgeContext } from './context.js';

/** Shortest FIN_WAIT_2 an orphan keeps on Linux: 3.5 × TCP_RTO_MIN (tcp_fin_time). */
export const MIN_FIN_WAIT_2 = 0.7;

export type RstClass = 'abort' | 'after-fin' | 'reply-to-data-after-close' | 'instead-of-final-ack' | 'after-close' | 'handshake';

/**
 * Classify the accepted RST that ended a connection (docs/rules.md §6.2, first matching rule wins).
 * X = RST sender, Y = receiver. Linux sources: __tcp_close (unread data, SO_LINGER{1,0}), tcp_rcv_state_process
 * step 7 (data after close()), tcp_timewait_state_process (FIN-WAIT-2 mini-socket / TIME_WAIT gone).
 */
export function rstClass(c: Connection): RstClass {
  const r = c.acceptedRst as RstRecord;
  if (r.senderBefore === 'SYN_SENT' || r.senderBefore === 'SYN_RECEIVED' || r.receiverBefore === 'SYN_RECEIVED') return 'handshake';
  // X had sent FIN; Y then sent new data X had not acknowledged (perhaps followed by its FIN), and X answered with
  // RST seq = the ack of Y's segment (Linux tcp_rcv_state_process: data on a socket closed for reading → RST).
  if (r.senderHadFin && ((r.answersPeerAck && r.peerLastNewData)
    || (r.peerDataAfterFin.length > 0 && r.peerDataUnacked && (r.answersPeerAck || r.answersPeerDataAfterFin)))) {
    return 'reply-to-data-after-close';
  }
  // Y's (late or retransmitted) FIN answered by RST where an ACK was due: X's FIN-WAIT-2 or TIME_WAIT was gone.
  if (r.senderHadFin && r.peerHadFin && (r.peerLastFlags & FIN) !== 0 && r.answersPeerAck) return 'instead-of-final-ack';
  if (r.senderHadFin && r.peerHadFin) return 'after-close';
  if (r.senderHadFin) return 'after-fin';
  return 'abort';
}

/** `rst-teardown`, `rst-ignored` and `possibly-injected-rst` (docs/rules.md §6.2, §6.3). */
export function rstFindings(ctx: JudgeContext, cls: RstClass | null): Finding[] {
  const c = ctx.c;
  const out: Finding[] = [];
  const r = c.acceptedRst;
  if (r !== null && cls !== null && !c.refused) {
    const X = c.rstBy;
    const Y = otherSide(X);
    const sx = c.ep[X];
    const sy = c.ep[Y];
    const details: Record<string, unknown> = {
      by: sideName(X), class: cls, accepted: r.verdict === 'accepted' ? true : 'unverifiable',
      rstFrame: r.frame, rstSeq: r.seq, rstHasAck: r.hasAck, receiverStateBefore: r.receiverBefore,
    };
    let summary: string;
    let why: string;
    const frames = [r.frame, r.peerLastFrame];
    switch (cls) {
      case 'abort': {
        // RST+ACK with seq == SND.NXT comes from a live socket (tcp_send_active_reset); a bare RST with
        // seq == the peer's ack comes from a stack without state for it (tcp_v4_send_reset).
        const live = r.hasAck && r.seq === r.senderSndMax;
        const noSocket = !r.hasAck && r.answersPeerAck;
        // The peer's last data arrived after the sender's last data and was acknowledged: close() with that data
        // unread produces exactly this RST (Linux __tcp_close), but so do SO_LINGER{1,0} and a kill after reading
        // it. The wire cannot tell them apart (same seq, ack and window), so it is only a possibility.
        const unread = sy.dataBytes > 0 && sy.lastDataT >= sx.lastDataT && sx.hasAck && ge(sx.ackMax, sy.contigEnd);
        details.origin = live ? 'live-socket' : noSocket ? 'no-socket' : 'unknown';
        details.unreadDataPossible = live && unread;
        details.possibleCauses = live
          ? (unread ? ['close() with unread data', 'SO_LINGER{1,0}', 'process killed'] : ['SO_LINGER{1,0}', 'process killed', 'close() with unread data'])
          : noSocket ? ['local state gone (expired, rebooted, firewall/NAT/LB state loss)', 'data after close()'] : ['unknown'];
        summary = `The ${sideName(X)} aborted the connection with RST (frame ${r.frame}) instead of FIN${live && unread ? `; it had acknowledged the ${sideName(Y)}'s last data without answering it: SO_LINGER{1,0}, a killed process, or close() with that data unread` : ''}.`;
        const accepted = r.verdict === 'unverifiable'
          ? `the ${sideName(Y)}'s RCV.NXT is not known (${sy.packets === 0 ? 'none of its packets was captured' : 'it never acknowledged anything'}), so whether this seq was acceptable cannot be checked: taken as accepted unless later packets say otherwise`
          : `the receiver was ${r.receiverBefore} and the seq is at its RCV.NXT, so it was accepted (RFC 9293 §3.10.7.4)`;
        why = live
          ? (sx.packets === 1
            ? `RST,ACK seq=${r.seq} is the ${sideName(X)}'s only captured packet: an RST with the ACK bit and a nonzero seq is what a live socket sends when it aborts (Linux tcp_send_active_reset: SO_LINGER{1,0}, close() with unread data, or a killed process; RFC 9293 §3.10.5 ABORT), a stack without the connection answers with a bare RST or an RST,ACK with seq 0 (§3.10.7.1); ${accepted}.`
            : `RST${r.hasAck ? ',ACK' : ''} seq=${r.seq} equals the ${sideName(X)}'s SND.NXT, the signature of an abort from a live socket (Linux tcp_send_active_reset: SO_LINGER{1,0}, close() with unread data, or a killed process); ${accepted}.`)
          : noSocket
            ? `Bare RST seq=${r.seq} equals the ack of the ${sideName(Y)}'s frame ${r.peerLastFrame}: RFC 9293 §3.10.7.1 reset from a stack with no state for the connection.`
            : `RST seq=${r.seq} is at the receiver's RCV.NXT (accepted), sent by the ${sideName(X)} without a FIN before it.`;
        break;
      }
      case 'after-fin':
        summary = `The ${sideName(X)} sent FIN (frame ${sx.fin?.frame}) and then RST (frame ${r.frame}); the ${sideName(Y)} never closed its side.`;
        why = `RST from the side that had already sent FIN, not explained by new data from the peer (rules §6.2 rst_after_fin: SO_LINGER{1,0} after shutdown(), TCP_LINGER2 < 0, macOS ^C); the receiver was ${r.receiverBefore}.`;
        frames.push(sx.fin?.frame ?? 0);
        break;
      case 'reply-to-data-after-close': {
        const dataFrames = r.peerDataAfterFin.length > 0 ? r.peerDataAfterFin : [r.peerLastFrame];
        const lost = r.peerDataAfterFin.length > 0 ? r.peerDataAfterFinBytes : r.peerLastLen;
        summary = `The ${sideName(X)} had closed (FIN, frame ${sx.fin?.frame}) and answered new data from the ${sideName(Y)} (frame${dataFrames.length > 1 ? 's' : ''} ${dataFrames.join(', ')}, ${lost} bytes) with RST ${secs(r.t - (sx.fin?.t ?? r.t))} after its FIN: that data was lost.`;
        why = `Frame${dataFrames.length > 1 ? 's' : ''} ${dataFrames.join(', ')} carried data beyond what the ${sideName(X)} had acknowledged, sent after its FIN, and the RST's seq ${r.seq} equals the ack of the ${sideName(Y)}'s segment (Linux tcp_rcv_state_process: data after close() → TCPAbortOnData, RST <SEQ=SEG.ACK>; RFC 9293 §3.6.1, RFC 2525 §2.17).`;
        details.lostBytes = lost;
        details.dataFrames = dataFrames;
        frames.push(sx.fin?.frame ?? 0, ...dataFrames);
        break;
      }
      case 'instead-of-final-ack': {
        const yf = sy.fin;
        const xf = sx.fin;
        const acked = yf !== null && sx.hasAck && ge(sx.ackMax, add32(yf.finSeq, 1)) && yf.retx > 0;
        const late = xf !== null && xf.ackT > 0 && yf !== null ? yf.t - xf.ackT : null;
        // An orphaned FIN_WAIT_2 lives at least tcp_fin_time = max(tcp_fin_timeout or TCP_LINGER2, 3.5 × RTO), so at
        // least 3.5 × TCP_RTO_MIN = 0.7 s (Linux tcp_fin_time); a quicker RST means the state was never kept
        // (TCP_LINGER2 < 0 → tcp_done at once) or was lost, not that it expired.
        const expired = !acked && (late === null || late >= MIN_FIN_WAIT_2);
        details.timeWaitGone = acked;
        details.finWait2Expired = expired;
        details.finWait2GoneEarly = !acked && !expired;
        details.lateCloseAfterSeconds = late;
        summary = acked
          ? `The ${sideName(Y)} retransmitted its FIN (frame ${r.peerLastFrame}) and got RST (frame ${r.frame}) instead of an ACK: the ${sideName(X)}'s TIME_WAIT was already gone.`
          : expired
            ? `The ${sideName(Y)} closed late (FIN, frame ${yf?.frame}${late !== null ? `, ${secs(late)} after its peer's FIN was acknowledged` : ''}) and got RST (frame ${r.frame}) instead of the final ACK: the ${sideName(X)}'s FIN_WAIT_2 state had expired.`
            : `The ${sideName(Y)}'s FIN (frame ${yf?.frame}) got RST (frame ${r.frame}) instead of the final ACK only ${secs(late ?? 0)} after the ${sideName(X)}'s FIN was acknowledged: the ${sideName(X)} kept no FIN_WAIT_2 state (too soon for it to expire).`;
        why = acked
          ? `RST seq=${r.seq} equals the ack of the retransmitted FIN; the FIN had been acknowledged before, so the TIME_WAIT socket expired, was reused (tcp_tw_reuse) or overflowed tcp_max_tw_buckets (rules §5.1 #8b).`
          : expired
            ? `The RST's seq ${r.seq} equals the ack of the peer's FIN: a stack without state answers a FIN for a connection whose orphaned FIN_WAIT_2 expired silently after tcp_fin_timeout (Linux tcp_fin_time, default 60 s, never below 3.5 × RTO; rules §6.1 late_close_rejected); ${secs(late ?? 0)} had passed.`
            : `The RST's seq ${r.seq} equals the ack of the peer's FIN, ${secs(late ?? 0)} after the FIN was acknowledged — shorter than any FIN_WAIT_2 lifetime (Linux tcp_fin_time ≥ 3.5 × RTO ≥ ${secs(MIN_FIN_WAIT_2)}): the closer dropped its state at once (TCP_LINGER2 < 0, SO_LINGER) or lost it (restart, state-losing middlebox).`;
        frames.push(xf?.frame ?? 0, xf?.ackFrame ?? 0, yf?.frame ?? 0);
        break;
      }
      case 'after-close':
        summary = `Both sides had sent FIN; then the ${sideName(X)} sent RST (frame ${r.frame}).`;
        why = `RST after both FINs (rules §6.2 rst_after_graceful_close); the receiver was ${r.receiverBefore}.`;
        frames.push(sx.fin?.frame ?? 0, sy.fin?.frame ?? 0);
        break;
      case 'handshake':
        summary = `The ${sideName(X)} reset the connection during the handshake (frame ${r.frame}).`;
        why = `RST while the ${sideName(X)} was ${r.senderBefore} and the ${sideName(Y)} ${r.receiverBefore} (rules §6.2: an unexpected SYN-ACK, or a client that gave up).`;
        frames.push(sx.synFrame, sy.synFrame);
        break;
    }
    if (c.missingSide() === Y) {
      // One-sided capture (docs/rules.md §6.2): the RST is a packet of the captured direction and its sender deleted
      // the connection on sending it, so the teardown stands at its severity; what needs the receiver's packets is
      // said to be unknown.
      details.oneSided = true;
      summary += ` (One-sided capture: no packet from the ${sideName(Y)} was captured, so whether this RST reached it, and any cause in its packets, cannot be checked; the ${sideName(X)} ended the connection on its side either way.)`;
    }
    out.push(finding(ctx, 'rst-teardown', cls === 'after-close' ? 'info' : 'warn', r.t, summary, why, frames, details));
    // Middlebox RST: TTL differs from every other packet of the claimed sender (docs/rules.md §6.2 traps).
    if (sx.ttl >= 0 && sx.ttlMismatches === 0 && Math.abs(r.ttl - sx.ttl) > 1) {
      out.push(finding(ctx, 'possibly-injected-rst', 'warn', r.t,
        `The RST in frame ${r.frame} claims to come from the ${sideName(X)} but its TTL ${r.ttl} differs from the ${sx.ttl} of all its other packets: a middlebox may have sent it.`,
        `IP TTL/hop limit ${r.ttl} vs ${sx.ttl} on ${sx.packets - 1} other segments (rules §6.2 traps).`,
        [r.frame], { by: sideName(X), rstTtl: r.ttl, senderTtl: sx.ttl }));
    }
  }

  // RSTs the receiver would not accept, or that later packets show never took effect (docs/rules.md §6.3): not a teardown.
  for (const d of [0, 1] as const) {
    const sx = c.ep[d];
    for (const x of sx.rsts) {
      if (x.verdict !== 'ignored' && x.verdict !== 'challenge-expected' && x.verdict !== 'no-effect') continue;
      if (!synchronized(x.receiverBefore)) continue;
      const recv = c.ep[otherSide(d)];
      const what = x.verdict === 'challenge-expected' ? 'was in window but not at RCV.NXT: the receiver should answer with a challenge ACK'
        : x.verdict === 'no-effect' ? 'did not take effect: the connection went on after it' : 'was dropped by the receiver';
      const revision = c.revisions.find((v) => v.frame === x.frame && v.what === 'rst-not-effective');
      out.push(finding(ctx, 'rst-ignored', 'warn', x.t,
        `The ${sideName(d)}'s RST in frame ${x.frame} ${what}; it did not end the connection.`,
        `RST seq=${x.seq}: ${x.reason || 'not acceptable to the receiver'}. The ${sideName(otherSide(d))} had acknowledged up to ${recv.ackMax}, window ${recv.win} (RFC 9293 §3.10.7.4, RFC 5961 §3.2).`,
        [x.frame, revision?.revisedBy ?? 0], { by: sideName(d), verdict: x.verdict, rstSeq: x.seq, receiverAckMax: recv.ackMax, reason: x.reason,
          revisedBy: revision?.revisedBy ?? null }));
      // An RST its claimed sender's stack would not have produced: a signature mode unlike every other segment of
      // that sender, or a TTL unlike all of them (docs/rules.md §6.2 traps).
      const authOdd = sx.authMode >= 0 && (x.auth !== 0) !== (sx.authMode !== 0);
      const ttlOdd = sx.ttl >= 0 && sx.ttlMismatches === 0 && Math.abs(x.ttl - sx.ttl) > 1;
      if (authOdd || ttlOdd) {
        out.push(finding(ctx, 'possibly-injected-rst', 'warn', x.t,
          `The RST in frame ${x.frame} claims to come from the ${sideName(d)} but ${authOdd ? `its ${x.auth !== 0 ? 'TCP-MD5/AO option is absent from' : 'missing signature option is present on'} all its other segments` : `its TTL ${x.ttl} differs from the ${sx.ttl} of all its other packets`}: another device may have sent it.`,
          authOdd
            ? `RST auth option ${x.auth === 0 ? 'none' : x.auth === 19 ? 'TCP-MD5 (kind 19)' : 'TCP-AO (kind 29)'}; the ${sideName(d)}'s other segments: ${sx.authMode === 0 ? 'none' : sx.authMode === 19 ? 'TCP-MD5' : 'TCP-AO'} (RFC 2385 §2.0; rules §6.2 traps).`
            : `IP TTL/hop limit ${x.ttl} vs ${sx.ttl} on ${sx.packets - 1} other segments (rules §6.2 traps).`,
          [x.frame], { by: sideName(d), rstTtl: x.ttl, senderTtl: sx.ttl, authMismatch: authOdd, accepted: false }));
      }
    }
  }
  return out;
}
