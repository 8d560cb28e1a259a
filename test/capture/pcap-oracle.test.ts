/**
 * Differential test: our classic pcap reader against pcap-parser@0.2.1 (an independent implementation) on every
 * classic microsecond pcap under fixtures/ (found at test time), pcap-parser's own sample captures, and
 * hand-built files in both byte orders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PcapParser } from '../../src/capture/pcap.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { feed, payload, rng } from './util.js';
import type { Chunking } from './util.js';

interface OraclePacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}
interface OracleParser {
  on(event: 'packet', f: (p: OraclePacket) => void): void;
  on(event: 'end', f: () => void): void;
  on(event: 'error', f: (e: Error) => void): void;
}
const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser') as { parse(input: Readable | string): OracleParser };

/** [total µs, captured length, original length, bytes as hex]. */
type Row = [number, number, number, string];

function oracle(bytes: Buffer): Promise<Row[]> {
  const noDeprecation = process.noDeprecation;
  process.noDeprecation = true; // pcap-parser uses `new Buffer()`
  return new Promise((resolve) => {
    const rows: Row[] = [];
    // Uneven chunks exercise its concatenation as well.
    const chunks: Buffer[] = [];
    for (let i = 0, n = 1; i < bytes.length; i += n, n = (n * 7 + 3) % 5000) chunks.push(bytes.subarray(i, i + n));
    const parser = pcapParser.parse(Readable.from(chunks));
    parser.on('packet', ({ header: h, data }) =>
      rows.push([h.timestampSeconds * 1e6 + h.timestampMicroseconds, h.capturedLength, h.originalLength, data.toString('hex')]),
    );
    parser.on('error', () => undefined); // it stops; what it delivered is compared
    parser.on('end', () => {
      process.noDeprecation = noDeprecation;
      resolve(rows);
    });
  });
}

function ours(bytes: Buffer, chunking: Chunking): { rows: Row[]; error: string | null } {
  const p = new PcapParser();
  const rows = feed(p, bytes, chunking).map(
    (f): Row => [f.tsSec * 1e6 + f.tsNsec / 1000, f.capLength, f.wireLength, f.bytes.toString('hex')],
  );
  return { rows, error: p.error?.code ?? null };
}

const US_MAGICS = new Set(['d4c3b2a1', 'a1b2c3d4']);

function findMicrosecondPcaps(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st === undefined) continue; // removed meanwhile (fixtures are being recorded)
    if (st.isDirectory()) findMicrosecondPcaps(p, out);
    else if (st.isFile() && st.size >= 24) {
      const head = readFileSync(p).subarray(0, 4).toString('hex');
      if (US_MAGICS.has(head)) out.push(p);
    }
  }
  return out;
}

function handBuilt(bigEndian: boolean): Buffer {
  const rand = rng(bigEndian ? 2 : 1);
  const frames = [];
  for (let i = 0; i < 400; i++) {
    const len = i === 7 ? 200_000 : Math.floor(rand() * 1600);
    frames.push({
      tsSec: 1_600_000_000 + i * 17,
      tsNsec: Math.floor(rand() * 1e9),
      data: payload(i, len),
      wireLength: len + (i % 3 === 0 ? Math.floor(rand() * 100) : 0),
    });
  }
  return PcapWriter.toBuffer(frames, { bigEndian, linkType: 1 });
}

const root = fileURLToPath(new URL('../../', import.meta.url));

test('classic µs pcap: same records as pcap-parser on fixtures, its samples, and hand-built files', async () => {
  const inputs: [string, Buffer][] = [
    ['hand-built little-endian', handBuilt(false)],
    ['hand-built big-endian', handBuilt(true)],
  ];
  for (const p of findMicrosecondPcaps(join(root, 'fixtures'))) inputs.push([relative(root, p), readFileSync(p)]);
  for (const name of ['smtp.pcap', 'be.pcap']) {
    const p = join(root, 'node_modules/pcap-parser/test', name);
    if (existsSync(p)) inputs.push([`pcap-parser sample ${name}`, readFileSync(p)]);
  }
  let records = 0;
  for (const [name, bytes] of inputs) {
    // One snapshot of the file feeds both readers (fixtures may be rewritten while we read).
    const expected = await oracle(bytes);
    for (const chunking of [1 << 20, 'random', 13] as Chunking[]) {
      const got = ours(bytes, chunking);
      if (got.error === null) assert.deepEqual(got.rows, expected, `${name} (chunking ${chunking})`);
      else {
        // Damaged file: what we delivered before the damage must match; a truncation ends both at the same record.
        assert.deepEqual(got.rows, expected.slice(0, got.rows.length), `${name} before ${got.error}`);
        if (got.error === 'TRUNCATED') assert.equal(got.rows.length, expected.length, name);
      }
    }
    records += expected.length;
  }
  assert.ok(records >= 800, `${records} records compared`);
});
