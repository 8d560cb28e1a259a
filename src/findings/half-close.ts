import type { Finding } from '../model/report.js';
import { finCovers } from '../tcp/endpoint.js';
import { endpointName, finding, otherSide, secs, sideName, type JudgeContext } from './context.js';

/**
 * `stuck-half-close` (docs/rules.md §6.1): X's FIN was acknowledged, Y sent neither FIN nor RST — still so when the
 * connection is judged, or for longer than the half-close timeout before Y finally closed. Y is in CLOSE_WAIT,
 * X in FIN_WAIT_2. Data still flowing from Y is a legitimate half-close (shutdown(SHUT_WR), docs/rules.md §5.1 #4).
 */
export function halfCloseFindings(ctx: JudgeContext): Finding[] {
  const c = ctx.c;
  const T = ctx.settings.halfCloseTimeout;
  const out: Finding[] = [];
  for (const X of [0, 1] as const) {
    const xf = c.ep[X].fin;
    const Y = otherSide(X);
    const ye = c.ep[Y];
    const yf = ye.fin;
    if (xf === null || xf.ackFrame === 0 || finCovers(xf, yf)) continue;
    if (yf !== null && yf.t <= xf.ackT) continue; // Y closed at once (3-way or simultaneous): no half-close period
    const rst = c.acceptedRst;
    const endT = Math.min(yf?.t ?? Infinity, rst?.t ?? Infinity);
    const openAtEnd = endT === Infinity && (ctx.atEnd || c.supersededBySyn !== 0);
    const until = endT === Infinity ? ctx.now : endT;
    const age = Math.max(0, until - xf.ackT);
    if (!openAtEnd && age < T) continue; // closed within the timeout: an ordinary close
    // Keepalives are not activity (docs/rules.md §6.1 traps); before a late FIN, measure the idle gap that preceded it.
    const peerIdle = openAtEnd ? Math.max(0, ctx.now - ye.lastNonKeepaliveT) : (yf?.idleBefore ?? Math.max(0, until - ye.lastNonKeepaliveT));
    const dataAfterFin = ye.dataAfterPeerFin;
    const stuck = age >= T && peerIdle >= T;
    const legitimate = dataAfterFin > 0 && !stuck;
    const severity = stuck ? (openAtEnd ? 'error' : 'warn') : 'info';
    const closer = sideName(X);
    const stuckSide = sideName(Y);
    const who = endpointName(ctx, Y);
    let summary: string;
    // An orphaned closer (close(), not shutdown()) drops its FIN_WAIT_2 silently after tcp_fin_timeout (Linux
    // tcp_fin_time, default 60 s): the stuck side's eventual FIN will then be answered by RST (docs/rules.md §6.1).
    const closerLikelyGone = age >= 60;
    if (stuck && openAtEnd) {
      summary = `The ${who} has been in CLOSE_WAIT for ${secs(age)}: the ${closer}'s FIN (frame ${xf.frame}) was acknowledged (frame ${xf.ackFrame}) and the ${stuckSide} has sent no FIN since — its application never called close().${closerLikelyGone ? ` If the ${closer} used close() rather than shutdown(), its FIN_WAIT_2 state has already expired (tcp_fin_timeout) and a late FIN will get an RST.` : ''}`;
    } else if (stuck) {
      summary = `The ${who} sat in CLOSE_WAIT for ${secs(age)} before it ${yf !== null ? `closed (FIN, frame ${yf.frame})` : 'was reset'}.`;
    } else if (legitimate) {
      summary = `Half-closed by the ${closer} (FIN, frame ${xf.frame}); the ${stuckSide} is still sending (${dataAfterFin} bytes after the FIN): a legitimate half-close${openAtEnd ? ' still open at capture end' : ''}.`;
    } else {
      summary = `Half-closed by the ${closer} (FIN, frame ${xf.frame}, acknowledged in frame ${xf.ackFrame}) for ${secs(age)}${openAtEnd ? ' at capture end' : ''}; not yet stuck (timeout ${secs(T)}).`;
    }
    const why = `FIN seq ${xf.finSeq} acknowledged by ack=${(xf.finSeq + 1) >>> 0} at frame ${xf.ackFrame}; no FIN${rst ? '' : ' or RST'} from the ${stuckSide} ${openAtEnd ? 'up to the end of the capture' : `for ${secs(age)}`}; ${stuckSide} idle ${secs(peerIdle)}, ${dataAfterFin} bytes sent after the FIN; stuck means age and idle ≥ ${secs(T)} (--half-close-timeout, Linux tcp_fin_timeout; rules §6.1).`;
    out.push(finding(ctx, 'stuck-half-close', severity, xf.ackT, summary, why, [xf.frame, xf.ackFrame, yf?.frame ?? 0, ye.lastFrame],
      { closedSide: closer, stuckSide, closerFinWait2LikelyExpired: closerLikelyGone && openAtEnd, ageSeconds: age, idleSeconds: peerIdle, openAtEnd, stuck, legitimate, bytesAfterFin: dataAfterFin,
        finFrame: xf.frame, ackFrame: xf.ackFrame, lateFinFrame: yf?.frame ?? null }));
  }
  return out;
}
