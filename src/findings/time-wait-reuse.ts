import type { Finding } from '../model/report.js';
import { TIME_WAIT_PROFILES } from '../model/settings.js';
import { add32, d32, gt } from '../tcp/seq.js';
import { finding, refOf, secs, sideName, type JudgeContext } from './context.js';

/**
 * `time-wait-reuse` (docs/rules.md §6.4): a SYN on a tuple whose previous incarnation closed less than TIME_WAIT ago.
 * Linux accepts it at a TIME_WAIT holder iff not PAWS-rejected and (ISN after the old rcv_nxt, or TSval newer)
 * (tcp_timewait_state_process → TCP_TW_SYN); FreeBSD iff the ISN is higher (tcp_twcheck); RFC 6191 per §2.
 * Also `syn-on-live-tuple` (docs/rules.md §6.4 case 3).
 */
export function reuseFindings(ctx: JudgeContext): Finding[] {
  const c = ctx.c;
  const out: Finding[] = [];
  if (c.liveSyns > 0) {
    // One finding per live connection, however many SYNs (docs/rules.md §6.4 case 3; RFC 5961 §4.2).
    const n = c.liveSyns;
    const who = sideName(c.liveSynSide);
    out.push(finding(ctx, 'syn-on-live-tuple', 'warn', c.liveSynFirstT,
      `${n === 1 ? 'A SYN' : `${n} SYNs`} with a new ISN (first frame ${c.liveSynFrames[0]}) arrived from the ${who} side while this connection was established${c.supersededBySyn ? '; the peer then accepted one as a new connection (it had lost the old one)' : ': the connection went on'}. ${n > 1 ? 'A burst like this is spoofed SYNs or a client retrying after it lost its state' : 'A client that lost its state (reboot, NAT rebinding) or a spoofed SYN'}.`,
      `SYN seq differs from the ${who}'s ISN ${c.ep[c.liveSynSide].isn} on a synchronized connection: RFC 5961 §4.2 (Linux tcp_validate_incoming) answers with a challenge ACK and changes no state, so none of them is a connection of its own.`,
      [...c.liveSynFrames], { count: n, synFrames: [...c.liveSynFrames], newConnectionAccepted: c.supersededBySyn !== 0 }));
  }
  const r = c.reuse;
  if (r === null) return out;
  const P = r.previous;
  if (r.reason !== 'closed') return out;
  // Nobody holds TIME_WAIT after an RST (Linux tcp_done; RFC 9293 §3.10.7.4: RST → CLOSED): no reuse to judge.
  if (P.endedByRst) return out;
  const since = r.synT - P.closeT;
  const tw = ctx.settings.timeWait;
  if (since >= tw) return out;

  // Map the previous connection's sides onto this one's: this client is the SYN sender.
  const pc = c.clientIsA === P.clientIsA ? 0 : 1; // index of this client in P
  const ps = pc === 0 ? 1 : 0;
  const clientHeld = P.timeWait[pc] === true;
  const serverHeld = P.timeWait[ps] === true;
  const holder = P.endedByRst ? 'nobody' : clientHeld && serverHeld ? 'both' : serverHeld ? 'server' : clientHeld ? 'client' : 'nobody';
  const lastSeq = P.sndMax[pc] as number; // the holder's old rcv_nxt for this direction
  const seqOK = gt(r.synSeq, lastSeq);
  const tsUsable = r.synHasTs && P.usedTs;
  const tsDelta = tsUsable ? d32(r.synTsVal, P.lastTsVal[pc] as number) : 0;
  const timestamps = !tsUsable ? 'absent' : tsDelta > 0 ? 'newer' : tsDelta < 0 ? 'older' : 'equal';
  const pawsReject = tsUsable && tsDelta < 0;
  const expected = {
    linux: !pawsReject && (seqOK || timestamps === 'newer'),
    freebsd: seqOK,
    rfc6191: P.usedTs ? (r.synHasTs ? tsDelta > 0 || (tsDelta === 0 && seqOK) : seqOK) : (r.synHasTs || seqOK),
  };
  const firstAnswer = r.answer;
  const outcome = firstAnswer === 'syn-ack' ? 'accepted'
    : firstAnswer === 'ack' || firstAnswer === 'rst' || r.retries > 0 ? 'rejected' : 'unknown';
  const eventuallyAccepted = r.synAckFrame !== 0;
  const addedLatency = outcome === 'rejected' && eventuallyAccepted ? r.synAckT - r.synT : null;
  // Linux fingerprints: tw_reuse ISN = tw_snd_nxt + 65535 + 2 (tcp_twsk_unique); a SYN accepted by a TIME_WAIT
  // holder gets ISN tw_snd_nxt + 65537 in the SYN-ACK (tcp_tw_isn).
  const clientTwReuse = clientHeld && r.synSeq === add32(lastSeq, 65537);
  const serverTwIsn = r.synAckFrame !== 0 && r.synAckSeq === add32(P.sndMax[ps] as number, 65537);
  const profiles = Object.entries(TIME_WAIT_PROFILES).filter(([, v]) => since < v).map(([k, v]) => `${k} ${v} s`);

  const sev = holder === 'server' || holder === 'both' ? (outcome === 'rejected' ? 'warn' : 'info') : 'info';
  const isn = seqOK ? 'higher' : 'lower';
  let summary: string;
  if (holder === 'server' || holder === 'both') {
    summary = outcome === 'rejected'
      ? `SYN (frame ${r.synFrame}) hit the server's TIME_WAIT for ${P.id} ${secs(since)} after it closed and was rejected (${firstAnswer === 'ack' ? `old connection's ACK in frame ${r.answerFrame}${r.clientRstFrame ? `, client RST in frame ${r.clientRstFrame}` : ''}` : firstAnswer === 'rst' ? `RST in frame ${r.answerFrame}` : 'no answer'})${eventuallyAccepted ? `; a retry succeeded after ${secs(addedLatency ?? 0)}${r.clientRstFrame && (addedLatency ?? 1) < 0.1 ? ' (Linux re-arms the SYN timer at TCP_TIMEOUT_MIN after such an ACK)' : ''}` : ''}.`
      : outcome === 'accepted'
        ? `SYN (frame ${r.synFrame}) reused the server's TIME_WAIT tuple of ${P.id} ${secs(since)} after it closed and was accepted (ISN ${isn}, timestamps ${timestamps}).`
        : `SYN (frame ${r.synFrame}) reused the server's TIME_WAIT tuple of ${P.id} ${secs(since)} after it closed; no answer was captured.`;
  } else if (holder === 'client') {
    summary = `The client reused its own TIME_WAIT port ${secs(since)} after ${P.id} closed${clientTwReuse ? ' (Linux tcp_tw_reuse: ISN = old SND.NXT + 65537)' : ''}; the server holds no state and ${outcome === 'accepted' ? 'accepted it' : outcome === 'rejected' ? 'did not accept it at first' : 'did not answer in the capture'}.`;
  } else {
    summary = `The tuple of ${P.id} was reused ${secs(since)} after it ${P.endedByRst ? 'was reset (nobody holds TIME_WAIT after an RST)' : 'closed'}; outcome ${outcome}.`;
  }
  const why = `Δ = ${secs(since)} since ${P.id} closed < TIME_WAIT ${secs(tw)} (${profiles.join(', ') || 'no profile'}); holder: ${holder}; SYN seq ${r.synSeq} is ${isn} than the old last sequence ${lastSeq} (d=${d32(r.synSeq, lastSeq)}); timestamps ${timestamps}. Expected at a TIME_WAIT holder: Linux ${expected.linux ? 'accept' : 'reject'}, FreeBSD ${expected.freebsd ? 'accept' : 'drop'}, RFC 6191 ${expected.rfc6191 ? 'accept' : 'drop'}.`;
  const f = finding(ctx, 'time-wait-reuse', sev, r.synT, summary, why,
    [r.synFrame, r.answerFrame, r.clientRstFrame, ...r.retryFrames, r.synAckFrame],
    {
      holder, sinceCloseSeconds: since, isn, timestamps, outcome, previous: P.id, eventuallyAccepted,
      addedLatencySeconds: addedLatency, retries: r.retries, expected, oldLastSeq: lastSeq, synSeq: r.synSeq,
      clientTwReuseFingerprint: clientTwReuse, serverTimeWaitIsnFingerprint: serverTwIsn, profiles,
      previousCloseFrames: P.closeFrames,
    });
  // The previous incarnation's closing packets come first: they show who was left in TIME_WAIT.
  const prev = P.closeRecs.map((r) => refOf(r, P.isn[0], P.isn[1], P.firstT));
  f.evidence = [...prev.map((e) => ({ ...e, note: `${P.id}: ${e.note ?? e.flags}` })), ...f.evidence];
  out.push(f);
  return out;
}
