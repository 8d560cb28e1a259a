import type { EndpointState } from '../model/report.js';

/**
 * The endpoint state machine as one pure function: (state, event) → next state and the rule that moved it.
 * Events are facts about one segment seen from one endpoint's side ("it sent a FIN that acknowledges the peer's
 * FIN", "it received a FIN"), worked out by Connection.onSegment from sequence arithmetic. Every arm quotes its
 * rule (RFC 9293 §3.10.7 segment arrival, §3.10.4 CLOSE, Figure 5; Linux tcp_rcv_state_process / tcp_fin /
 * tcp_validate_incoming; docs/rules.md §3). No I/O, no clock, no mutation: Connection.move is the only caller that
 * applies a result, so every state change passes through one funnel.
 */
export type EndpointEvent =
  /** Its first segment is not a SYN: the capture began after its handshake (observer state, docs/rules.md §10.1). */
  | { kind: 'seen-midstream' }
  /** A SYN addressed to it: something listens, or will answer with RST (observer inference). */
  | { kind: 'peer-syn' }
  /** It sent its SYN (RFC 9293 §3.10.1 OPEN, active). */
  | { kind: 'send-syn' }
  /** It sent a SYN-ACK (RFC 9293 §3.10.7.2 LISTEN: SYN received). */
  | { kind: 'send-syn-ack' }
  /** It sent its SYN again with the same ISN: one connection attempt, retried. */
  | { kind: 'resend-syn' }
  /** It sent an ACK-bearing segment from SYN-SENT: it had received a SYN-ACK the capture missed. */
  | { kind: 'send-ack-unseen-syn-ack' }
  /** Its peer showed (by the previous event) that the handshake completed, though its SYN-ACK was not captured. */
  | { kind: 'peer-completed-handshake' }
  /** It received a SYN-ACK acknowledging its SYN (RFC 9293 §3.10.7.3). */
  | { kind: 'recv-syn-ack' }
  /** It received an ACK covering its SYN-ACK (RFC 9293 §3.10.7.4 fifth step, SYN-RECEIVED). */
  | { kind: 'recv-ack-of-syn' }
  /** It sent its first FIN. `acksPeerFin`: the FIN's ACK covers the peer's FIN; `peerFinUnacked`: the peer's FIN
   *  was seen and not yet acknowledged (the FINs cross). */
  | { kind: 'send-fin'; acksPeerFin: boolean; peerFinUnacked: boolean }
  /** It received the peer's first FIN; `acksOwnFin`: that FIN also acknowledges its own FIN. */
  | { kind: 'recv-fin'; acksOwnFin: boolean }
  /** It received the ACK of its FIN. */
  | { kind: 'recv-ack-of-fin' }
  /** It sent its FIN again (same FIN sequence number): it never got the ACK. */
  | { kind: 'resend-fin'; acksPeerFin: boolean; peerFinSeen: boolean }
  /** It sent an RST that its peer accepted. */
  | { kind: 'send-rst' }
  /** It accepted an RST (RFC 9293 §3.10.7.3, §3.10.7.4 first step, RFC 5961 §3.2). */
  | { kind: 'recv-rst' };

export interface Transition {
  state: EndpointState;
  /** The rule that decided, for notes and revisions; empty when the event leaves the state as it is. */
  rule: string;
}

// Results are made once per state and rule and shared (callers only read them): no object per state change.
const stays = new Map<EndpointState, Transition>();
const tos = new Map<string, Map<EndpointState, Transition>>();
const stay = (state: EndpointState): Transition => {
  let t = stays.get(state);
  if (t === undefined) stays.set(state, (t = Object.freeze({ state, rule: '' })));
  return t;
};
const to = (state: EndpointState, rule: string): Transition => {
  let byState = tos.get(rule);
  if (byState === undefined) tos.set(rule, (byState = new Map()));
  let t = byState.get(state);
  if (t === undefined) byState.set(state, (t = Object.freeze({ state, rule })));
  return t;
};

export function transition(s: EndpointState, ev: EndpointEvent): Transition {
  switch (ev.kind) {
    case 'seen-midstream':
      // A passive observer that missed the handshake treats the endpoint as synchronized (Zeek "partial",
      // Wireshark base_seq = seq - 1).
      return s === 'UNKNOWN' || s === 'LISTEN' ? to('MIDSTREAM', 'first segment is not a SYN (docs/rules.md §10.1 mid-stream)') : stay(s);

    case 'peer-syn':
      return s === 'UNKNOWN' ? to('LISTEN', 'a SYN was sent to it (RFC 9293 §3.10.7.2)') : stay(s);

    case 'send-syn':
      // RFC 9293 §3.10.1: "A SYN segment of the form <SEQ=ISS><CTL=SYN> is sent. Set ... state to SYN-SENT".
      return to('SYN_SENT', 'RFC 9293 §3.10.1 OPEN: SYN sent');

    case 'send-syn-ack':
      // RFC 9293 §3.10.7.2: "<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> ... state should be changed to SYN-RECEIVED".
      return to('SYN_RECEIVED', 'RFC 9293 §3.10.7.2 LISTEN: SYN received, SYN-ACK sent');

    case 'resend-syn':
      // A refused connect retried with the same ISN (Windows retries a refused connect twice, TCP/IP
      // TcpMaxConnectResponseRetransmissions): the same attempt goes on, back in SYN-SENT. Elsewhere a plain
      // retransmission (RFC 9293 §3.8.1) that changes nothing.
      return s === 'CLOSED' ? to('SYN_SENT', 'the same SYN sent again after a refusal: the attempt is retried') : stay(s);

    case 'send-ack-unseen-syn-ack':
      // RFC 9293 §3.10.7.3: a SYN-SENT endpoint sends <ACK> only on receiving an acceptable SYN-ACK, entering
      // ESTABLISHED; the SYN-ACK was lost to the capture (one-sided capture, drops).
      return s === 'SYN_SENT' ? to('ESTABLISHED', 'RFC 9293 §3.10.7.3: it acknowledged a SYN-ACK the capture missed') : stay(s);

    case 'peer-completed-handshake':
      return s === 'LISTEN' || s === 'UNKNOWN' || s === 'SYN_RECEIVED'
        ? to('ESTABLISHED', 'its SYN-ACK (not captured) was acknowledged (RFC 9293 §3.10.7.4)') : stay(s);

    case 'recv-syn-ack':
      // RFC 9293 §3.10.7.3: "If SND.UNA > ISS (our SYN has been ACKed), change the connection state to ESTABLISHED".
      return s === 'SYN_SENT' ? to('ESTABLISHED', 'RFC 9293 §3.10.7.3 SYN-SENT: our SYN acknowledged') : stay(s);

    case 'recv-ack-of-syn':
      // RFC 9293 §3.10.7.4 fifth step: "SYN-RECEIVED STATE: If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED".
      return s === 'SYN_RECEIVED' ? to('ESTABLISHED', 'RFC 9293 §3.10.7.4 SYN-RECEIVED: SYN-ACK acknowledged') : stay(s);

    case 'send-fin':
      // RFC 9293 §3.10.4 CLOSE: ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK. A FIN sent while the peer's FIN is
      // on its way (crossing FINs) will meet it in FIN-WAIT-1 and move to CLOSING (RFC 9293 Figure 13).
      if (ev.acksPeerFin) return to('LAST_ACK', 'RFC 9293 §3.10.4 CLOSE in CLOSE-WAIT: FIN sent, LAST-ACK');
      if (ev.peerFinUnacked) return to('CLOSING', 'RFC 9293 Figure 13: FINs crossed (simultaneous close), CLOSING');
      return to('FIN_WAIT_1', 'RFC 9293 §3.10.4 CLOSE in ESTABLISHED: FIN sent, FIN-WAIT-1');

    case 'recv-fin':
      // RFC 9293 §3.10.7.4 eighth step (check the FIN bit).
      switch (s) {
        case 'FIN_WAIT_1':
          // "If our FIN has been ACKed (perhaps in this segment), then enter TIME-WAIT ...; otherwise, enter the CLOSING state."
          return ev.acksOwnFin ? to('TIME_WAIT', 'RFC 9293 §3.10.7.4 FIN-WAIT-1: FIN that acknowledges ours, TIME-WAIT')
            : to('CLOSING', 'RFC 9293 §3.10.7.4 FIN-WAIT-1: FIN received, our FIN not acknowledged, CLOSING');
        case 'FIN_WAIT_2':
          return to('TIME_WAIT', 'RFC 9293 §3.10.7.4 FIN-WAIT-2: FIN received, TIME-WAIT');
        case 'CLOSING': case 'TIME_WAIT': case 'LAST_ACK': case 'CLOSED': case 'RESET':
          // "CLOSING/LAST-ACK/TIME-WAIT STATE: Remain in the ... state" (a closed one has no TCB to change).
          return stay(s);
        default:
          // "SYN-RECEIVED STATE, ESTABLISHED STATE: Enter the CLOSE-WAIT state".
          return to('CLOSE_WAIT', 'RFC 9293 §3.10.7.4 FIN received, CLOSE-WAIT');
      }

    case 'recv-ack-of-fin':
      // RFC 9293 §3.10.7.4 fifth step: FIN-WAIT-1 "if the FIN segment is now acknowledged, then enter FIN-WAIT-2";
      // CLOSING "if the ACK acknowledges our FIN, then enter the TIME-WAIT state"; LAST-ACK "... delete the TCB".
      switch (s) {
        case 'FIN_WAIT_1': return to('FIN_WAIT_2', 'RFC 9293 §3.10.7.4 FIN-WAIT-1: our FIN acknowledged, FIN-WAIT-2');
        case 'CLOSING': return to('TIME_WAIT', 'RFC 9293 §3.10.7.4 CLOSING: our FIN acknowledged, TIME-WAIT');
        case 'LAST_ACK': return to('CLOSED', 'RFC 9293 §3.10.7.4 LAST-ACK: our FIN acknowledged, CLOSED');
        default: return stay(s);
      }

    case 'resend-fin':
      // A FIN retransmission (same FIN sequence number, docs/rules.md §0.2) proves its sender never got the ACK: it is
      // still in LAST-ACK / CLOSING / FIN-WAIT-1 whatever the captured ACK suggested (docs/rules.md §6.5).
      if (s === 'CLOSED' || s === 'TIME_WAIT' || s === 'FIN_WAIT_2') {
        return to(ev.acksPeerFin ? 'LAST_ACK' : ev.peerFinSeen ? 'CLOSING' : 'FIN_WAIT_1',
          'FIN retransmitted: the ACK of its FIN never reached it (docs/rules.md §6.5)');
      }
      return stay(s);

    case 'send-rst':
      // Linux tcp_send_active_reset → tcp_done: the sender forgets the connection at once (no TIME-WAIT).
      return to('CLOSED', 'sent an accepted RST (Linux tcp_done)');

    case 'recv-rst':
      // RFC 9293 §3.10.7.3 SYN-SENT: "If the ACK was acceptable, then signal to the user 'error: connection reset',
      // drop the segment, enter CLOSED state"; §3.10.7.4 CLOSING/LAST-ACK/TIME-WAIT: "enter the CLOSED state";
      // synchronized states: "connection reset", RESET (observer name for a reset receiver).
      return s === 'TIME_WAIT' || s === 'CLOSED' || s === 'SYN_SENT'
        ? to('CLOSED', 'RFC 9293 §3.10.7.3/§3.10.7.4: RST accepted, CLOSED')
        : to('RESET', 'RFC 9293 §3.10.7.4 first step: RST at RCV.NXT accepted, connection reset');
  }
}
