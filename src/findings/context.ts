import type { Finding, FindingKind, PacketRef, Settings, Side } from '../model/report.js';
import { endpointText, type Endpoint } from '../model/endpoint.js';
import { flagsString } from '../decode/format.js';
import type { Connection } from '../tcp/connection.js';
import type { LogRec } from '../tcp/packet-log.js';
import { rel32 } from '../tcp/seq.js';
import { CATALOG } from './catalog.js';

/** What every detector gets: the connection, its endpoints, the settings and the judging time. */
export interface JudgeContext {
  c: Connection;
  id: string;
  client: Endpoint;
  server: Endpoint;
  settings: Settings;
  /** The time the connection is judged at: capture end (atEnd) or the moment it was replaced/swept. */
  now: number;
  /** Judged because the input ended (or the table evicted it): open states are "open at capture end". */
  atEnd: boolean;
}

export const sideName = (d: 0 | 1): Side => (d === 0 ? 'client' : 'server');
export const otherSide = (d: 0 | 1): 0 | 1 => (d === 0 ? 1 : 0);

export function endpointName(ctx: JudgeContext, d: 0 | 1): string {
  return d === 0 ? `client ${endpointText(ctx.client)}` : `server ${endpointText(ctx.server)}`;
}

/** A logged packet as evidence, with sequence numbers relative to each direction's ISN (docs/rules.md §6 evidence). */
export function toRef(c: Connection, r: LogRec): PacketRef {
  const u = c.reuse;
  if (u !== null && (r.frame === u.clientRstFrame || (u.answer === 'ack' && r.frame === u.answerFrame))) {
    // The TIME_WAIT ACK and the RST answering it carry the previous incarnation's numbers: relative to its ISNs.
    const P = u.previous;
    const same = c.clientIsA === P.clientIsA;
    return refOf(r, same ? P.isn[0] : P.isn[1], same ? P.isn[1] : P.isn[0], c.firstT);
  }
  return refOf(r, c.ep[0].isn, c.ep[1].isn, c.firstT);
}

/** A logged packet as evidence given the two ISNs and the connection's start (also for retired connections). */
export function refOf(r: LogRec, clientIsn: number, serverIsn: number, firstT: number): PacketRef {
  const hasAck = (r.flags & 0x10) !== 0;
  const senderIsn = r.dir === 0 ? clientIsn : serverIsn;
  const receiverIsn = r.dir === 0 ? serverIsn : clientIsn;
  const ref: PacketRef = {
    frame: r.frame, time: r.t, offset: Math.max(0, r.t - firstT), dir: r.dir === 0 ? 'c2s' : 's2c',
    flags: flagsString(r.flags), seq: r.seq, ack: hasAck ? r.ack : null, relSeq: rel32(r.seq, senderIsn),
    relAck: hasAck ? rel32(r.ack, receiverIsn) : null, len: r.len, win: r.win,
    states: { client: r.client, server: r.server },
  };
  if (r.note !== null) ref.note = r.note;
  return ref;
}

/** Evidence packets for the given frames (those still in the connection's log), in frame order. */
export function evidence(c: Connection, frames: readonly number[]): PacketRef[] {
  // Sorted by insertion (a handful of frames): repeats are then neighbours.
  const sorted: number[] = [];
  for (const f of frames) {
    let i = sorted.length;
    sorted.push(f);
    while (i > 0 && (sorted[i - 1] as number) > f) { sorted[i] = sorted[i - 1] as number; i--; }
    sorted[i] = f;
  }
  const out: PacketRef[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const f = sorted[i] as number;
    if (f === 0 || (i > 0 && sorted[i - 1] === f)) continue;
    const r = c.log.find(f);
    if (r !== undefined) out.push(toRef(c, r));
  }
  return out;
}

export function finding(ctx: JudgeContext, kind: FindingKind, severity: Finding['severity'], time: number,
  summary: string, why: string, frames: number[], details: Record<string, unknown>): Finding {
  return {
    kind, severity, connection: ctx.id, summary, why, rule: CATALOG[kind].rule, time,
    evidence: evidence(ctx.c, frames), details,
  };
}

/** Seconds with sensible precision for sentences. */
export function secs(x: number): string {
  const a = Math.abs(x);
  if (a >= 100) return `${x.toFixed(0)} s`;
  if (a >= 1) return `${x.toFixed(1)} s`;
  if (a >= 0.001) return `${(x * 1000).toFixed(1)} ms`;
  return `${(x * 1e6).toFixed(0)} µs`;
}
