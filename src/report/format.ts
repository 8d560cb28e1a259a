import type { PacketRef } from '../model/report.js';

/** Absolute time as `YYYY-MM-DD HH:MM:SS.uuuuuu` UTC. */
export function isoTime(t: number): string {
  const sec = Math.floor(t);
  const us = Math.round((t - sec) * 1e6);
  const d = new Date((us === 1e6 ? sec + 1 : sec) * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(us === 1e6 ? 0 : us, 6)}`;
}

export function duration(s: number): string {
  if (s >= 2 * 86400) return `${(s / 86400).toFixed(1)} d`;
  if (s >= 3600) return `${(s / 3600).toFixed(1)} h`;
  if (s >= 60) return `${(s / 60).toFixed(1)} min`;
  if (s >= 1) return `${s.toFixed(2)} s`;
  if (s >= 0.001) return `${(s * 1000).toFixed(2)} ms`;
  return `${(s * 1e6).toFixed(0)} µs`;
}

/** `1 connection`, `2 connections`: the count and the word in the form it takes. */
export function plural(n: number, one: string, many = `${one}s`, num: (n: number) => string = String): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

export const arrow = (dir: PacketRef['dir']): string => (dir === 'c2s' ? 'c→s' : 's→c');

/** Column headings aligned with packetLine(). */
export function packetHeader(): string {
  return `${'frame'.padStart(7)}  ${'+seconds'.padStart(11)}  dir  ${'flags'.padEnd(11)}`
    + ` ${'seq (relative)'.padEnd(27)} ${'ack (relative)'.padEnd(27)} ${'len'.padStart(9)}  client/server state after, note`;
}

/** One evidence line: frame, time offset, direction, flags, seq/ack absolute (relative), length, states, note. */
export function packetLine(p: PacketRef): string {
  const ack = p.ack === null ? '-' : `${p.ack} (${p.relAck})`;
  return `${String(p.frame).padStart(7)}  +${p.offset.toFixed(6).padStart(10)}  ${arrow(p.dir)}  ${p.flags.padEnd(11)}`
    + ` seq ${`${p.seq} (${p.relSeq})`.padEnd(23)} ack ${ack.padEnd(23)} len ${String(p.len).padStart(5)}`
    + `  ${p.states.client}/${p.states.server}${p.note ? `  ${p.note}` : ''}`;
}
