/**
 * The JSON of a connection and of a finding written straight to UTF-8 bytes, field by field in the model's order:
 * the bytes of JSON.stringify(connectionJson(c)) and of JSON.stringify(f) (test/model/json-bytes.test.ts, on every
 * fixture), without the intermediate object, strings or their encoding. A streamed --json writes one per judged
 * connection: this is most of its output.
 */
import type { Endpoint } from './endpoint.js';
import type { ConnectionReport, Finding, PacketRef, PairAggregate, ServerAggregate } from './report.js';

/** UTF-8 bytes written at the end of a growing buffer. */
export class JsonBytes {
  buf: Uint8Array;
  n = 0;

  constructor(size = 1 << 16) {
    this.buf = new Uint8Array(size);
  }

  room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.n + k, 2 * this.buf.length));
    grown.set(this.buf.subarray(0, this.n));
    this.buf = grown;
  }

  /** ASCII text that needs no escaping (keys, punctuation, names from a fixed set). */
  ascii(s: string): void {
    const len = s.length;
    this.room(len);
    const b = this.buf;
    let n = this.n;
    for (let i = 0; i < len; i++) b[n++] = s.charCodeAt(i);
    this.n = n;
  }

  /** A string as JSON.stringify writes it. */
  str(s: string): void {
    const len = s.length;
    this.room(len + 2);
    const b = this.buf;
    const start = this.n;
    let n = start;
    b[n++] = 0x22;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      // Quote, backslash, controls (escaped) and anything past ASCII (UTF-8, lone surrogates escaped): the slow way.
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) { this.n = start; this.utf8(JSON.stringify(s)); return; }
      b[n++] = c;
    }
    b[n++] = 0x22;
    this.n = n;
  }

  strOrNull(s: string | null): void {
    if (s === null) this.ascii('null'); else this.str(s);
  }

  /** A number as JSON.stringify writes it (non-finite: null). */
  num(x: number | null): void {
    if (x === null || !Number.isFinite(x)) { this.ascii('null'); return; }
    if (Number.isInteger(x)) {
      if (x >= 0 && x < 1e15) this.uint(x); else this.ascii(`${x}`);
      return;
    }
    if (!this.micros(x)) this.ascii(`${x}`);
  }

  /**
   * A number that is a whole count of millionths (a capture timestamp, a duration in µs), written as digits without
   * the general conversion; false for any other (nothing written). Exact: when m ÷ 10⁶, correctly rounded, is x, the
   * decimal m·10⁻⁶ reads back as x, and below 2³² two such decimals within one ulp (< 10⁻⁶) of x are the same: it is
   * the shortest and closest one, which is what JavaScript prints (test/model/json-bytes.test.ts checks against it).
   */
  private micros(x: number): boolean {
    const a = x < 0 ? -x : x;
    if (!(a >= 1e-6 && a < 4294967296)) return false;
    const m = Math.round(a * 1e6);
    if (m / 1e6 !== a) return false;
    const whole = Math.floor(m / 1e6);
    let frac = m - whole * 1e6;
    if (x < 0) this.ascii('-');
    this.uint(whole);
    this.room(8);
    const b = this.buf;
    b[this.n++] = 0x2e;
    let digits = 6;
    while (frac % 10 === 0) { frac /= 10; digits--; }
    let n = this.n + digits;
    this.n = n;
    for (let i = 0; i < digits; i++) { const q = Math.floor(frac / 10); b[--n] = 0x30 + (frac - 10 * q); frac = q; }
    return true;
  }

  private uint(x: number): void {
    this.room(16);
    const b = this.buf;
    if (x < 10) { b[this.n++] = 0x30 + x; return; }
    let digits = 1;
    for (let p = 10; p <= x; p *= 10) digits++;
    let n = this.n + digits;
    this.n = n;
    if (x < 0x80000000) {
      let v = x | 0;
      do { const q = (v / 10) | 0; b[--n] = 0x30 + (v - 10 * q); v = q; } while (v > 0);
    } else {
      do { const q = Math.floor(x / 10); b[--n] = 0x30 + (x - 10 * q); x = q; } while (x > 0);
    }
  }

  private utf8(s: string): void {
    this.room(3 * s.length);
    this.n += Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.length).write(s, this.n, 'utf8');
  }

  /** Any value as JSON.stringify writes it (objects of free shape: a finding's details, an encapsulation). */
  any(v: unknown): void {
    if (v === null) this.ascii('null'); else this.utf8(JSON.stringify(v) ?? 'null');
  }
}

/** JSON.stringify(endpointText(e)), without making the text: an address is printed ASCII (dotted quad, RFC 5952). */
function endpoint(w: JsonBytes, e: Endpoint): void {
  if (e.ipVersion === 6) { w.ascii('"['); w.ascii(e.address); w.ascii(']:'); } else { w.ascii('"'); w.ascii(e.address); w.ascii(':'); }
  w.num(e.port);
  w.ascii('"');
}

function pair(w: JsonBytes, a: string, x: number, b: string, y: number): void {
  w.ascii(a); w.num(x); w.ascii(b); w.num(y); w.ascii('}');
}

/** A packet of a ladder or of a finding's evidence. */
export function writePacketRef(w: JsonBytes, p: PacketRef): void {
  w.ascii('{"frame":'); w.num(p.frame);
  w.ascii(',"time":'); w.num(p.time);
  w.ascii(',"offset":'); w.num(p.offset);
  w.ascii(',"dir":"'); w.ascii(p.dir);
  w.ascii('","flags":'); w.str(p.flags);
  w.ascii(',"seq":'); w.num(p.seq);
  w.ascii(',"ack":'); w.num(p.ack);
  w.ascii(',"relSeq":'); w.num(p.relSeq);
  w.ascii(',"relAck":'); w.num(p.relAck);
  w.ascii(',"len":'); w.num(p.len);
  w.ascii(',"win":'); w.num(p.win);
  w.ascii(',"states":{"client":"'); w.ascii(p.states.client);
  w.ascii('","server":"'); w.ascii(p.states.server);
  w.ascii('"}');
  if (p.note !== undefined) { w.ascii(',"note":'); w.str(p.note); }
  w.ascii('}');
}

function refs(w: JsonBytes, list: readonly PacketRef[]): void {
  w.ascii('[');
  for (let i = 0; i < list.length; i++) { if (i > 0) w.ascii(','); writePacketRef(w, list[i] as PacketRef); }
  w.ascii(']');
}

/**
 * JSON.stringify(connectionJson(c)), or with `elide` its ladder left out (an empty ladder, its packets counted as
 * elided: what `--ladders findings` writes for a connection without findings). Names from the model's fixed sets
 * (handshake, teardown, closer, states, finding kinds…) are written as they are; free text is escaped as needed.
 */
export function writeConnectionJson(w: JsonBytes, c: ConnectionReport, elide = false): void {
  w.ascii('{"id":'); w.str(c.id);
  w.ascii(',"client":'); endpoint(w, c.client);
  w.ascii(',"server":'); endpoint(w, c.server);
  w.ascii(c.clientGuessed ? ',"clientGuessed":true,"ipVersion":' : ',"clientGuessed":false,"ipVersion":'); w.num(c.ipVersion);
  w.ascii(',"incarnation":'); w.num(c.incarnation);
  w.ascii(',"previous":'); w.strOrNull(c.previous);
  w.ascii(',"next":'); w.strOrNull(c.next);
  w.ascii(',"firstFrame":'); w.num(c.firstFrame);
  w.ascii(',"lastFrame":'); w.num(c.lastFrame);
  w.ascii(',"start":'); w.num(c.start);
  w.ascii(',"end":'); w.num(c.end);
  w.ascii(',"packets":'); w.num(c.packets);
  pair(w, ',"bytes":{"c2s":', c.bytes.c2s, ',"s2c":', c.bytes.s2c);
  pair(w, ',"retransmissions":{"c2s":', c.retransmissions.c2s, ',"s2c":', c.retransmissions.s2c);
  pair(w, ',"keepalives":{"c2s":', c.keepalives.c2s, ',"s2c":', c.keepalives.s2c);
  w.ascii(',"duplicates":'); w.num(c.duplicates);
  w.ascii(',"handshake":"'); w.ascii(c.handshake);
  pair(w, '","retries":{"syn":', c.retries.syn, ',"synAck":', c.retries.synAck);
  w.ascii(',"teardown":"'); w.ascii(c.teardown);
  w.ascii('","closer":'); if (c.closer === null) w.ascii('null'); else { w.ascii('"'); w.ascii(c.closer); w.ascii('"'); }
  w.ascii(',"ending":'); w.str(c.ending);
  w.ascii(',"states":{"client":"'); w.ascii(c.states.client);
  w.ascii('","server":"'); w.ascii(c.states.server);
  w.ascii('"},"findings":[');
  for (let i = 0; i < c.findings.length; i++) { w.ascii(i > 0 ? ',"' : '"'); w.ascii(c.findings[i] as string); w.ascii('"'); }
  const t = c.times;
  w.ascii('],"times":{"halfClosed":'); w.num(t.halfClosed);
  w.ascii(',"closed":'); w.num(t.closed);
  w.ascii(',"timeWaitUntil":'); w.num(t.timeWaitUntil);
  w.ascii(',"reset":'); w.num(t.reset);
  w.ascii('},"revisions":[');
  for (let i = 0; i < c.revisions.length; i++) {
    const r = c.revisions[i] as ConnectionReport['revisions'][number];
    w.ascii(i > 0 ? ',{"frame":' : '{"frame":'); w.num(r.frame);
    w.ascii(',"revisedBy":'); w.num(r.revisedBy);
    w.ascii(',"what":"'); w.ascii(r.what);
    w.ascii('","why":'); w.str(r.why);
    w.ascii('}');
  }
  w.ascii(']');
  if (c.inferences !== undefined) {
    w.ascii(',"inferences":[');
    for (let i = 0; i < c.inferences.length; i++) {
      const x = c.inferences[i] as NonNullable<ConnectionReport['inferences']>[number];
      w.ascii(i > 0 ? ',{"frame":' : '{"frame":'); w.num(x.frame);
      w.ascii(',"what":"'); w.ascii(x.what);
      w.ascii('","side":"'); w.ascii(x.side);
      w.ascii('","why":'); w.str(x.why);
      w.ascii('}');
    }
    w.ascii(']');
  }
  w.ascii(',"capture":"'); w.ascii(c.capture);
  w.ascii('","missingSide":'); if (c.missingSide === null) w.ascii('null'); else { w.ascii('"'); w.ascii(c.missingSide); w.ascii('"'); }
  w.ascii(',"capturePoint":"'); w.ascii(c.capturePoint);
  w.ascii('","filter":'); w.str(c.filter);
  w.ascii(',"ladder":');
  if (elide) w.ascii('[]'); else refs(w, c.ladder);
  w.ascii(',"elided":'); w.num(elide ? c.elided + c.ladder.length : c.elided);
  if (c.encapsulation !== undefined) { w.ascii(',"encapsulation":'); w.any(c.encapsulation); }
  if (c.captureLoss !== undefined) { w.ascii(',"captureLoss":'); w.num(c.captureLoss); }
  w.ascii('}');
}

/** JSON.stringify(f) for a finding made by the judge (src/findings/context.ts). */
export function writeFindingJson(w: JsonBytes, f: Finding): void {
  w.ascii('{"kind":"'); w.ascii(f.kind);
  w.ascii('","severity":"'); w.ascii(f.severity);
  w.ascii('","connection":'); w.str(f.connection);
  w.ascii(',"summary":'); w.str(f.summary);
  w.ascii(',"why":'); w.str(f.why);
  w.ascii(',"rule":'); w.str(f.rule);
  w.ascii(',"time":'); w.num(f.time);
  w.ascii(',"evidence":'); refs(w, f.evidence);
  w.ascii(',"details":'); w.any(f.details);
  w.ascii('}');
}

/** JSON.stringify(aggregateJson(a)) for a server row as AggregateAccumulator makes it (src/findings/aggregates.ts). */
export function writeServerAggregate(w: JsonBytes, a: ServerAggregate): void {
  w.ascii('{"server":'); endpoint(w, a.server);
  w.ascii(',"connections":'); w.num(a.connections);
  w.ascii(',"halfClosed":'); w.num(a.halfClosed);
  w.ascii(',"stuck":'); w.num(a.stuck);
  w.ascii(',"oldestHalfCloseSeconds":'); w.num(a.oldestHalfCloseSeconds);
  w.ascii(',"resets":'); w.num(a.resets);
  w.ascii('}');
}

/** JSON.stringify(aggregateJson(a)) for a pair row as AggregateAccumulator makes it. */
export function writePairAggregate(w: JsonBytes, a: PairAggregate): void {
  w.ascii('{"client":'); w.str(a.client);
  w.ascii(',"server":'); endpoint(w, a.server);
  w.ascii(',"connections":'); w.num(a.connections);
  w.ascii(',"distinctClientPorts":'); w.num(a.distinctClientPorts);
  w.ascii(',"ratePerSecond":'); w.num(a.ratePerSecond);
  w.ascii(',"timeWaitReuses":'); w.num(a.timeWaitReuses);
  w.ascii(',"rejectedReuses":'); w.num(a.rejectedReuses);
  w.ascii(',"fastestReuseSeconds":'); w.num(a.fastestReuseSeconds);
  w.ascii(',"portsInUsePeak":'); w.num(a.portsInUsePeak);
  w.ascii(',"exhaustionRatio":'); w.num(a.exhaustionRatio);
  w.ascii('}');
}
