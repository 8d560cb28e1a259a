import type { PairsAside } from '../analyze/pairs-aside.js';
import type { LineBytes, ReportSpool } from '../analyze/spool.js';
import type { Span } from '../analyze/spill.js';
import { aggregateJson, connectionJson, ladderLeftOut, type ConnectionJson } from '../model/json.js';
import { JsonBytes, putUint, writeServerAggregate } from '../model/json-bytes.js';
import type { ConnectionReport, Report, ServerAggregate } from '../model/report.js';

export interface JsonOptions {
  /** Packet ladders for all connections, or only for those with findings (default). */
  ladders?: 'all' | 'findings';
}

/**
 * `--json`: the Report as one object (docs/json-format.md), written in pieces so a capture with hundreds of
 * thousands of connections never becomes one giant string: top-level fields indented, then one connection and
 * one finding per line (grep-friendly, still one valid JSON document).
 */
export function* jsonChunks(r: Report, opts: JsonOptions = {}): Generator<string> {
  const all = opts.ladders === 'all';
  yield jsonHead(r);
  yield* jsonList('connections', r.connections, (c) => jsonConnection(c, all));
  yield* jsonList('findings', r.findings, (f) => f);
  yield* jsonAggregates(r.aggregates);
  yield '\n}\n';
}

/**
 * `--json` of a streamed analysis: the same document, byte for byte, with the connections and findings read back
 * in order from the spool the session wrote them to, then the aggregates folded from its pair spill. The
 * lists come as bytes (UTF-8), copied from the spool's runs without becoming strings; the rest as strings.
 */
export function* jsonSpoolChunks(r: Report, spool: ReportSpool, chunks: OutChunks = new OutChunks()): Generator<string | Uint8Array> {
  yield* spoolChunks(r, spool, chunks, null) as Generator<string | Uint8Array>;
}

/**
 * jsonSpoolChunks() with the aggregates folded on another thread (ReportSpool.foldPairsAside()) while the
 * connections and findings go out: the same bytes. Before the aggregates it yields a promise, settled when they
 * are folded: the writer awaits it (rejected: the fold failed). A small report (ReportSpool.foldPairsAside() null)
 * is jsonSpoolChunks()'s.
 */
export function* jsonSpoolChunksAside(r: Report, spool: ReportSpool, chunks: OutChunks = new OutChunks()): Generator<string | Uint8Array | Promise<void>> {
  yield* spoolChunks(r, spool, chunks, spool.foldPairsAside());
}

/** The streamed document: its aggregates folded here (`aside` null) or on another thread, awaited after the findings. */
function* spoolChunks(r: Report, spool: ReportSpool, chunks: OutChunks, aside: PairsAside | null): Generator<string | Uint8Array | Promise<void>> {
  yield jsonHead(r);
  yield* byteList('connections', spool.connectionBytes(), spool.globalId, chunks);
  yield* byteList('findings', spool.findingBytes(), spool.globalId, chunks);
  if (aside !== null) yield aside.ready;
  yield* aggregateBytes(aside !== null ? aside.rows() : spool.aggregateJsonRows(), chunks);
  yield '\n}\n';
}

/** Bytes gathered before a chunk goes out. */
const OUT_CHUNK = 1 << 20;
/** `\u0001` as JSON writes it: the start of a thread's connection id placeholder (src/analyze/worker.ts). */
const ID_OPEN = Buffer.from('\\u0001', 'latin1');
/** What JsonList.raw() puts before every item but the first of a top-level list. */
const NEXT_ITEM = Buffer.from(separator('  '), 'latin1');
/** The same before every row but the first of an aggregates list (one level deeper). */
const NEXT_ROW = Buffer.from(separator('    '), 'latin1');

/**
 * The buffers byte chunks are gathered in: a chunk handed out may still be being written, so a new one is taken for
 * the next; given back (give()) once its writer is done with it, it is taken again. A fresh megabyte per chunk costs
 * more than copying into it (page faults, and the allocator handing the memory back): ~2 s of a 550 MB report.
 */
export class OutChunks {
  /** A chunk is handed out once it holds this many bytes or more. */
  readonly full: number;
  private readonly free: Buffer[] = [];
  /** The buffers handed out and not given back. */
  private readonly lent = new WeakSet<ArrayBufferLike>();

  /** `size`: of each buffer (tests make it small). */
  constructor(private readonly size = OUT_CHUNK) {
    this.full = size - Math.min(4096, size >> 2);
  }

  take(): Buffer {
    const b = this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
    this.lent.add(b.buffer);
    return b;
  }

  /** A chunk this handed out (or a part of it), written: its buffer can be taken again. Others, or again, are ignored. */
  give(chunk: Uint8Array): void {
    const a = chunk.buffer;
    if (!this.lent.has(a)) return;
    this.lent.delete(a);
    if (this.free.length < 4) this.free.push(Buffer.from(a, 0, a.byteLength));
  }
}

const NO_BYTES = Buffer.alloc(0);

/** UTF-8 output gathered into chunks (a buffer per chunk from OutChunks: a chunk handed out may still be being written). */
class ByteChunks {
  /** Empty between a chunk handed out and the next write (a list's last chunk takes no buffer after it). */
  private buf: Buffer = NO_BYTES;
  n = 0;

  constructor(private readonly chunks: OutChunks) {}

  private room(need: number): void {
    if (this.n + need <= this.buf.length) return;
    if (this.buf === NO_BYTES) {
      this.buf = this.chunks.take();
      if (need <= this.buf.length) return;
    }
    const grown = Buffer.allocUnsafe(Math.max(this.n + need, 2 * this.buf.length));
    this.buf.copy(grown, 0, 0, this.n);
    this.buf = grown;
  }

  str(s: string): void {
    this.room(3 * s.length);
    this.n += this.buf.write(s, this.n, 'utf8');
  }

  bytes(src: Uint8Array, at: number, end: number): void {
    this.room(end - at);
    this.buf.set(src.subarray(at, end), this.n);
    this.n += end - at;
  }

  /** Bytes whose thread id placeholders (`\u0001w.n\u0002`) become the final ids (`c` + global(w, n)). */
  bytesWithIds(src: Buffer, at: number, end: number, global: (w: number, local: number) => number): void {
    for (;;) {
      const m = src.indexOf(ID_OPEN, at);
      if (m < 0 || m >= end) break;
      // The thread's number and its ordinal, read as digits in place.
      let p = m + 6;
      let w = 0;
      for (let c = src[p] as number; c !== 0x2e; c = src[++p] as number) w = 10 * w + c - 0x30;
      let local = 0;
      for (let c = src[++p] as number; c !== 0x5c; c = src[++p] as number) local = 10 * local + c - 0x30;
      this.bytes(src, at, m);
      this.id(global(w, local));
      at = p + 6;
    }
    this.bytes(src, at, end);
  }

  /** `c` and the digits of n. */
  private id(n: number): void {
    this.room(16);
    this.buf[this.n] = 0x63;
    this.n = putUint(this.buf, this.n + 1, n);
  }

  take(): Buffer {
    const b = this.buf.subarray(0, this.n);
    this.buf = NO_BYTES;
    this.n = 0;
    return b;
  }
}

function* byteList(k: string, items: Iterable<string | LineBytes>, global: ((w: number, local: number) => number) | null, chunks: OutChunks): Generator<string | Uint8Array> {
  const l = new JsonList(k);
  const out = new ByteChunks(chunks);
  out.str(l.open());
  let first = true;
  for (const x of items) {
    if (typeof x === 'string') { out.str(l.raw(x)); first = false; continue; }
    if (first) { out.str(l.raw('')); first = false; } else out.bytes(NEXT_ITEM, 0, NEXT_ITEM.length);
    if (global === null) out.bytes(x.buf, x.at, x.end); else out.bytesWithIds(x.buf, x.at, x.end, global);
    if (out.n >= chunks.full) yield out.take();
  }
  out.str(l.close(true));
  yield out.take();
}

const field = (k: string, v: unknown) => `  ${JSON.stringify(k)}: ${JSON.stringify(v, null, 2).replace(/\n/g, '\n  ')},\n`;

/** The object's opening and the fields before `connections`. */
export function jsonHead(r: Pick<Report, 'version' | 'tool' | 'capture' | 'settings' | 'summary'>): string {
  return '{\n' + field('version', r.version) + field('tool', r.tool) + field('capture', r.capture) + field('settings', r.settings) + field('summary', r.summary);
}

// A ladder left out counts as elided packets, as when the session never built it (past LADDER_ALL_LIMIT connections).
export function jsonConnection(c: ConnectionReport, allLadders: boolean): ConnectionJson {
  const j = connectionJson(c);
  if (ladderLeftOut(c, allLadders)) { j.ladder = []; j.elided = c.elided + c.ladder.length; }
  return j;
}

/** What comes before every element but the first of a JsonList indented by `indent`. */
function separator(indent: string): string {
  return `,\n${indent}  `;
}

/** An array field written an item at a time, one per line (`open`, `item` per element, `close`). */
export class JsonList {
  private empty = true;
  constructor(private readonly key: string, private readonly indent = '  ') {}
  /** No element written yet. */
  get isEmpty(): boolean { return this.empty; }
  open(): string { return `${this.indent}${JSON.stringify(this.key)}: [`; }
  item(x: unknown): string {
    return this.raw(JSON.stringify(x));
  }
  /** An element already written as JSON. */
  raw(json: string): string {
    const s = `${this.empty ? `\n${this.indent}  ` : separator(this.indent)}${json}`;
    this.empty = false;
    return s;
  }
  close(comma = true): string { return `${this.empty ? '' : `\n${this.indent}`}]${comma ? ',' : ''}\n`; }
}

function* jsonList<T>(k: string, items: Iterable<T>, map: (x: T) => unknown, comma = true, indent = '  '): Generator<string> {
  const l = new JsonList(k, indent);
  let buf = l.open();
  for (const x of items) {
    buf += l.item(map(x));
    if (buf.length > 1 << 16) { yield buf; buf = ''; }
  }
  yield buf + l.close(comma);
}

/** jsonAggregates() of the rows an AggregateAccumulator made, as bytes (the same text: one row per line; the pair rows come as their JSON). */
function* aggregateBytes(a: { servers: Iterable<ServerAggregate>; pairs: Iterable<Span> }, chunks: OutChunks): Generator<string | Uint8Array> {
  const out = new ByteChunks(chunks);
  const w = new JsonBytes();
  out.str('  "aggregates": {\n');
  const rows = function* <T>(k: string, list: Iterable<T>, json: (x: T) => Span, comma: boolean): Generator<Uint8Array> {
    const l = new JsonList(k, '    ');
    out.str(l.open());
    for (const x of list) {
      // What l.raw('') gives: the first row's line start, then the separator (as bytes: no string per row).
      if (l.isEmpty) out.str(l.raw('')); else out.bytes(NEXT_ROW, 0, NEXT_ROW.length);
      const s = json(x);
      out.bytes(s.buf, s.at, s.end);
      if (out.n >= chunks.full) yield out.take();
    }
    out.str(l.close(comma));
  };
  const server: Span = { buf: w.buf, at: 0, end: 0 };
  yield* rows('servers', a.servers, (x) => { w.n = 0; writeServerAggregate(w, x); server.buf = w.buf; server.end = w.n; return server; }, true);
  yield* rows('pairs', a.pairs, (s) => s, false);
  out.str('  }');
  yield out.take();
}

/** The `aggregates` field, up to its closing brace (the object's end or further fields follow). */
export function* jsonAggregates(a: Report['aggregates']): Generator<string> {
  // Aggregates can hold a row per client host: one row per line, like connections.
  yield '  "aggregates": {\n';
  yield* jsonList('servers', a.servers, aggregateJson, true, '    ');
  yield* jsonList('pairs', a.pairs, aggregateJson, false, '    ');
  yield '  }';
}
