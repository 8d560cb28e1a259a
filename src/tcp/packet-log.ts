import type { EndpointState } from '../analyze/report.js';

/** One logged packet of a connection, for evidence and the ladder. */
export interface LogRec {
  frame: number;
  t: number;
  dir: 0 | 1;
  flags: number;
  seq: number;
  ack: number;
  len: number;
  win: number;
  client: EndpointState;
  server: EndpointState;
  note: string | null;
}

const HEAD = 12;
const TAIL = 12;
const MARKS = 256;

function fill(r: LogRec, frame: number, t: number, dir: 0 | 1, flags: number, seq: number, ack: number, len: number,
  win: number, client: EndpointState, server: EndpointState, note: string | null): LogRec {
  r.frame = frame; r.t = t; r.dir = dir; r.flags = flags; r.seq = seq; r.ack = ack; r.len = len; r.win = win;
  r.client = client; r.server = server; r.note = note;
  return r;
}

function blank(): LogRec {
  return { frame: 0, t: 0, dir: 0, flags: 0, seq: 0, ack: 0, len: 0, win: 0, client: 'UNKNOWN', server: 'UNKNOWN', note: null };
}

/**
 * Keeps the packets that tell a connection's story with bounded memory: the first HEAD packets, every marked
 * packet (SYN/FIN/RST and packets with a note, up to MARKS), and a ring of the last TAIL packets (objects reused).
 */
export class PacketLog {
  private readonly head: LogRec[] = [];
  private readonly marks: LogRec[] = [];
  private readonly tail: LogRec[] = [];
  private tailNext = 0;
  count = 0;

  record(frame: number, t: number, dir: 0 | 1, flags: number, seq: number, ack: number, len: number, win: number,
    client: EndpointState, server: EndpointState, note: string | null, mark: boolean): void {
    this.count++;
    if (this.head.length < HEAD) {
      this.head.push(fill(blank(), frame, t, dir, flags, seq, ack, len, win, client, server, note));
      return;
    }
    if (mark && this.marks.length < MARKS) {
      this.marks.push(fill(blank(), frame, t, dir, flags, seq, ack, len, win, client, server, note));
      return;
    }
    let r = this.tail[this.tailNext];
    if (r === undefined) { r = blank(); this.tail.push(r); }
    fill(r, frame, t, dir, flags, seq, ack, len, win, client, server, note);
    this.tailNext = (this.tailNext + 1) % TAIL;
  }

  /** The kept packets in frame order, without repeats. */
  packets(): LogRec[] {
    const all = [...this.head, ...this.marks, ...this.tail].sort((a, b) => a.frame - b.frame);
    const out: LogRec[] = [];
    for (const r of all) if (out.length === 0 || out[out.length - 1]!.frame !== r.frame) out.push(r);
    return out;
  }

  find(frame: number): LogRec | undefined {
    return this.head.find((r) => r.frame === frame) ?? this.marks.find((r) => r.frame === frame)
      ?? this.tail.find((r) => r.frame === frame);
  }
}
