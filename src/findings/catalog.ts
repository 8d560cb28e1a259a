import type { FindingKind, Severity } from '../model/report.js';

export interface CatalogEntry {
  title: string;
  /** The usual severity; a detector may raise or lower it with a reason. */
  severity: Severity;
  /** What it means for an operator, in one or two sentences. */
  explanation: string;
  /** Sources (RFC sections, kernel functions, the rules document section). */
  rule: string;
  /**
   * The verdict rests on what the other direction sent or did not send: on a one-sided capture it is never a warning
   * or an error. A verdict resting on a captured packet (an RST, a retransmission, a TTL) keeps its severity there.
   */
  needsBothDirections: boolean;
}

/** Finding kinds with their meaning and sources; the UI help and the text report read this. */
export const CATALOG: Record<FindingKind, CatalogEntry> = {
  'stuck-half-close': {
    title: 'Half-close (CLOSE_WAIT): stuck, or open at capture end', severity: 'error',
    explanation: 'One side closed and its FIN was acknowledged; the other side never sent FIN or RST. Its application has not called close(): the socket sits in CLOSE_WAIT (which has no timer) while the closer waits in FIN_WAIT_2.',
    rule: 'RFC 9293 §3.6.1, §3.10.7.4; Linux tcp_fin_timeout (ip-sysctl.rst); rules §6.1', needsBothDirections: true,
  },
  'rst-teardown': {
    title: 'Connection reset (RST teardown)', severity: 'warn',
    explanation: 'The connection ended with an RST its receiver accepted, instead of (or after) a FIN exchange. The class says why the stack sent it.',
    // The RST is a packet of its sender's direction, and a socket that sends one has deleted its connection (RFC 9293
    // §3.10.5 ABORT): the teardown holds without the receiver's packets; only its acceptance (`unverifiable`) and the
    // causes seen in the receiver's packets need them (rules §6.2, one-sided captures).
    rule: 'RFC 9293 §3.5.2, §3.10.7.4; RFC 5961 §3; Linux __tcp_close, tcp_send_active_reset, tcp_v4_send_reset; rules §6.2', needsBothDirections: false,
  },
  'time-wait-reuse': {
    title: 'SYN reused a TIME_WAIT tuple', severity: 'warn',
    explanation: 'A new SYN arrived on a 4-tuple whose previous connection closed less than a TIME_WAIT period before. Whether the holder accepts it depends on the ISN and timestamps.',
    rule: 'RFC 9293 §3.6.1 MAY-2; RFC 6191 §2; Linux tcp_timewait_state_process; FreeBSD tcp_twcheck; rules §6.4', needsBothDirections: true,
  },
  'lost-final-ack': {
    title: 'Lost final ACK (FIN retransmitted)', severity: 'warn',
    explanation: 'The passive closer retransmitted its FIN because the final ACK did not reach it; it stays in LAST_ACK for an extra RTO and the active closer restarts TIME_WAIT.',
    rule: 'RFC 9293 §3.10.7.4 (TIME-WAIT: restart 2MSL); Linux tcp_timewait_state_process; rules §6.5', needsBothDirections: true,
  },
  'simultaneous-close': {
    title: 'Simultaneous close', severity: 'info',
    explanation: 'Both sides sent FIN before receiving the other\'s: neither FIN acknowledges the other, both pass through CLOSING and both hold TIME_WAIT.',
    rule: 'RFC 9293 §3.6 Figure 13; Linux tcp_fin (FIN_WAIT1 → CLOSING); rules §4', needsBothDirections: true,
  },
  refused: {
    title: 'Connection refused', severity: 'warn',
    explanation: 'The SYN was answered by RST: nothing listens on that port (or a firewall rejects).',
    rule: 'RFC 9293 §3.10.7.1, §3.10.7.3; Zeek REJ; rules §6.2', needsBothDirections: true,
  },
  'fin-unacknowledged': {
    title: 'FIN never acknowledged', severity: 'warn',
    explanation: 'A FIN was sent and never acknowledged in the capture. Retransmitted, it shows the peer (or the path) did not answer (warn); never retransmitted, its ACK was sent out of view of the capture (info).',
    rule: 'RFC 9293 §3.10.7.4; rules §6.1', needsBothDirections: true,
  },
  'fin-retransmitted': {
    title: 'Active closer retransmitted its FIN', severity: 'info',
    explanation: 'The first closer\'s FIN (or the ACK of it) was lost, so the FIN went out again.',
    rule: 'rules §6.5 (same machinery for the other FINs)', needsBothDirections: false,
  },
  'rst-ignored': {
    title: 'RST not accepted', severity: 'warn',
    explanation: 'An RST whose sequence number was not at the receiver\'s RCV.NXT: out of window it is dropped, in window it draws a challenge ACK. It did not tear the connection down.',
    rule: 'RFC 9293 §3.10.7.4 second step; RFC 5961 §3.2; rules §6.3', needsBothDirections: true,
  },
  'possibly-injected-rst': {
    title: 'RST possibly from a middlebox', severity: 'warn',
    explanation: 'The RST\'s IP TTL differs from every other packet of its claimed sender: a firewall, load balancer or IPS may have sent it.',
    rule: 'rules §6.2 traps (TTL/hop-limit)', needsBothDirections: false,
  },
  'syn-on-live-tuple': {
    title: 'SYN on a live connection', severity: 'warn',
    explanation: 'A SYN with a new ISN arrived while the connection on that 4-tuple was still established: the client lost its state (reboot, NAT rebinding) and a half-open recovery follows.',
    rule: 'RFC 5961 §4.2; Linux tcp_validate_incoming; Zeek active_connection_reuse; rules §6.4 case 3', needsBothDirections: true,
  },
  'syn-flood': {
    title: 'SYN flood', severity: 'warn',
    explanation: 'Many connection attempts to one server endpoint never completed their handshake, at a high rate: a SYN flood (or a storm of clients that cannot reach it). The server\'s SYN queue fills; without SYN cookies it stops accepting new connections. One finding per server endpoint, with the rate, the distinct sources and the first and last packets.',
    rule: 'RFC 4987 §2, §3.6; Linux tcp_syncookies, tcp_max_syn_backlog (ip-sysctl.rst)', needsBothDirections: false,
  },
};
