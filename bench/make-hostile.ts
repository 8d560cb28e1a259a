/**
 * Hostile captures for the memory bound: SYN floods and a port scan, written as classic pcap (Ethernet, µs).
 *
 *   node --import tsx bench/make-hostile.ts flood [--syns 2M] [--rate 100000] [--out FILE]
 *   node --import tsx bench/make-hostile.ts scan  [--syns 10M] [--rate 200000] [--out FILE]
 *   node --import tsx bench/make-hostile.ts all           # flood 2M, flood 5M, scan 10M
 *
 * flood: SYNs from distinct source endpoints (10.66.0.1… × ports 1024–65535, in order) to one server,
 *        10.0.0.80:80, with no reply — what a spoofed SYN flood against a filtered or overwhelmed server looks like.
 * scan:  one SYN from 10.77.0.1:40000 to each port 1–65535 of consecutive hosts 10.1.0.1…, no reply (a SYN scan
 *        of filtered hosts).
 * Frames are 58 bytes (Ethernet, IPv4, TCP with an MSS option) at `--rate` packets per second of capture time.
 * Files go to bench/data/ (gitignored) and are reused when they exist with the same size.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchArgs } from './args.js';
import { PcapWriter } from '../src/capture/pcap-writer.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DATA_DIR = join(HERE, 'data');
const EPOCH = 1_735_689_600;
const FRAME = 58;

export type HostileKind = 'flood' | 'scan';

export interface HostileOptions {
  kind: HostileKind;
  syns: number;
  rate: number;
  out?: string;
  force?: boolean;
}

export function hostilePath(kind: HostileKind, syns: number): string {
  return join(DATA_DIR, `${kind}-${syns}.pcap`);
}

const sizeOf = (syns: number): number => 24 + syns * (16 + FRAME);

function ipChecksum(b: Buffer, off: number): number {
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += b.readUInt16BE(off + i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** A SYN frame template; only addresses, ports, sequence and checksums change per packet. */
function synFrame(): Buffer {
  const b = Buffer.alloc(FRAME);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45; b.writeUInt16BE(44, 16); b[22] = 64; b[23] = 6; // IPv4, total length 44, TTL 64, TCP
  b[14 + 20 + 12] = 6 << 4; // data offset 24 bytes
  b[14 + 20 + 13] = 0x02; // SYN
  b.writeUInt16BE(64240, 14 + 20 + 14);
  b[54] = 2; b[55] = 4; b.writeUInt16BE(1460, 56); // MSS
  return b;
}

/** Writes the capture; returns its path. Deterministic for the same options. */
export function makeHostile(o: HostileOptions): string {
  const out = o.out ?? hostilePath(o.kind, o.syns);
  if (!o.force && existsSync(out) && statSync(out).size === sizeOf(o.syns)) return out;
  mkdirSync(dirname(resolve(out)), { recursive: true });
  const tmp = `${out}.part`;
  const fd = openSync(tmp, 'w');
  const w = new PcapWriter(fd, { snaplen: 262144 });
  const f = synFrame();
  const step = 1 / o.rate;
  let seq = 0x12345678;
  for (let i = 0; i < o.syns; i++) {
    let src: number, sport: number, dst: number, dport: number;
    if (o.kind === 'flood') {
      src = 0x0a420001 + Math.floor(i / 64512); sport = 1024 + (i % 64512);
      dst = 0x0a000050; dport = 80;
    } else {
      src = 0x0a4d0001; sport = 40000;
      dst = 0x0a010001 + Math.floor(i / 65535); dport = 1 + (i % 65535);
    }
    f.writeUInt16BE(i & 0xffff, 18); // IP ID
    f.writeUInt32BE(src >>> 0, 26); f.writeUInt32BE(dst >>> 0, 30);
    f.writeUInt16BE(0, 24); f.writeUInt16BE(ipChecksum(f, 14), 24);
    f.writeUInt16BE(sport, 34); f.writeUInt16BE(dport, 36);
    seq = (Math.imul(seq, 1103515245) + 12345) >>> 0;
    f.writeUInt32BE(seq, 38);
    const t = i * step;
    const sec = Math.floor(t);
    w.writeFrame(EPOCH + sec, Math.round((t - sec) * 1e6) * 1000, f);
  }
  w.close();
  closeSync(fd);
  renameSync(tmp, out); // last: an interrupted run leaves no file that looks complete
  return out;
}

export function parseCount(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s);
  if (m === null) throw new Error(`not a count: ${s}`);
  const mult = m[2] === '' ? 1 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1e6;
  return Math.round(Number(m[1]) * mult);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values, positionals } = benchArgs('node --import tsx bench/make-hostile.ts flood|scan|all [--syns N] [--rate R] [--out FILE] [--force]', {
    allowPositionals: true,
    options: { syns: { type: 'string' }, rate: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } },
  });
  const kind = positionals[0] ?? 'all';
  const jobs: HostileOptions[] = kind === 'all'
    ? [{ kind: 'flood', syns: 2e6, rate: 1e5 }, { kind: 'flood', syns: 5e6, rate: 1e5 }, { kind: 'scan', syns: 1e7, rate: 2e5 }]
    : [{
      kind: kind as HostileKind, syns: parseCount(values.syns ?? (kind === 'scan' ? '10M' : '2M')),
      rate: parseCount(values.rate ?? (kind === 'scan' ? '200k' : '100k')),
    }];
  if (kind !== 'all' && kind !== 'flood' && kind !== 'scan') { console.error('usage: make-hostile.ts flood|scan|all [--syns N] [--rate R] [--out FILE]'); process.exit(2); }
  for (const j of jobs) {
    const t0 = Date.now();
    const p = makeHostile({ ...j, out: kind === 'all' ? undefined : values.out, force: values.force ?? false });
    console.log(`${p}  ${j.kind} ${j.syns} SYNs  ${(statSync(p).size / 1e6).toFixed(0)} MB  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}
