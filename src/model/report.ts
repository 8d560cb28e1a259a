/**
 * The single output model. Text, JSON, NDJSON, JUnit, the terminal UI and `teardown check` all read this;
 * nothing downstream recomputes a verdict. `--json` prints a Report as is (see docs/json-format.md), endpoints in their
 * text form (endpointText).
 */
import type { Endpoint } from './endpoint.js';

export type Severity = 'info' | 'warn' | 'error';

/** Finding kinds are a public interface: stable names users grep for. */
export type FindingKind =
  | 'stuck-half-close'     // docs/rules.md §6.1: one FIN acknowledged, the peer sent neither FIN nor RST
  | 'rst-teardown'         // docs/rules.md §6.2: connection ended by an accepted RST
  | 'time-wait-reuse'      // docs/rules.md §6.4: SYN on a tuple whose previous incarnation closed < TIME_WAIT ago
  | 'lost-final-ack'       // docs/rules.md §6.5: passive closer retransmitted its FIN
  | 'simultaneous-close'   // docs/rules.md §4: neither FIN's ACK covers the other FIN
  | 'refused'              // docs/rules.md §6.2: SYN answered by RST
  | 'fin-unacknowledged'   // docs/rules.md §6.1: a FIN never acknowledged in the capture
  | 'fin-retransmitted'    // docs/rules.md §6.5: the active closer's FIN (or its ACK) was lost
  | 'rst-ignored'          // docs/rules.md §6.3: an RST the receiver would not accept (out of window / not exact)
  | 'possibly-injected-rst'// docs/rules.md §6.2 traps: RST whose TTL/TS/IP-ID do not match its claimed sender
  | 'syn-on-live-tuple'    // docs/rules.md §6.4 case 3: SYN with a new ISN on an established tuple
  | 'syn-flood';           // RFC 4987: many handshakes to one server endpoint never completed (per server, not per connection)

export const FINDING_KINDS: readonly FindingKind[] = [
  'stuck-half-close', 'rst-teardown', 'time-wait-reuse', 'lost-final-ack', 'simultaneous-close', 'refused',
  'fin-unacknowledged', 'fin-retransmitted', 'rst-ignored', 'possibly-injected-rst', 'syn-on-live-tuple',
  'syn-flood',
];

/** Inferred RFC 9293 endpoint states (plus observer states). Every state is an inference from segments. */
export type EndpointState =
  | 'UNKNOWN'       // nothing seen from/for it yet
  | 'LISTEN'        // a SYN was sent to it, no answer yet
  | 'SYN_SENT' | 'SYN_RECEIVED' | 'ESTABLISHED'
  | 'FIN_WAIT_1' | 'FIN_WAIT_2' | 'CLOSING' | 'TIME_WAIT'
  | 'CLOSE_WAIT' | 'LAST_ACK'
  | 'CLOSED'        // closed normally, or sent an RST
  | 'RESET'         // accepted an RST from the peer
  | 'MIDSTREAM';    // capture began after the handshake: synchronized, details unknown

export type Side = 'client' | 'server';
export type Direction = 'c2s' | 's2c';

export type Teardown = 'fin' | 'rst' | 'half-close' | 'refused' | 'open' | 'none';

/** One packet as evidence: enough to find it in Wireshark and to draw a ladder. */
export interface PacketRef {
  frame: number;
  /** Seconds since the Unix epoch (microsecond precision as a float). */
  time: number;
  /** Seconds since the connection's first packet. */
  offset: number;
  dir: Direction;
  /** Wireshark order, comma separated: 'SYN', 'SYN,ACK', 'FIN,ACK', 'RST,ACK', 'PSH,ACK'… */
  flags: string;
  seq: number;
  /** Absolute ack field; null when the ACK bit is not set. */
  ack: number | null;
  /** seq minus the sender's ISN (mod 2^32). */
  relSeq: number;
  /** ack minus the receiver's ISN (mod 2^32); null when the ACK bit is not set. */
  relAck: number | null;
  len: number;
  win: number;
  /** Inferred states after this packet reached its receiver. */
  states: { client: EndpointState; server: EndpointState };
  /** What this packet is in the story ('FIN', 'final ACK', 'FIN retransmission', 'RST accepted'…), if anything. */
  note?: string;
}

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** Connection id (see ConnectionReport.id); '' for a finding about a server endpoint (syn-flood). */
  connection: string;
  /** The verdict in one sentence. */
  summary: string;
  /** Why: the rule that fired, with the numbers that made it fire. */
  why: string;
  /** Where the rule comes from (RFC section, kernel function, rules-doc section). */
  rule: string;
  /** When it happened (epoch seconds): the packet that decided it. */
  time: number;
  evidence: PacketRef[];
  details: Record<string, unknown>;
}

export interface ConnectionReport {
  /** Stable for the same input: 'c' + ordinal of the connection's first packet among connections. */
  id: string;
  /** client = the SYN sender; guessed from ports without a SYN. Printed 'a.b.c.d:port' or '[v6]:port'. */
  client: Endpoint;
  server: Endpoint;
  clientGuessed: boolean;
  ipVersion: 4 | 6;
  /** 0-based index among the connections on this 4-tuple, in capture order. */
  incarnation: number;
  previous: string | null;
  next: string | null;
  firstFrame: number;
  lastFrame: number;
  start: number;
  end: number;
  packets: number;
  /** Payload bytes client→server and server→client (sequence space, retransmissions not counted twice). */
  bytes: { c2s: number; s2c: number };
  /** Data segments sent again (not advancing the sender's highest sequence), per direction. */
  retransmissions: { c2s: number; s2c: number };
  /** Keepalives and zero-window probes (seq = SND.NXT − 1, not activity), per direction. */
  keepalives: { c2s: number; s2c: number };
  /** Capture duplicates dropped before analysis (same IP ID, seq, ack, flags, length, TSval within 1 ms). */
  duplicates: number;
  handshake: 'complete' | 'syn-only' | 'syn-ack-only' | 'midstream';
  /** Handshake segments sent again with the same ISN: one connection attempt, retried (not new connections). */
  retries: { syn: number; synAck: number };
  teardown: Teardown;
  closer: Side | 'both' | null;
  /** Finer ending: 'graceful-4way', 'graceful-3way', 'graceful-simultaneous', 'half-closed', 'abort',
   *  'after-fin', 'reply-to-data-after-close', 'instead-of-final-ack', 'after-close', 'refused', 'open'… */
  ending: string;
  /** Inferred states at the end of the capture (or when the connection was judged). */
  states: { client: EndpointState; server: EndpointState };
  findings: FindingKind[];
  /** Moments for the timeline (epoch seconds, null when it did not happen). */
  times: {
    halfClosed: number | null;   // the first FIN was acknowledged and the peer had not closed
    closed: number | null;       // both directions closed (last FIN acknowledged) or the accepted RST
    timeWaitUntil: number | null;// closed + TIME_WAIT, when someone holds TIME_WAIT
    reset: number | null;        // accepted RST
  };
  /**
   * Inferences that later packets contradicted and that were taken back, in capture order: what was assumed at
   * `frame`, the packet that overruled it (`revisedBy`) and why. 'rst-not-effective': an RST first taken as a reset;
   * 'fin-ack-not-received': a FIN taken as acknowledged, then sent again by its sender; 'fin-not-sent': a FIN
   * inferred from an ACK (see `inferences`), then shown to be data by a later ACK.
   */
  revisions: { frame: number; revisedBy: number; what: 'rst-not-effective' | 'fin-ack-not-received' | 'fin-not-sent'; why: string }[];
  /**
   * Packets the capture does not hold, inferred from those it does, with the packet the inference rests on (`frame`)
   * and why. 'fin-not-captured': `side`'s FIN on a one-sided capture, from the other side's ACK advancing by exactly
   * one after its own FIN, at least a round trip later. Absent when nothing was inferred.
   */
  inferences?: { frame: number; what: 'fin-not-captured'; side: Side; why: string }[];
  /**
   * 'one-sided': no packet from one side was captured while the other side's ACK field shows it was sending
   * (asymmetric routing, a one-way tap or SPAN); `missingSide` names it. Verdicts that need the missing direction
   * are then at most info.
   */
  capture: 'two-sided' | 'one-sided';
  missingSide: Side | null;
  /** Where the capture was taken, guessed from handshake gaps and TTLs (docs/rules.md §10.1). */
  capturePoint: 'near-client' | 'near-server' | 'middle' | 'unknown';
  /** Wireshark display filter isolating this connection's 4-tuple. */
  filter: string;
  /** The recorded packets: handshake, teardown, every SYN/FIN/RST, and the first and last packets; for the ladder. */
  ladder: PacketRef[];
  /** Live capture: frames the capture lost (drops) while this connection was open; absent when none. */
  captureLoss?: number;
  /** Packets of this connection not in `ladder`. */
  elided: number;
  /** Tunnels, label stacks and VLAN tags around the connection's packets; null when there were none (set for every judged connection). */
  encapsulation?: Encapsulation | null;
}

/** One encapsulation header around a connection's packets (src/decode/describe.ts; docs/json-format.md). */
export type EncapLayer =
  | { type: 'vlan'; id: number }
  | { type: 'mpls'; label: number }
  | { type: 'pppoe'; session: number }
  | { type: 'ipv4' | 'ipv6'; src: string; dst: string }
  | { type: 'gre'; key: number | null; protocol: number }
  | { type: 'pptp'; call: number }
  | { type: 'erspan'; version: 'I' | 'II' | 'III'; session: number | null; vlan: number | null }
  | { type: 'vxlan'; vni: number }
  | { type: 'vxlan-gpe'; vni: number }
  | { type: 'geneve'; vni: number; optionBytes: number }
  | { type: 'teredo'; origin: string | null; auth: boolean }
  | { type: 'gtp-u'; teid: number }
  | { type: 'l2tp'; tunnel: number; session: number };

/** How a connection's packets were encapsulated, per direction (docs/json-format.md "Encapsulation"). */
export interface Encapsulation {
  /** The layers of the first client→server packet, outermost first; null when no packet went that way. */
  c2s: EncapLayer[] | null;
  s2c: EncapLayer[] | null;
  /** One line: the layers in the client→server orientation, or `c2s …; s2c …` when the directions differ. */
  text: string;
  /** Packets whose encapsulation differed from the first packet of their direction. */
  changed: { c2s: number; s2c: number };
}

export interface ServerAggregate {
  server: Endpoint;
  connections: number;
  /** Connections this server left half-closed (it is in CLOSE_WAIT: the client's FIN acked, no FIN back). */
  halfClosed: number;
  stuck: number;
  oldestHalfCloseSeconds: number | null;
  resets: number;
}

export interface PairAggregate {
  client: string;   // client address (no port)
  server: Endpoint;
  connections: number;
  distinctClientPorts: number;
  /** Connections per second over the pair's active span (first to last connection start); null below 10 connections. */
  ratePerSecond: number | null;
  timeWaitReuses: number;
  rejectedReuses: number;
  fastestReuseSeconds: number | null;
  /** Most client ports held at one instant (open or in TIME_WAIT); null below 10 connections. */
  portsInUsePeak: number | null;
  /** portsInUsePeak ÷ port pool, 0…1: 1.0 means every port of the pool was tied up at once; null below 10 connections. */
  exhaustionRatio: number | null;
}

export interface CaptureSummary {
  path: string;
  format: 'pcap' | 'pcapng' | 'live' | null;
  compressed: boolean;
  linkTypes: number[];
  packets: number;
  tcpPackets: number;
  /** Frames that were not decodable TCP, by reason (not-ip, not-tcp, fragment, truncated, malformed, unsupported-link). */
  undecodable: Record<string, number>;
  firstTime: number | null;
  lastTime: number | null;
  /** The input ended early, was damaged, or the run was interrupted: everything before it was analyzed. */
  truncated: boolean;
  /** SIGINT/SIGTERM stopped the reading: the report covers the `packets` read before (running out of memory is an `error`). */
  interrupted: boolean;
  error: string | null;
  warnings: string[];
  drops: number | null;
}

/** Exact counts of what `--max-connections` took out of the flow table. */
export interface Evictions {
  /** The bound in force (connections held at once); null when unbounded. */
  maxConnections: number | null;
  /** Connections taken out: handshakeOnly + judgedEarly. */
  total: number;
  /** Connections that never completed a handshake (no data, FIN or RST), dropped unjudged: not in `connections`. */
  handshakeOnly: number;
  /** Other connections judged before their end, oldest idle first (in `connections`, open at that point). */
  judgedEarly: number;
  /** Tombstones of judged connections forgotten early: a later SYN on those tuples is not judged as a reuse. */
  tombstones: number;
}

export interface Settings {
  halfCloseTimeout: number;
  timeWait: number;
  timeWaitProfile: string;
  idleSplit: number;
  /**
   * What identifies a connection besides its 4-tuple: 'tuple' (nothing; packets of the same tuple on different paths
   * are one connection unless sequence numbers say otherwise), 'tuple+vlan' (the VLAN ids), 'tuple+interface'.
   */
  flowKey: FlowKey;
}

export type FlowKey = 'tuple' | 'tuple+vlan' | 'tuple+interface';
export const FLOW_KEYS: readonly FlowKey[] = ['tuple', 'tuple+vlan', 'tuple+interface'];

export interface Report {
  version: 1;
  tool: { name: 'teardown'; version: string };
  capture: CaptureSummary;
  settings: Settings;
  summary: {
    connections: number;
    teardown: Record<Teardown, number>;
    /** Connections captured in one direction only (ConnectionReport.capture). */
    oneSided: number;
    /**
     * The `stuck-half-close` findings split (disjoint): `stuck` (the half-close lasted ≥ the half-close timeout with
     * the peer idle that long), `openAtEnd` (still half-closed when the capture ended, younger than that: not yet
     * stuck), `legitimate` (the peer kept sending: a shutdown(SHUT_WR) half-close), `other` (closed after the
     * timeout without being idle that long).
     */
    halfCloses: { stuck: number; openAtEnd: number; legitimate: number; other: number };
    findings: Partial<Record<FindingKind, number>>;
    severity: Record<Severity, number>;
    /** What the memory bound took out of the table (all zero when it was never reached). */
    evicted: Evictions;
  };
  connections: ConnectionReport[];
  findings: Finding[];
  aggregates: { servers: ServerAggregate[]; pairs: PairAggregate[] };
}
