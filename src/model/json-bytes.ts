/**
 * The JSON of a connection and of a finding written straight to UTF-8 bytes, field by field in the model's order:
 * the bytes of JSON.stringify(connectionJson(c)) and of JSON.stringify(f) (test/model/json-bytes.test.ts, on every
 * fixture), without the intermediate object, strings or their encoding. A streamed --json writes one per judged
 * connection: this is most of its output.
 */
import type { Endpoint } from './endpoint.js';
import type { ConnectionReport, Finding, PacketRef, PairAggregate, ServerAggregate } from './report.js';

/** Strings up to this length are written by a loop over their characters; longer ones by the native encoder. */
const SHORT = 24;
/** What JSON.stringify escapes in a string: quote, backslash, controls, and surrogates (lone ones; pairs go the slow way too). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Bytes of the longest number text JavaScript writes (`-0.0000012345678901234567`: 25; `null` is shorter). */
const NUM_MAX = 25;

/** The numbers that needed JavaScript's general conversion, remembered (per thread): 2^CACHE_BITS slots of NUM_MAX bytes, keyed by value. */
const CACHE_BITS = 12;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const cacheKeys = new Float64Array(1 << CACHE_BITS).fill(NaN);
const cacheText = new Uint8Array(NUM_MAX << CACHE_BITS);
const cacheLen = new Uint8Array(1 << CACHE_BITS);

/**
 * UTF-8 bytes written at the end of a growing buffer. The record writers below check the room once per run of
 * fields of bounded length (room(), then the unchecked lit() and dec()); str(), any() and the others check their own.
 */
export class JsonBytes {
  buf: Uint8Array;
  n = 0;
  /** buf as a Buffer (for its UTF-8 encoder), made when first needed after buf changed. */
  private view: Buffer | null = null;

  constructor(size = 1 << 16) {
    this.buf = new Uint8Array(size);
  }

  room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.n + k, 2 * this.buf.length));
    grown.set(this.buf.subarray(0, this.n));
    this.buf = grown;
    this.view = null;
  }

  /** ASCII text that needs no escaping (keys, punctuation, names from a fixed set). */
  ascii(s: string): void {
    this.room(s.length);
    this.lit(s);
  }

  /** ascii() without the room check: the caller reserved s.length bytes. */
  lit(s: string): void {
    const len = s.length;
    const b = this.buf;
    let n = this.n;
    for (let i = 0; i < len; i++) b[n++] = s.charCodeAt(i);
    this.n = n;
  }

  /** A string as JSON.stringify writes it. */
  str(s: string): void {
    const len = s.length;
    // A long one with nothing to escape (no quote, backslash, control or lone surrogate: see NEEDS_ESCAPE): its
    // UTF-8 as it is, by the native encoder.
    if (len > SHORT && !NEEDS_ESCAPE.test(s)) {
      this.room(3 * len + 2);
      const b = this.buf;
      b[this.n++] = 0x22;
      this.n += this.bytes().write(s, this.n, 'utf8');
      b[this.n++] = 0x22;
      return;
    }
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
    this.room(NUM_MAX);
    this.dec(x);
  }

  /** num() without the room check: the caller reserved NUM_MAX bytes. */
  dec(x: number | null): void {
    if (x === null) { this.nil(); return; }
    if ((x | 0) === x) {
      // Also -0, written 0 as JSON.stringify does.
      if (x < 0) { this.buf[this.n++] = 0x2d; this.uint(-x); } else this.uint(x);
      return;
    }
    if (x - x !== 0) { this.nil(); return; }
    if (Math.floor(x) === x) {
      if (x > 0 && x < 1e15) { this.uint(x); return; }
      if (x < 0 && x > -1e15) { this.buf[this.n++] = 0x2d; this.uint(-x); return; }
      this.general(x);
      return;
    }
    if (!this.micros(x)) this.general(x);
  }

  private nil(): void {
    const b = this.buf;
    const n = this.n;
    b[n] = 0x6e; b[n + 1] = 0x75; b[n + 2] = 0x6c; b[n + 3] = 0x6c;
    this.n = n + 4;
  }

  /**
   * Any finite number as JavaScript prints it (at most NUM_MAX ASCII bytes), through a small cache keyed by the
   * value: durations and offsets within a capture come back again and again.
   */
  private general(x: number): void {
    f64[0] = x;
    const slot = (Math.imul((u32[0] as number) ^ (u32[1] as number), 0x9e3779b1) >>> (32 - CACHE_BITS));
    const text = cacheText;
    const at = slot * NUM_MAX;
    const b = this.buf;
    let n = this.n;
    if (cacheKeys[slot] === x) {
      const end = at + (cacheLen[slot] as number);
      for (let i = at; i < end; i++) b[n++] = text[i] as number;
      this.n = n;
      return;
    }
    const s = `${x}`;
    const len = s.length;
    for (let i = 0; i < len; i++) { const c = s.charCodeAt(i); b[n++] = c; text[at + i] = c; }
    this.n = n;
    cacheKeys[slot] = x;
    cacheLen[slot] = len;
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
    const whole = Math.floor(a);
    let frac = m - whole * 1e6;
    if (x < 0) this.buf[this.n++] = 0x2d;
    this.uint(whole);
    const b = this.buf;
    let n = this.n;
    b[n] = 0x2e;
    // Six digits, then the trailing zeros dropped (frac > 0: x is not whole).
    for (let i = 6; i > 0; i--) { const q = (frac / 10) | 0; b[n + i] = 0x30 + (frac - 10 * q); frac = q; }
    n += 6;
    while (b[n] === 0x30) n--;
    this.n = n + 1;
    return true;
  }

  /** A whole number in [0, 1e15). */
  private uint(x: number): void {
    this.n = putUint(this.buf, this.n, x);
  }

  /** Text already escaped as JSON, as UTF-8. */
  private utf8(s: string): void {
    this.room(3 * s.length);
    this.n += this.bytes().write(s, this.n, 'utf8');
  }

  /** buf as a Buffer. */
  private bytes(): Buffer {
    const b = this.buf;
    if (this.view === null || this.view.buffer !== b.buffer) this.view = Buffer.from(b.buffer, b.byteOffset, b.length);
    return this.view;
  }

  /** Bytes [at, end) of src (UTF-8 already as JSON writes it), at the end. */
  copy(src: Uint8Array, at: number, end: number): void {
    this.room(end - at);
    const b = this.buf;
    let n = this.n;
    for (let i = at; i < end; i++) b[n++] = src[i] as number;
    this.n = n;
  }

  /** Bytes [at, end) written earlier, written again at the end (a packet of a ladder as a finding's evidence). */
  again(at: number, end: number): void {
    this.room(end - at);
    this.buf.copyWithin(this.n, at, end);
    this.n += end - at;
  }

  /** Any value as JSON.stringify writes it (objects of free shape: a finding's details, an encapsulation). */
  any(v: unknown): void {
    if (v === null) this.ascii('null'); else this.utf8(JSON.stringify(v) ?? 'null');
  }
}

/** Room for an endpoint's text (endpointWrite()): its address and the rest. */
const endpointRoom = (e: Endpoint): number => e.address.length + 8 + NUM_MAX;

/** JSON.stringify(endpointText(e)), without making the text: an address is printed ASCII (dotted quad, RFC 5952). Unchecked. */
function endpointWrite(w: JsonBytes, e: Endpoint): void {
  if (e.ipVersion === 6) { w.lit('"['); w.lit(e.address); w.lit(']:'); } else { w.lit('"'); w.lit(e.address); w.lit(':'); }
  w.dec(e.port);
  w.lit('"');
}

function endpoint(w: JsonBytes, e: Endpoint): void {
  w.room(endpointRoom(e));
  endpointWrite(w, e);
}

/** Bytes a run of literals (`lits`: their lengths summed) and `nums` numbers takes at most. */
const bound = (lits: number, nums: number): number => lits + nums * NUM_MAX;

/** `{a x b y}`: a pair of numbers (unchecked: bound(a.length + b.length + 1, 2)). */
function pair(w: JsonBytes, a: string, x: number, b: string, y: number): void {
  w.lit(a); w.dec(x); w.lit(b); w.dec(y); w.lit('}');
}

/** The fixed text of a packet (its keys) and its numbers, flags and note aside: what one room check covers. */
const PACKET_ROOM = bound(200, 9);

/** A packet of a ladder or of a finding's evidence. */
export function writePacketRef(w: JsonBytes, p: PacketRef): void {
  w.room(PACKET_ROOM + p.dir.length);
  w.lit('{"frame":'); w.dec(p.frame);
  w.lit(',"time":'); w.dec(p.time);
  w.lit(',"offset":'); w.dec(p.offset);
  w.lit(',"dir":"'); w.lit(p.dir);
  w.lit('","flags":'); w.str(p.flags);
  w.room(PACKET_ROOM + p.states.client.length + p.states.server.length);
  w.lit(',"seq":'); w.dec(p.seq);
  w.lit(',"ack":'); w.dec(p.ack);
  w.lit(',"relSeq":'); w.dec(p.relSeq);
  w.lit(',"relAck":'); w.dec(p.relAck);
  w.lit(',"len":'); w.dec(p.len);
  w.lit(',"win":'); w.dec(p.win);
  w.lit(',"states":{"client":"'); w.lit(p.states.client);
  w.lit('","server":"'); w.lit(p.states.server);
  w.lit('"}');
  if (p.note !== undefined) { w.lit(',"note":'); w.str(p.note); }
  w.ascii('}');
}

/**
 * Where each packet of a connection's ladder was written (bytes [at[i], end[i]) of the writer's buffer): a finding's
 * evidence packet equal to one of them is copied from there instead of written again (writeFindingJson).
 */
export class LadderSpans {
  refs: readonly PacketRef[] = [];
  readonly at: number[] = [];
  readonly end: number[] = [];

  clear(): void {
    this.refs = [];
    this.at.length = 0;
    this.end.length = 0;
  }

  /** Where the ladder holds a packet equal to p (an evidence packet is made from the same log record), or -1. */
  find(p: PacketRef): number {
    const refs = this.refs;
    for (let i = 0; i < refs.length; i++) {
      const q = refs[i] as PacketRef;
      if (q.frame === p.frame) return sameRef(p, q) ? i : -1;
    }
    return -1;
  }
}

/** Two packets whose JSON is the same: every field equal (numbers by value: JSON writes 0 for -0 too). */
function sameRef(p: PacketRef, q: PacketRef): boolean {
  return p.frame === q.frame && p.time === q.time && p.offset === q.offset && p.dir === q.dir && p.flags === q.flags
    && p.seq === q.seq && p.ack === q.ack && p.relSeq === q.relSeq && p.relAck === q.relAck && p.len === q.len
    && p.win === q.win && p.states.client === q.states.client && p.states.server === q.states.server && p.note === q.note;
}

/** A list of packets; `spans`: where each went (a ladder), or the ladder whose packets are copied (evidence). */
function refs(w: JsonBytes, list: readonly PacketRef[], record: LadderSpans | null = null, from: LadderSpans | null = null): void {
  w.ascii('[');
  for (let i = 0; i < list.length; i++) {
    if (i > 0) w.ascii(',');
    const p = list[i] as PacketRef;
    const k = from === null ? -1 : from.find(p);
    if (k >= 0) { w.again((from as LadderSpans).at[k] as number, (from as LadderSpans).end[k] as number); continue; }
    const at = w.n;
    writePacketRef(w, p);
    if (record !== null) { record.at.push(at); record.end.push(w.n); }
  }
  w.ascii(']');
}

/** A connection's fixed text (keys, names from the model's fixed sets) and numbers, per room check: see writeConnectionJson. */
const CONN_ROOM = bound(400, 16);

/**
 * JSON.stringify(connectionJson(c)), or with `elide` its ladder left out (an empty ladder, its packets counted as
 * elided: what `--ladders findings` writes for a connection without findings). Names from the model's fixed sets
 * (handshake, teardown, closer, states, finding kinds…) are written as they are; free text is escaped as needed.
 */
export function writeConnectionJson(w: JsonBytes, c: ConnectionReport, elide = false, ladder: LadderSpans | null = null): void {
  w.ascii('{"id":'); w.str(c.id);
  w.room(CONN_ROOM + endpointRoom(c.client) + endpointRoom(c.server));
  w.lit(',"client":'); endpointWrite(w, c.client);
  w.lit(',"server":'); endpointWrite(w, c.server);
  w.lit(c.clientGuessed ? ',"clientGuessed":true,"ipVersion":' : ',"clientGuessed":false,"ipVersion":'); w.dec(c.ipVersion);
  w.lit(',"incarnation":'); w.dec(c.incarnation);
  w.lit(',"previous":'); w.strOrNull(c.previous);
  w.ascii(',"next":'); w.strOrNull(c.next);
  w.room(CONN_ROOM + c.handshake.length + c.teardown.length + (c.closer?.length ?? 0));
  w.lit(',"firstFrame":'); w.dec(c.firstFrame);
  w.lit(',"lastFrame":'); w.dec(c.lastFrame);
  w.lit(',"start":'); w.dec(c.start);
  w.lit(',"end":'); w.dec(c.end);
  w.lit(',"packets":'); w.dec(c.packets);
  pair(w, ',"bytes":{"c2s":', c.bytes.c2s, ',"s2c":', c.bytes.s2c);
  pair(w, ',"retransmissions":{"c2s":', c.retransmissions.c2s, ',"s2c":', c.retransmissions.s2c);
  pair(w, ',"keepalives":{"c2s":', c.keepalives.c2s, ',"s2c":', c.keepalives.s2c);
  w.lit(',"duplicates":'); w.dec(c.duplicates);
  w.lit(',"handshake":"'); w.lit(c.handshake);
  pair(w, '","retries":{"syn":', c.retries.syn, ',"synAck":', c.retries.synAck);
  w.lit(',"teardown":"'); w.lit(c.teardown);
  w.lit('","closer":'); if (c.closer === null) w.lit('null'); else { w.lit('"'); w.lit(c.closer); w.lit('"'); }
  w.lit(',"ending":'); w.str(c.ending);
  w.room(CONN_ROOM + c.states.client.length + c.states.server.length);
  w.lit(',"states":{"client":"'); w.lit(c.states.client);
  w.lit('","server":"'); w.lit(c.states.server);
  w.lit('"},"findings":[');
  for (let i = 0; i < c.findings.length; i++) {
    const k = c.findings[i] as string;
    w.room(k.length + 3);
    w.lit(i > 0 ? ',"' : '"'); w.lit(k); w.lit('"');
  }
  const t = c.times;
  w.room(CONN_ROOM);
  w.lit('],"times":{"halfClosed":'); w.dec(t.halfClosed);
  w.lit(',"closed":'); w.dec(t.closed);
  w.lit(',"timeWaitUntil":'); w.dec(t.timeWaitUntil);
  w.lit(',"reset":'); w.dec(t.reset);
  w.lit('},"revisions":[');
  for (let i = 0; i < c.revisions.length; i++) {
    const r = c.revisions[i] as ConnectionReport['revisions'][number];
    w.room(CONN_ROOM + r.what.length);
    w.lit(i > 0 ? ',{"frame":' : '{"frame":'); w.dec(r.frame);
    w.lit(',"revisedBy":'); w.dec(r.revisedBy);
    w.lit(',"what":"'); w.lit(r.what);
    w.lit('","why":'); w.str(r.why);
    w.ascii('}');
  }
  w.ascii(']');
  if (c.inferences !== undefined) {
    w.ascii(',"inferences":[');
    for (let i = 0; i < c.inferences.length; i++) {
      const x = c.inferences[i] as NonNullable<ConnectionReport['inferences']>[number];
      w.room(CONN_ROOM + x.what.length + x.side.length);
      w.lit(i > 0 ? ',{"frame":' : '{"frame":'); w.dec(x.frame);
      w.lit(',"what":"'); w.lit(x.what);
      w.lit('","side":"'); w.lit(x.side);
      w.lit('","why":'); w.str(x.why);
      w.ascii('}');
    }
    w.ascii(']');
  }
  w.room(CONN_ROOM + c.capture.length + (c.missingSide?.length ?? 0) + c.capturePoint.length);
  w.lit(',"capture":"'); w.lit(c.capture);
  w.lit('","missingSide":'); if (c.missingSide === null) w.lit('null'); else { w.lit('"'); w.lit(c.missingSide); w.lit('"'); }
  w.lit(',"capturePoint":"'); w.lit(c.capturePoint);
  w.lit('","filter":'); w.str(c.filter);
  w.ascii(',"ladder":');
  if (elide) w.ascii('[]');
  else {
    if (ladder !== null) { ladder.clear(); ladder.refs = c.ladder; }
    refs(w, c.ladder, ladder);
  }
  w.room(CONN_ROOM);
  w.lit(',"elided":'); w.dec(elide ? c.elided + c.ladder.length : c.elided);
  if (c.encapsulation !== undefined) { w.lit(',"encapsulation":'); w.any(c.encapsulation); }
  if (c.captureLoss !== undefined) { w.ascii(',"captureLoss":'); w.num(c.captureLoss); }
  w.ascii('}');
}

/**
 * JSON.stringify(f) for a finding made by the judge (src/findings/context.ts); `ladder`: where its connection's
 * ladder was written in w (writeConnectionJson), for evidence packets to be copied from.
 */
export function writeFindingJson(w: JsonBytes, f: Finding, ladder: LadderSpans | null = null): void {
  w.ascii('{"kind":"'); w.ascii(f.kind);
  w.ascii('","severity":"'); w.ascii(f.severity);
  w.ascii('","connection":'); w.str(f.connection);
  w.ascii(',"summary":'); w.str(f.summary);
  w.ascii(',"why":'); w.str(f.why);
  w.ascii(',"rule":'); w.str(f.rule);
  w.ascii(',"time":'); w.num(f.time);
  w.ascii(',"evidence":'); refs(w, f.evidence, null, ladder);
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

/** The decimal digits of x, a whole number in [0, 1e15), written at b[at…] (room is the caller's); returns the offset after them. */
export function putUint(b: Uint8Array, at: number, x: number): number {
  if (x < 0x80000000) return putSmall(b, at, x | 0);
  // Above 2^31: the digits above the last eight, then those eight (integer arithmetic on both halves).
  const hi = Math.floor(x / 1e8);
  let lo = x - hi * 1e8;
  const end = putSmall(b, at, hi) + 8;
  let n = end;
  for (let i = 0; i < 8; i++) { const q = (lo / 10) | 0; b[--n] = 0x30 + (lo - 10 * q); lo = q; }
  return end;
}

/** putUint for v in [0, 2^31). */
function putSmall(b: Uint8Array, at: number, v: number): number {
  if (v < 10) { b[at] = 0x30 + v; return at + 1; }
  const digits = v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
  const end = at + digits;
  let n = end;
  do { const q = (v / 10) | 0; b[--n] = 0x30 + (v - 10 * q); v = q; } while (v > 0);
  return end;
}
