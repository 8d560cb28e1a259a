/**
 * A judged connection at rest, as a compact string: FlowTable keeps each judged connection for REOPEN_WINDOW (a late
 * FIN retransmission reopens and re-judges it), tens of thousands at once on a busy capture, and almost none is ever
 * reopened. As objects one takes ~4 KB (three class instances of ~60 fields, boxed doubles, a dozen small arrays);
 * frozen, a few hundred bytes. thaw() rebuilds the object graph exactly (field order, classes, shared references),
 * so a reopened connection goes on as if it had never rested.
 *
 * The encoding walks the graph generically, so a field added to Connection, Endpoint or a record is carried without
 * change here (the pooled numbers of a connection, an endpoint, a FIN record and a packet log, src/tcp/row-pool.ts,
 * follow their fields): per value one tag byte (an integer of 0 .. 127 is the tag alone), then a small integer as a
 * varint, a larger one in 3 or 4 bytes (frame and sequence numbers) and other numbers in 8 bytes, except that a large
 * number still in a 64-slot cache of recent ones is the tag alone (times and sequence numbers repeat across fields),
 * strings as char codes (short constant ones, such as state names, as an index), objects as a shape (class and key
 * list, numbered once per process) and their values (a class instance: by its typed layout, its booleans as bits and
 * its integers as differences from a new instance's, or, when a field holds a value of another kind, a bitmap of the
 * fields that differ from a new instance's, and those; thaw() starts from a new instance; the numbers of its pool row
 * likewise, a bitmap of those that differ from a new instance's row, then those), a packet log's head by column, a
 * tombstone as its three fields, arrays and typed arrays with their length (the shared empty list,
 * src/tcp/empty-list.ts, as its tag alone, thawed as itself), and an object met again as a back-reference. freeze()
 * returns the bytes as a one-byte string (on the heap, one byte each); freezeTo() stores them in a ByteArena (outside
 * the heap: the flow table's resting tuples).
 */
import { CONN_ROW_WIDTH, Connection } from './connection.js';
import { Endpoint, FIN_ROW_WIDTH, FinRecord, ROW_WIDTH } from './endpoint.js';
import { EMPTY_LIST } from './empty-list.js';
import { PacketLog } from './packet-log.js';
import { PathRecord } from './path.js';
import { Tombstone } from './tombstone.js';
import type { RecordArena } from './byte-arena.js';

const NULL = 0;
const UNDEFINED = 1;
const FALSE = 2;
const TRUE = 3;
const INT = 4;      // zigzag varint (a small integer: 1 or 2 bytes)
const UINT32 = 5;   // 4 bytes (a sequence number, or another integer of 0 .. 2^32 - 1 beyond INT24)
const DOUBLE = 6;   // 8 bytes
const STRING = 7;   // varint length, then each char code as a varint
const INTERNED = 8; // varint index into the interned strings
const ARRAY = 9;    // varint length, then the elements
const OBJECT = 10;  // varint shape, then the values in the shape's key order
const REF = 11;     // varint index of an object or array met before in this graph
const U32 = 12;     // Uint32Array: varint length, then varints
const U8 = 13;      // Uint8Array: varint length, then bytes
const NUMS = 14;    // an array of numbers only: varint length, then the numbers (read as ARRAY; written without a type check each)
const INT24 = 15;   // 3 bytes, two's complement (an integer of -2^23 .. 2^23 - 1 that is not small: frame numbers)
const INT32 = 16;   // 4 bytes, two's complement (a negative integer beyond INT24)
const TOMB = 17;    // a Tombstone: its id, its bits, then its numbers as NUMS without the tag (no shape, no bitmap)
const FIXED = 18;   // a class instance by its shape's typed layout (see typedWriterOf): varint shape, then the layout
const EMPTY_SHARED = 19; // the shared empty list (src/tcp/empty-list.ts): thawed as that list, not a new one
/** RECENT + i: the large number in slot i of a small cache of the last ones (times, sequence numbers, fillers). */
const RECENT = 64;
const RECENT_N = 64;
/** SMALL + v: an integer v of 0 .. 127 (counts, flags, small frames), the tag alone. */
const SMALL = 128;

/**
 * Classes rebuilt by their constructor (so a thawed object has the same hidden class as a live one). A Tombstone has
 * its own tag (TOMB).
 */
/** A record whose numbers are in a pool row (src/tcp/row-pool.ts), not fields. */
interface Rowed { copyRow(out: Float64Array): void; setRow(k: number, v: number): void }

/**
 * `row`: the width of its pool row, for a class whose numbers live there: written after its fields, and read into the
 * row the rebuilt object took.
 */
const CLASSES: { proto: object; make: () => object; row?: number }[] = [
  // The endpoints a new connection makes are replaced by the thawed ones: their pool rows go back at once.
  { proto: Connection.prototype, make: () => { const c = Connection.open(0, true, false, 0, null, ''); c.ep[0].free(); c.ep[1].free(); return c; }, row: CONN_ROW_WIDTH },
  { proto: Endpoint.prototype, make: () => Endpoint.take(), row: ROW_WIDTH },
  // A packet log's head rows are pooled too: written after its fields, read into a row the new log takes.
  { proto: PacketLog.prototype, make: () => PacketLog.take() },
  { proto: PathRecord.prototype, make: () => new PathRecord() },
  { proto: FinRecord.prototype, make: () => FinRecord.make(0, 0, 0, false, 0, false, 0, 0), row: FIN_ROW_WIDTH },
];

interface Shape {
  cls: number;
  keys: string[];
  id: number;
  /** Writes an object's fields, its row and its log head (see writerOf). */
  write: (o: object) => void;
  /** A class's typed layout (see typedWriterOf): writes it and returns true, or writes nothing and returns false. */
  fixed: ((o: object) => boolean) | null;
  /** What thaw() needs of the layout: the boolean, integer and other fields, and the integers' defaults. */
  bools: string[];
  ints: string[];
  intDefaults: number[];
  others: string[];
}

const LOG = 2;

const shapes: Shape[] = [];
/** The shapes per class (index into CLASSES, or CLASSES.length for plain objects). */
const shapesOf: Shape[][] = CLASSES.map((): Shape[] => []).concat([[]]);
/** The last shape seen per class (index into CLASSES, or CLASSES.length for plain objects): the usual hit. */
const lastShape: (Shape | null)[] = CLASSES.map(() => null).concat([null]);

const interned: string[] = [];
const internIndex = new Map<string, number>();
/** Strings interned: short ones without digits (state names, verdicts, kinds); a bound keeps the table small. */
const MAX_INTERNED = 4096;

/** The last large numbers (anything but a small integer) written or read, the same ring on both sides. */
const recent = new Float64Array(RECENT_N);
const h64 = new Float64Array(1);
const h32 = new Uint32Array(h64.buffer);
/** A number's slot in the cache: a hash of its bits (direct-mapped: a newer number takes the slot). */
function slotOf(v: number): number {
  h64[0] = v;
  return Math.imul((h32[0] as number) ^ (h32[1] as number), 0x9e3779b1) >>> 26;
}
function clearRecent(): void { recent.fill(0.5); }
function remember(v: number): void { recent[slotOf(v)] = v; }

/**
 * The bytes being written: one buffer seen as bytes, as a DataView (a number of 3, 4 or 8 bytes in one store) and as
 * a Buffer (to make the string).
 */
let u8 = new Uint8Array(1 << 16);
let dv = new DataView(u8.buffer);
let bytes = Buffer.from(u8.buffer);
let len = 0;
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
/**
 * The objects and arrays met so far in the graph being written, seen[0 .. nSeen) (a REF names one by its index): a
 * fixed array and a count, as an array emptied by its length would give its storage back each time and grow again.
 */
let seen: (object | null)[] = new Array<object | null>(256).fill(null);
let nSeen = 0;

/** The index of `v` among the objects met (-1 when new: then it is added). */
function seenIndex(v: object): number {
  for (let i = nSeen - 1; i >= 0; i--) if (seen[i] === v) return i;
  if (nSeen === seen.length) seen = seen.concat(new Array<object | null>(seen.length).fill(null));
  seen[nSeen++] = v;
  return -1;
}
/** A row's numbers (or a packet log's head) copied out at once for writing (the largest: a full head of 12 rows of 8). */
const rowScratch = new Float64Array(128);
const keyScratch: string[] = [];

/** The most bytes one number takes (a tag and 8 bytes), or any other value without parts of its own. */
const MAX_VALUE = 9;

/**
 * Room for `n` more bytes. The writes below do not check one by one: a writer makes room once for what it writes
 * without calling put() (MAX_VALUE per value), and again after each put() of a value with parts (an object, an
 * array, a string: they make their own room, and may use what was left).
 */
function room(n: number): void {
  if (len + n > u8.length) grow(n);
}

function grow(n: number): void {
  const b = new Uint8Array(Math.max(u8.length * 2, len + n));
  b.set(u8.subarray(0, len));
  u8 = b;
  dv = new DataView(b.buffer);
  bytes = Buffer.from(b.buffer);
}

function byte(x: number): void {
  u8[len++] = x;
}

function varint(x: number): void {
  while (x >= 0x80) { u8[len++] = (x & 0x7f) | 0x80; x >>>= 7; }
  u8[len++] = x;
}

/**
 * The number num() writes, passed in this slot: a double passed to a function that is not inlined is boxed (a heap
 * number each: ~190 MB of the bench capture's 3.1 GB of allocation when num() took it as an argument), one stored
 * in a Float64Array is not.
 */
const NV = new Float64Array(1);

/**
 * The number in NV[0] (room made): a small integer as its zigzag varint, a large one as a cache slot, a varint or 8
 * bytes.
 */
function num(): void {
  const v = NV[0] as number;
  if (v < 8192 && v > -8192 && (v | 0) === v && (v !== 0 || 1 / v > 0)) {
    if (v >= 0 && v < 128) { u8[len++] = SMALL + v; return; }
    const z = ((v << 1) ^ (v >> 31)) >>> 0;
    u8[len++] = INT;
    if (z < 0x80) u8[len++] = z; else { u8[len++] = (z & 0x7f) | 0x80; u8[len++] = z >>> 7; }
    return;
  }
  // A large number (or -0, NaN): one byte when the cache holds it.
  const slot = slotOf(v);
  if (recent[slot] === v) { u8[len++] = RECENT + slot; return; } // NaN never matches; -0 only a -0 (0 never enters)
  recent[slot] = v;
  // 4 bytes stored for INT24 too (room is made for MAX_VALUE): the next value overwrites the fourth.
  if ((v | 0) === v && v !== 0) {
    if (v < 0x800000 && v >= -0x800000) { u8[len] = INT24; dv.setInt32(len + 1, v, true); len += 4; }
    else { u8[len] = INT32; dv.setInt32(len + 1, v, true); len += 5; }
  } else if (v >>> 0 === v && v !== 0) { u8[len] = UINT32; dv.setUint32(len + 1, v, true); len += 5; }
  else { u8[len] = DOUBLE; dv.setFloat64(len + 1, v, true); len += 9; }
}

/**
 * The writer of a shape, made once per shape: each field a named (monomorphic) load, numbers, booleans, null and
 * undefined written in line, anything else by put(); then a pooled class's row, and a packet log's head. The same
 * bytes as put() would write field by field.
 */
function writerOf(cls: number, keys: readonly string[]): Shape['write'] {
  const width = CLASSES[cls]?.row ?? 0;
  const rowRoom = rowBytes(width);
  const defaults = defaultsOf(cls, keys);
  const nb = defaults === null ? 0 : (keys.length + 7) >> 3;
  const lines: string[] = [`room(${nb + keys.length * MAX_VALUE + rowRoom});`, 'let v;'];
  // A class instance: a bitmap of the fields written (those that differ from a new instance's), then those.
  if (nb > 0) lines.push(`const m = skip(${nb});`, ...Array.from({ length: nb }, (_, b) => `let b${b} = 0;`));
  keys.forEach((k, i) => {
    const write = [
      `if (typeof v === 'number') { N[0] = v; num(); } else if (v === true) byte(${TRUE}); else if (v === false) byte(${FALSE});`,
      `else if (v === null) byte(${NULL}); else if (v === undefined) byte(${UNDEFINED});`,
      `else { put(v); room(${(keys.length - i - 1) * MAX_VALUE + rowRoom}); }`,
    ];
    lines.push(`v = o[${JSON.stringify(k)}];`);
    if (defaults === null) lines.push(...write);
    else lines.push(`if (${differs(defaults[i])}) {`, `b${i >> 3} |= ${1 << (i & 7)};`, ...write, '}');
  });
  for (let b = 0; b < nb; b++) lines.push(`poke(m + ${b}, b${b});`);
  // The row (and a log's head) last: the fields above may write other objects' rows through the same scratch.
  if (width > 0) lines.push('o.copyRow(R);', `putRow(R, D, ${width});`);
  if (cls === LOG) lines.push('o.copyHead(R);', 'putHead(R, o.headLength);');
  return new Function('room', 'num', 'N', 'byte', 'put', 'R', 'skip', 'poke', 'putHead', 'putRow', 'D', `return function write(o) {\n${lines.join('\n')}\n};`)(
    room, num, NV, byte, put, rowScratch, skip, poke, putHead, putRow, rowDefaultsOf(cls)) as Shape['write'];
}

/**
 * A packet log's head (src/tcp/packet-log.ts: rows of frame, t, seq, ack, len, win, packed, note), by column: the
 * frame as the difference from the row before, the time as its 8 bytes, seq and ack as the difference from the
 * last row in the same direction (a few bytes: a segment's numbers follow its direction's last), the other
 * columns as varints. No number goes through num() or its cache. A head with a number that is not an unsigned
 * 32-bit integer where one is expected (none the log records: it is written generically then) has a HEAD_ANY byte.
 */
const HEAD_COLUMNS = 0;
const HEAD_ANY = 1;
const LOG_W = 8;
const prevSeq = new Uint32Array(2);
const prevAck = new Uint32Array(2);

/** x is an unsigned 32-bit integer (not -0: it would come back as 0). */
function isU32(x: number): boolean {
  return x >>> 0 === x && (x !== 0 || 1 / x > 0);
}

/** A difference of two unsigned 32-bit integers as a varint of its zigzag (modulo 2^32: undone by add and >>> 0). */
function delta(x: number, prev: number): void {
  const d = (x - prev) | 0;
  varint(((d << 1) ^ (d >> 31)) >>> 0);
}

function putHead(R: Float64Array, n: number): void {
  if (n === 0) return; // (thaw reads a head only when the log has one)
  let columns = true;
  for (let o = 0; o < n && columns; o += LOG_W) {
    columns = isU32(R[o] as number) && isU32(R[o + 2] as number) && isU32(R[o + 3] as number) && isU32(R[o + 4] as number)
      && isU32(R[o + 5] as number) && isU32(R[o + 6] as number) && isU32(R[o + 7] as number);
  }
  if (!columns) {
    room(1 + n * MAX_VALUE);
    byte(HEAD_ANY);
    for (let k = 0; k < n; k++) { NV[0] = R[k] as number; num(); }
    return;
  }
  room(1 + (n / LOG_W) * 43);
  byte(HEAD_COLUMNS);
  let frame = 0;
  prevSeq[0] = 0; prevSeq[1] = 0; prevAck[0] = 0; prevAck[1] = 0;
  for (let o = 0; o < n; o += LOG_W) {
    const f = R[o] as number;
    delta(f, frame);
    frame = f;
    dv.setFloat64(len, R[o + 1] as number, true);
    len += 8;
    const packed = R[o + 6] as number;
    const dir = packed & 1;
    const seq = R[o + 2] as number;
    const ack = R[o + 3] as number;
    delta(seq, prevSeq[dir] as number);
    delta(ack, prevAck[dir] as number);
    prevSeq[dir] = seq; prevAck[dir] = ack;
    varint(R[o + 4] as number); varint(R[o + 5] as number); varint(packed); varint(R[o + 7] as number);
  }
}

/** What putHead() wrote, into out[0 .. n). */
function getHead(out: Float64Array, n: number): void {
  if ((inp[pos++] as number) === HEAD_ANY) {
    for (let k = 0; k < n; k++) out[k] = get() as number;
    return;
  }
  let frame = 0;
  prevSeq[0] = 0; prevSeq[1] = 0; prevAck[0] = 0; prevAck[1] = 0;
  for (let o = 0; o < n; o += LOG_W) {
    frame = (frame + getDelta()) >>> 0;
    out[o] = frame;
    for (let k = 0; k < 8; k++) f64Bytes[k] = (inp[pos++] as number);
    out[o + 1] = f64[0] as number;
    const ds = getDelta();
    const da = getDelta();
    const len = getVarint();
    const win = getVarint();
    const packed = getVarint();
    const dir = packed & 1;
    out[o + 2] = prevSeq[dir] = ((prevSeq[dir] as number) + ds) >>> 0;
    out[o + 3] = prevAck[dir] = ((prevAck[dir] as number) + da) >>> 0;
    out[o + 4] = len; out[o + 5] = win; out[o + 6] = packed; out[o + 7] = getVarint();
  }
}

function getDelta(): number {
  const z = getVarint();
  return (z >>> 1) ^ -(z & 1);
}

/** Integer fields of a typed layout as read (their difference from the default), and written from. */
const intScratch = new Int32Array(256);

/** n integers of intScratch: a bitmap of those not 0, then those as zigzag varints (room made). */
function putInts(n: number): void {
  const m = bitmap(n);
  for (let i = 0; i < n; i++) {
    const x = intScratch[i] as number;
    if (x === 0) continue;
    setBit(m, i);
    varint(((x << 1) ^ (x >> 31)) >>> 0);
  }
}

/** Reserves a bitmap of n bits, cleared (room made); returns where it is, for setBit(). */
function bitmap(n: number): number {
  const m = len;
  const nb = (n + 7) >> 3;
  for (let b = 0; b < nb; b++) u8[m + b] = 0;
  len += nb;
  return m;
}

function setBit(m: number, i: number): void {
  u8[m + (i >> 3)] = (u8[m + (i >> 3)] as number) | (1 << (i & 7));
}

/** The most bytes a row of `width` numbers takes: its bitmap and the numbers. */
function rowBytes(width: number): number {
  return width === 0 ? 0 : ((width + 7) >> 3) + width * MAX_VALUE;
}

/** A class's row in a new instance (what thaw() starts from), made once per class; empty for a class without one. */
const rowDefaults: (Float64Array | undefined)[] = [];
function rowDefaultsOf(cls: number): Float64Array {
  let d = rowDefaults[cls];
  if (d !== undefined) return d;
  const c = CLASSES[cls];
  d = new Float64Array(c?.row ?? 0);
  if (c !== undefined && d.length > 0) {
    const t = c.make() as Rowed & { free?: () => void };
    t.copyRow(d);
    t.free?.(); // pool rows back
  }
  rowDefaults[cls] = d;
  return d;
}

/**
 * A row's numbers R[0 .. width) (room made): a bitmap of those that differ from a new instance's (D; exactly: -0 is
 * not 0, NaN is written always), then those.
 */
function putRow(R: Float64Array, D: Float64Array, width: number): void {
  const m = bitmap(width);
  for (let k = 0; k < width; k++) {
    const v = R[k] as number;
    const d = D[k] as number;
    if (v === d && (v !== 0 || 1 / v === 1 / d)) continue;
    setBit(m, k);
    NV[0] = v; num();
  }
}

/**
 * A class's typed layout, made once per shape from a new instance's field values: its boolean fields as bits, its
 * integer fields (a new instance holds an integer) as their differences from those in one tight loop (putInts),
 * its other fields (strings, records, arrays) each as put() writes them, then its row and log head as writerOf()
 * writes them. Each integer and boolean field is checked first: a value of another kind (a fraction, -0, beyond
 * 32 bits, not a boolean) sends the object to writerOf()'s encoding, nothing written yet. For the records frozen by
 * the hundred thousand (connections, endpoints, FIN records): straight loads, no per-field bitmap or type dispatch.
 */
function typedWriterOf(s: Shape): void {
  const defaults = defaultsOf(s.cls, s.keys);
  if (defaults === null) return;
  s.keys.forEach((k, i) => {
    const d = defaults[i];
    if (typeof d === 'boolean') s.bools.push(k);
    else if (typeof d === 'number' && (d | 0) === d && !Object.is(d, -0)) { s.ints.push(k); s.intDefaults.push(d); }
    else s.others.push(k);
  });
  if (s.ints.length > intScratch.length) return;
  const width = CLASSES[s.cls]?.row ?? 0;
  const rowRoom = rowBytes(width);
  const nbb = (s.bools.length + 7) >> 3;
  const lines: string[] = ['let v, x;'];
  for (let b = 0; b < nbb; b++) lines.push(`let b${b} = 0;`);
  s.ints.forEach((k, i) => {
    const d = s.intDefaults[i] as number;
    lines.push(`v = o[${JSON.stringify(k)}];`, `if (typeof v !== 'number') return false;`, `x = v - ${d};`, `if ((x | 0) !== x || (v === 0 && 1 / v < 0)) return false;`, `I[${i}] = x;`);
  });
  s.bools.forEach((k, i) => {
    lines.push(`v = o[${JSON.stringify(k)}];`, `if (v === true) b${i >> 3} |= ${1 << (i & 7)}; else if (v !== false) return false;`);
  });
  lines.push(`room(${6 + nbb + ((s.ints.length + 7) >> 3) + s.ints.length * 5 + s.others.length * MAX_VALUE + rowRoom});`);
  lines.push(`byte(${FIXED}); varint(${s.id});`);
  for (let b = 0; b < nbb; b++) lines.push(`byte(b${b});`);
  lines.push(`putInts(${s.ints.length});`);
  s.others.forEach((k, i) => {
    lines.push(`v = o[${JSON.stringify(k)}];`,
      `if (typeof v === 'number') { N[0] = v; num(); } else if (v === true) byte(${TRUE}); else if (v === false) byte(${FALSE});`,
      `else if (v === null) byte(${NULL}); else if (v === undefined) byte(${UNDEFINED});`,
      `else { put(v); room(${(s.others.length - i - 1) * MAX_VALUE + rowRoom}); }`);
  });
  if (width > 0) lines.push('o.copyRow(R);', `putRow(R, D, ${width});`);
  if (s.cls === LOG) lines.push('o.copyHead(R);', 'putHead(R, o.headLength);');
  lines.push('return true;');
  s.fixed = new Function('room', 'num', 'N', 'byte', 'varint', 'put', 'R', 'I', 'putInts', 'putHead', 'putRow', 'D', `return function fixed(o) {\n${lines.join('\n')}\n};`)(
    room, num, NV, byte, varint, put, rowScratch, intScratch, putInts, putHead, putRow, rowDefaultsOf(s.cls)) as Shape['fixed'];
}

/**
 * The values of a class's fields in a new instance (what thaw() starts from), in key order; null for a plain object
 * (every field written). Only a number, boolean, string, null or undefined is ever left out: an object or array is
 * always written (it may be referred to again).
 */
const ALWAYS = {};
function defaultsOf(cls: number, keys: readonly string[]): unknown[] | null {
  const c = CLASSES[cls];
  if (c === undefined) return null;
  const t = c.make() as Record<string, unknown> & { free?: () => void };
  const d = keys.map((k) => (k in t ? t[k] : ALWAYS)); // a field a new instance lacks is written always
  t.free?.(); // pool rows back
  return d;
}

/** A JS condition: the field value `v` is not `d` (exactly: -0 is not 0; NaN is written always; an object always). */
function differs(d: unknown): string {
  if (d === null) return 'v !== null';
  if (d === undefined) return 'v !== undefined';
  if (typeof d === 'boolean' || typeof d === 'string') return `v !== ${JSON.stringify(d)}`;
  if (typeof d === 'number') {
    if (Number.isNaN(d)) return 'true';
    if (d === 0) return Object.is(d, -0) ? '(v !== 0 || 1 / v > 0)' : '(v !== 0 || 1 / v < 0)';
    return `v !== ${String(d)}`;
  }
  return 'true';
}

/** Reserves n bytes (room made) for writing later with poke(); returns where they are. */
function skip(n: number): number {
  const at = len;
  len += n;
  return at;
}

function poke(at: number, x: number): void {
  u8[at] = x;
}

function classOf(o: object): number {
  const p = Object.getPrototypeOf(o) as object;
  for (let i = 0; i < CLASSES.length; i++) if ((CLASSES[i] as { proto: object }).proto === p) return i;
  if (p === Object.prototype) return CLASSES.length;
  throw new Error(`cannot freeze an object of class ${(p as { constructor?: { name?: string } }).constructor?.name ?? '?'}`);
}

/**
 * The shape of an object. A class instance has its constructor's fields, in their order (every field is declared
 * and set in the constructor; none is added later: test/tcp/frozen.test.ts rebuilds every fixture connection and
 * compares), so its keys are read once per class; a plain object's are read each time (few per connection).
 */
function shapeOf(o: object): Shape {
  const cls = classOf(o);
  if (cls < CLASSES.length) {
    const known = lastShape[cls];
    if (known !== null && known !== undefined) return known;
  }
  const keys = keyScratch;
  keys.length = 0;
  for (const k in o) keys.push(k);
  const last = lastShape[cls] ?? null;
  if (last !== null && last.keys.length === keys.length) {
    let same = true;
    for (let i = 0; i < keys.length; i++) if (last.keys[i] !== keys[i]) { same = false; break; }
    if (same) return last;
  }
  // The other shapes of its class with as many keys, compared key by key (a few plain shapes alternate: no key string).
  let s: Shape | undefined;
  for (const x of shapesOf[cls] as Shape[]) {
    if (x.keys.length !== keys.length) continue;
    let same = true;
    for (let i = 0; i < keys.length; i++) if (x.keys[i] !== keys[i]) { same = false; break; }
    if (same) { s = x; break; }
  }
  if (s === undefined) {
    s = { cls, keys: keys.slice(), id: shapes.length, write: writerOf(cls, keys), fixed: null, bools: [], ints: [], intDefaults: [], others: [] };
    if (cls < CLASSES.length) typedWriterOf(s);
    shapes.push(s);
    (shapesOf[cls] as Shape[]).push(s);
  }
  lastShape[cls] = s;
  return s;
}

function internable(s: string): boolean {
  if (s.length > 40) return false;
  for (let i = 0; i < s.length; i++) { const ch = s.charCodeAt(i); if (ch >= 48 && ch <= 57) return false; }
  return true;
}

/** Any value, with room made for it (written in line by a shape's writer when it is a number, boolean, null or undefined). */
function put(v: unknown): void {
  switch (typeof v) {
    case 'number': room(MAX_VALUE); NV[0] = v; num(); return;
    case 'boolean': room(1); byte(v ? TRUE : FALSE); return;
    case 'undefined': room(1); byte(UNDEFINED); return;
    case 'string': {
      // Only an internable string can be in the table: an id (digits) is not looked up.
      const can = internable(v);
      let i = can ? internIndex.get(v) : undefined;
      if (i === undefined && can && interned.length < MAX_INTERNED) {
        i = interned.length;
        interned.push(v);
        internIndex.set(v, i);
      }
      if (i !== undefined) { room(6); byte(INTERNED); varint(i); return; }
      room(6 + v.length * 3);
      byte(STRING); varint(v.length);
      for (let k = 0; k < v.length; k++) varint(v.charCodeAt(k));
      return;
    }
    case 'object': {
      room(6);
      if (v === null) { byte(NULL); return; }
      // Not a list met before: a list of its own made from it would be shared by every field that held it.
      if (v === EMPTY_LIST) { byte(EMPTY_SHARED); return; }
      const at = seenIndex(v);
      if (at >= 0) { byte(REF); varint(at); return; }
      if (Array.isArray(v)) {
        let numbers = true;
        for (let k = 0; k < v.length; k++) if (typeof v[k] !== 'number') { numbers = false; break; }
        if (numbers) {
          room(6 + v.length * MAX_VALUE);
          byte(NUMS); varint(v.length);
          for (let k = 0; k < v.length; k++) { NV[0] = v[k] as number; num(); }
          return;
        }
        byte(ARRAY); varint(v.length);
        for (let k = 0; k < v.length; k++) put(v[k]);
        return;
      }
      if (v instanceof Uint32Array) {
        room(6 + v.length * 5);
        byte(U32); varint(v.length);
        for (let k = 0; k < v.length; k++) varint(v[k] as number);
        return;
      }
      if (v instanceof Uint8Array) {
        room(6 + v.length);
        byte(U8); varint(v.length);
        u8.set(v, len); len += v.length;
        return;
      }
      if (v instanceof Tombstone) { putTombstone(v as unknown as TombFields); return; }
      const s = shapeOf(v);
      if (s.fixed !== null && s.fixed(v)) return;
      byte(OBJECT); varint(s.id);
      s.write(v);
      return;
    }
    default:
      throw new Error(`cannot freeze a ${typeof v}`);
  }
}

/** A tombstone's fields (private to its class: read here as the generic encoding reads any object's). */
interface TombFields { id: string; bits: number; n: number[] }

/**
 * A tombstone (room for the tag made, already in `seen`): every one has the same three fields, an id, small bits
 * and an array of numbers, so they are written straight, without a shape (tens of thousands are frozen per second).
 */
function putTombstone(t: TombFields): void {
  byte(TOMB);
  put(t.id);
  const n = t.n;
  seenIndex(n); // new: its own array
  tombNumbers(t.bits, n, n.length);
}

/** A tombstone's bits and numbers n[0 .. count), after its id. */
function tombNumbers(bits: number, n: readonly number[], count: number): void {
  room(12 + count * MAX_VALUE);
  NV[0] = bits; num();
  varint(count);
  for (let k = 0; k < count; k++) { NV[0] = n[k] as number; num(); }
}

/**
 * freezeTo() of the Tombstone whose id, bits and numbers (n[0 .. count)) these are, without making it: the same
 * bytes (a tombstone is frozen once per judged connection, straight from its facts: src/tcp/flow-table.ts retire()).
 */
export function freezeTombstoneTo(id: string, bits: number, n: readonly number[], count: number, arena: RecordArena): number {
  len = 0;
  nSeen = 0;
  clearRecent();
  room(1);
  byte(TOMB);
  put(id); // a string: nothing enters `seen`
  tombNumbers(bits, n, count);
  return arena.put(u8, len);
}

/** A connection (or a tombstone) as a compact string (see the module comment); the object itself is left as it was. */
export function freeze(c: Connection | Tombstone): string {
  encode(c);
  return bytes.toString('latin1', 0, len);
}

/** The encoding of `c` into u8[0 .. len). */
function encode(c: Connection | Tombstone): void {
  len = 0;
  nSeen = 0;
  clearRecent();
  try {
    put(c);
  } finally {
    seen.fill(null, 0, nSeen); // (no connection kept alive by the scratch)
    nSeen = 0;
  }
}

/** What thaw() reads: a frozen string copied in, or an arena's chunk. */
let inp: Uint8Array = new Uint8Array(0);
let strIn = Buffer.allocUnsafeSlow(4096);
let pos = 0;
const back: object[] = [];
/** A packet log's head as read (the largest: 12 rows of 8). */
const headIn = new Float64Array(128);

function getVarint(): number {
  let x = 0;
  let shift = 1;
  for (;;) {
    const b = (inp[pos++] as number);
    x += (b & 0x7f) * shift;
    if (b < 0x80) return x;
    shift *= 128;
  }
}

function get(): unknown {
  const tag = (inp[pos++] as number);
  switch (tag) {
    case NULL: return null;
    case UNDEFINED: return undefined;
    case FALSE: return false;
    case TRUE: return true;
    case INT: { const z = getVarint(); return (z >>> 1) ^ -(z & 1); }
    case INT24: {
      const v = (((inp[pos] as number) | ((inp[pos + 1] as number) << 8) | ((inp[pos + 2] as number) << 16)) << 8) >> 8;
      pos += 3;
      remember(v);
      return v;
    }
    case INT32:
    case UINT32: {
      const x = (inp[pos] as number) | ((inp[pos + 1] as number) << 8) | ((inp[pos + 2] as number) << 16) | ((inp[pos + 3] as number) << 24);
      pos += 4;
      const v = tag === INT32 ? x : x >>> 0;
      remember(v);
      return v;
    }
    case DOUBLE: {
      for (let k = 0; k < 8; k++) f64Bytes[k] = (inp[pos++] as number);
      const v = f64[0] as number;
      remember(v);
      return v;
    }
    case STRING: {
      const n = getVarint();
      let s = '';
      for (let k = 0; k < n; k++) s += String.fromCharCode(getVarint());
      return s;
    }
    case INTERNED: return interned[getVarint()];
    case NUMS:
    case ARRAY: {
      const n = getVarint();
      const a: unknown[] = [];
      back.push(a);
      for (let k = 0; k < n; k++) a.push(get());
      return a;
    }
    case U32: {
      const n = getVarint();
      const a = new Uint32Array(n);
      back.push(a);
      for (let k = 0; k < n; k++) a[k] = getVarint();
      return a;
    }
    case U8: {
      const n = getVarint();
      const a = new Uint8Array(n);
      back.push(a);
      for (let k = 0; k < n; k++) a[k] = (inp[pos++] as number);
      return a;
    }
    case REF: return back[getVarint()];
    case EMPTY_SHARED: return EMPTY_LIST;
    case TOMB: {
      // The fields in the constructor's order (id, bits, n), as the generic encoding rebuilt them.
      const o = Object.create(Tombstone.prototype) as TombFields;
      back.push(o);
      o.id = get() as string;
      o.bits = get() as number;
      const n = getVarint();
      const a: number[] = [];
      back.push(a);
      for (let k = 0; k < n; k++) a.push(get() as number);
      o.n = a;
      return o;
    }
    case FIXED: {
      const s = shapes[getVarint()] as Shape;
      const o = (CLASSES[s.cls] as { make: () => object }).make() as Record<string, unknown>;
      back.push(o);
      const bools = s.bools;
      const bb = pos;
      pos += (bools.length + 7) >> 3;
      for (let i = 0; i < bools.length; i++) o[bools[i] as string] = ((inp[bb + (i >> 3)] as number) & (1 << (i & 7))) !== 0;
      const ints = s.ints;
      const ib = pos;
      pos += (ints.length + 7) >> 3;
      for (let i = 0; i < ints.length; i++) {
        let x = 0;
        if (((inp[ib + (i >> 3)] as number) & (1 << (i & 7))) !== 0) { const z = getVarint(); x = (z >>> 1) ^ -(z & 1); }
        o[ints[i] as string] = (s.intDefaults[i] as number) + x;
      }
      for (const k of s.others) o[k] = get();
      return rest(s, o);
    }
    case OBJECT: {
      const s = shapes[getVarint()] as Shape;
      const o = (s.cls < CLASSES.length ? (CLASSES[s.cls] as { make: () => object }).make() : {}) as Record<string, unknown>;
      back.push(o);
      if (s.cls < CLASSES.length) {
        // The fields that differ from the new instance's, by the bitmap before them.
        const keys = s.keys;
        const bits = pos;
        pos += (keys.length + 7) >> 3;
        for (let i = 0; i < keys.length; i++) if (((inp[bits + (i >> 3)] as number) & (1 << (i & 7))) !== 0) o[keys[i] as string] = get();
      } else {
        for (const k of s.keys) o[k] = get();
      }
      return rest(s, o);
    }
    default:
      if (tag >= SMALL) return tag - SMALL;
      if (tag >= RECENT && tag < RECENT + RECENT_N) return recent[tag - RECENT];
      throw new Error(`frozen connection damaged at byte ${pos - 1} (tag ${tag})`);
  }
}

/** An object's row and log head, after its fields (both encodings of a class instance). */
function rest(s: Shape, o: object): object {
  const width = CLASSES[s.cls]?.row ?? 0;
  if (width > 0) {
    // The numbers that differ from a new instance's (which `o` holds), by the bitmap before them.
    const bits = pos;
    pos += (width + 7) >> 3;
    for (let k = 0; k < width; k++) if (((inp[bits + (k >> 3)] as number) & (1 << (k & 7))) !== 0) (o as unknown as Rowed).setRow(k, get() as number);
  }
  if (s.cls === LOG) {
    const log = o as unknown as PacketLog;
    const n = log.headLength;
    if (n > 0) {
      getHead(headIn, n);
      let k = 0;
      log.restoreHead(() => headIn[k++] as number);
    }
  }
  return o;
}

/** What freeze() was given, rebuilt (the caller knows which it froze). */
export function thaw<T extends Connection | Tombstone = Connection>(s: string): T {
  if (strIn.length < s.length) strIn = Buffer.allocUnsafeSlow(Math.max(s.length, strIn.length * 2));
  strIn.write(s, 0, 'latin1');
  return read<T>(strIn, 0);
}

/** freeze() into an arena (src/tcp/byte-arena.ts): the record's reference. */
export function freezeTo(c: Connection | Tombstone, arena: RecordArena): number {
  encode(c);
  return arena.put(u8, len);
}

/** What freezeTo() stored at `ref`, rebuilt (the record stays in the arena). */
export function thawFrom<T extends Connection | Tombstone = Connection>(arena: RecordArena, ref: number): T {
  return read<T>(arena.chunk(ref), arena.start(ref));
}

const EMPTY = new Uint8Array(0);

function read<T>(bytes: Uint8Array, at: number): T {
  inp = bytes;
  pos = at;
  back.length = 0;
  clearRecent();
  try {
    return get() as T;
  } finally {
    back.length = 0;
    inp = EMPTY;
  }
}
