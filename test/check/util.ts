/** Helpers for the check/expect/extract tests: real fixtures, copies in /tmp, frames, the CLI as a child process. */
import { spawn } from 'node:child_process';
import { copyFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeFile } from '../../src/analyze/analyze.js';
import type { Report, Settings } from '../../src/model/report.js';
import { openCapture } from '../../src/capture/open.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { tempDir } from '../helpers/temp-dir.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = join(ROOT, 'fixtures');
export const fixture = (name: string): string => join(FIXTURES, name);

export async function tmp(prefix = 'teardown-check-'): Promise<string> {
  return tempDir(prefix);
}

/** Copies fixtures into a fresh /tmp directory (expectations are written next to captures). */
export async function copies(...names: string[]): Promise<{ dir: string; paths: string[] }> {
  const dir = await tmp();
  const paths: string[] = [];
  for (const n of names) {
    const p = join(dir, basename(n));
    await copyFile(fixture(n), p);
    paths.push(p);
  }
  return { dir, paths };
}

export async function report(path: string, settings: Partial<Settings> = {}): Promise<Report> {
  return (await analyzeFile(path, { settings })).report;
}

export interface Frame {
  index: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  interfaceId: number;
  wireLength: number;
  bytes: Buffer;
}

export async function readFrames(path: string): Promise<Frame[]> {
  const out: Frame[] = [];
  const src = await openCapture(path);
  const r = await src.run((f) => {
    out.push({
      index: f.index, tsSec: f.tsSec, tsNsec: f.tsNsec, linkType: f.linkType, interfaceId: f.interfaceId, wireLength: f.wireLength,
      bytes: Buffer.from(f.data.subarray(f.dataOffset, f.dataOffset + f.capLength)),
    });
  });
  if (r.error) throw r.error;
  return out;
}

/** Writes frames (one link type) as a classic pcap. */
export async function writePcap(path: string, frames: readonly Frame[], opts: { nanosecond?: boolean } = {}): Promise<void> {
  const linkType = frames[0]?.linkType ?? 1;
  await writeFile(path, PcapWriter.toBuffer(frames.map((f) => ({ tsSec: f.tsSec, tsNsec: f.tsNsec, data: f.bytes, wireLength: f.wireLength })),
    { linkType, nanosecond: opts.nanosecond ?? true }));
}

/**
 * Several real captures in one file, a "big capture" with many connections: each capture's frames shifted in time
 * so that capture i starts `spacing` seconds after capture i-1 (whatever their recording times were).
 */
export async function merged(path: string, names: readonly string[], spacing = 10): Promise<void> {
  const all: Frame[] = [];
  const base = 1_800_000_000;
  for (const [i, n] of names.entries()) {
    const frames = await readFrames(fixture(n));
    const shift = base + i * spacing - (frames[0]?.tsSec ?? 0);
    all.push(...frames.map((f) => ({ ...f, tsSec: f.tsSec + shift })));
  }
  all.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
  await writePcap(path, all, { nanosecond: false });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `teardown <args>` from source in a child process. `env` is added to (CI removed from) the current one. */
export function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = { ...process.env };
  delete base.CI;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Internet checksum over `parts` (independent of src/extract/checksum.ts, for checking its output). */
export function inetChecksum(...parts: Uint8Array[]): number {
  let s = 0;
  for (const b of parts) {
    for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  }
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** The IPv4/IPv6 + TCP layout of an Ethernet or SLL2 frame carrying TCP (what the checksum tests need). */
export function tcpLayout(b: Buffer, linkType: number): { ip: number; v: 4 | 6; tcp: number; end: number } {
  const ip = linkType === 1 ? 14 : linkType === 276 ? 20 : linkType === 113 ? 16 : linkType === 242 ? 44 : 0;
  const v = (b[ip]! >>> 4) as 4 | 6;
  if (v === 4) {
    const hlen = (b[ip]! & 15) * 4;
    return { ip, v, tcp: ip + hlen, end: ip + b.readUInt16BE(ip + 2) };
  }
  return { ip, v, tcp: ip + 40, end: ip + 40 + b.readUInt16BE(ip + 4) };
}

/**
 * True when the frame's IPv4 header checksum (IPv4) and TCP checksum verify. Bytes a snaplen cut off count as zeros
 * (what an anonymized, payload-zeroed segment holds); `cut: 'skip'` verifies only the IP header of cut frames.
 */
export function checksumsValid(b: Buffer, linkType: number, cut: 'zeros' | 'skip' = 'zeros'): boolean {
  const { ip, v, tcp, end } = tcpLayout(b, linkType);
  const seg = Buffer.alloc(end - tcp);
  b.copy(seg, 0, tcp, Math.min(end, b.length));
  if (end > b.length && cut === 'skip') return v === 6 || inetChecksum(b.subarray(ip, tcp)) === 0;
  let pseudo: Buffer;
  if (v === 4) {
    if (inetChecksum(b.subarray(ip, tcp)) !== 0) return false;
    pseudo = Buffer.alloc(12);
    b.copy(pseudo, 0, ip + 12, ip + 20);
    pseudo[9] = 6;
    pseudo.writeUInt16BE(seg.length, 10);
  } else {
    pseudo = Buffer.alloc(40);
    b.copy(pseudo, 0, ip + 8, ip + 40);
    pseudo.writeUInt32BE(seg.length, 32);
    pseudo[39] = 6;
  }
  return inetChecksum(pseudo, seg) === 0;
}
