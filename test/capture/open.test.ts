import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { openCapture } from '../../src/capture/open.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import type { PcapFrameInput } from '../../src/capture/pcap-writer.js';
import { CaptureError } from '../../src/capture/types.js';
import type { PacketSource, RawFrame } from '../../src/capture/types.js';
import { PcapngBuilder } from '../helpers/pcapng-writer.js';
import { copyFrame, payload } from './util.js';
import type { FrameCopy } from './util.js';

const dir = mkdtempSync(join(tmpdir(), 'teardown-capture-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function tmpFile(bytes: Uint8Array, name = `f${++fileNo}`): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const FRAMES: PcapFrameInput[] = Array.from({ length: 50 }, (_, i) => ({
  tsSec: 1_700_000_000 + i,
  tsNsec: i * 1000,
  data: payload(i, 40 + ((i * 37) % 1500)),
}));
const PCAP = PcapWriter.toBuffer(FRAMES, { linkType: 1 });
const PCAPNG = new PcapngBuilder()
  .shb()
  .idb(1, { tsresol: 9 })
  .idb(113)
  .epb(0, 1_700_000_000_000_000_001n, payload(1, 60))
  .epb(1, 1_700_000_001_000_000n, payload(2, 70))
  .isb(0, 0, { ifdrop: 4 })
  .build();

async function runAll(src: PacketSource, signal?: AbortSignal): Promise<{ frames: FrameCopy[]; result: Awaited<ReturnType<PacketSource['run']>> }> {
  const frames: FrameCopy[] = [];
  const result = await src.run((f: RawFrame) => {
    frames.push(copyFrame(f));
  }, signal);
  return { frames, result };
}

test('classic pcap file: frames, info, bytesRead = size', async () => {
  const path = tmpFile(PCAP);
  const src = await openCapture(path);
  assert.equal(src.info.totalBytes, PCAP.length);
  const { frames, result } = await runAll(src);
  assert.equal(result.error, null);
  assert.equal(result.frames, 50);
  assert.equal(frames.length, 50);
  assert.deepEqual(frames[49]!.bytes, FRAMES[49]!.data);
  assert.equal(frames[49]!.tsNsec, 49_000);
  assert.deepEqual(src.info, { path, format: 'pcap', compressed: false, linkTypes: [1], totalBytes: PCAP.length, drops: null });
  assert.equal(src.bytesRead, PCAP.length);
});

test('pcapng file: link types in order of appearance, drops from the ISB', async () => {
  const src = await openCapture(tmpFile(PCAPNG));
  const { frames, result } = await runAll(src);
  assert.equal(result.error, null);
  assert.deepEqual(frames.map((f) => [f.linkType, f.tsSec, f.tsNsec]), [
    [1, 1_700_000_000, 1],
    [113, 1_700_000_001, 0],
  ]);
  assert.equal(src.info.format, 'pcapng');
  assert.deepEqual(src.info.linkTypes, [1, 113]);
  assert.equal(src.info.drops, 4);
});

test('small read chunks: records spanning reads come out identical', async () => {
  const ref = await runAll(await openCapture(tmpFile(PCAP)));
  for (const chunkSize of [16, 17, 333, 4096]) {
    const got = await runAll(await openCapture(tmpFile(PCAP), { chunkSize }));
    assert.equal(got.result.error, null);
    assert.deepEqual(got.frames, ref.frames, `chunk ${chunkSize}`);
  }
});

test('gzip of both formats is detected and inflated; bytesRead counts compressed bytes', async () => {
  for (const [raw, format] of [
    [PCAP, 'pcap'],
    [PCAPNG, 'pcapng'],
  ] as const) {
    const plain = await runAll(await openCapture(tmpFile(raw)));
    const gz = gzipSync(raw);
    const src = await openCapture(tmpFile(gz));
    const got = await runAll(src);
    assert.equal(got.result.error, null);
    assert.deepEqual(got.frames, plain.frames);
    assert.equal(src.info.format, format);
    assert.equal(src.info.compressed, true);
    assert.equal(src.info.totalBytes, gz.length);
    assert.equal(src.bytesRead, gz.length);
  }
  // Concatenated gzip members (e.g. `cat a.gz b.gz`) are one stream.
  const half = Math.floor(PCAP.length / 2);
  const multi = Buffer.concat([gzipSync(PCAP.subarray(0, half)), gzipSync(PCAP.subarray(half))]);
  const got = await runAll(await openCapture(tmpFile(multi), { chunkSize: 100 }));
  assert.equal(got.result.error, null);
  assert.equal(got.frames.length, 50);
});

test('gzip: the inflated chunks follow inflateChunkSize (frames the same), default 256 KiB', async () => {
  const gz = gzipSync(PCAP);
  const plain = await runAll(await openCapture(tmpFile(PCAP)));
  // A frame's bytes sit in the inflated chunk that holds it whole, or in the parser's carry buffer (≥ 64 KiB).
  const chunkSizes = async (opts: { inflateChunkSize?: number }, stdin: boolean) => {
    const sizes = new Set<number>();
    const frames: FrameCopy[] = [];
    const src = stdin
      ? await openCapture('-', { ...opts, stdin: Readable.from([gz]) as unknown as NodeJS.ReadableStream })
      : await openCapture(tmpFile(gz), opts);
    const result = await src.run((f: RawFrame) => {
      frames.push(copyFrame(f));
      if (f.data.length < 65536) sizes.add(f.data.length);
    });
    assert.equal(result.error, null);
    assert.deepEqual(frames, plain.frames);
    return [...sizes];
  };
  for (const stdin of [false, true]) {
    const small = await chunkSizes({ inflateChunkSize: 4096 }, stdin);
    assert.ok(small.length > 0 && small.every((n) => n <= 4096), `chunks of ${small.join(', ')} bytes`);
    assert.ok((await chunkSizes({ inflateChunkSize: 1 }, stdin)).every((n) => n <= 64), 'zlib\'s minimum, 64 bytes');
    // The whole inflated capture (under 64 KiB) arrives as one chunk by default.
    assert.deepEqual(await chunkSizes({}, stdin), [PCAP.length]);
  }
});

test('cut-off gzip → TRUNCATED at the record left half-way, earlier frames delivered', async () => {
  const gz = gzipSync(PCAP, { level: 0 }); // stored blocks: the cut maps to a known decompressed position
  const got = await runAll(await openCapture(tmpFile(gz.subarray(0, Math.floor(gz.length * 0.6)))));
  assert.equal(got.result.error?.code, 'TRUNCATED');
  assert.ok(got.frames.length > 10 && got.frames.length < 50, `${got.frames.length} frames`);
  const lastEnd = got.frames.at(-1)!.fileOffset + 16 + got.frames.at(-1)!.capLength;
  assert.equal(got.result.error?.offset, lastEnd);
});

test('damaged gzip data → BAD_GZIP', async () => {
  const gz = gzipSync(PCAP);
  const bad = Buffer.from(gz);
  bad.fill(0xff, 10, 40); // clobber the start of the deflate data
  const got = await runAll(await openCapture(tmpFile(bad)));
  assert.equal(got.result.error?.code, 'BAD_GZIP');
  assert.match(got.result.error!.message, /gzip data is damaged/);
});

test('not a capture → BAD_MAGIC naming the first bytes; empty → EMPTY', async () => {
  const html = await runAll(await openCapture(tmpFile(Buffer.from('<html><head></head></html>'), 'page.html')));
  assert.equal(html.result.error?.code, 'BAD_MAGIC');
  assert.equal(html.result.error?.message, 'not a pcap or pcapng file (starts with 3c 68 74 6d)');
  assert.equal(html.result.error?.offset, 0);

  const gzText = await runAll(await openCapture(tmpFile(gzipSync(Buffer.from('hello world')))));
  assert.equal(gzText.result.error?.code, 'BAD_MAGIC');
  assert.match(gzText.result.error!.message, /^gzip-compressed, but not a pcap or pcapng file inside \(starts with 68 65 6c 6c\)/);

  const tiny = await runAll(await openCapture(tmpFile(Buffer.from([0xd4]))));
  assert.equal(tiny.result.error?.code, 'BAD_MAGIC');

  const empty = await runAll(await openCapture(tmpFile(Buffer.alloc(0))));
  assert.equal(empty.result.error?.code, 'EMPTY');
  assert.equal(empty.result.frames, 0);
  const emptyGz = await runAll(await openCapture(tmpFile(gzipSync(Buffer.alloc(0)))));
  assert.equal(emptyGz.result.error?.code, 'EMPTY');
});

test('file damage is reported with its offset and earlier frames are delivered', async () => {
  const cut = PCAP.subarray(0, PCAP.length - 5);
  const got = await runAll(await openCapture(tmpFile(cut), { chunkSize: 64 }));
  assert.equal(got.frames.length, 49);
  assert.equal(got.result.error?.code, 'TRUNCATED');
  assert.equal(got.result.error?.offset, got.frames[48]!.fileOffset + 16 + got.frames[48]!.capLength);
  assert.match(got.result.error!.oneLine(), /: input ends inside record 50 .*\(at byte \d+\)$/);
});

test('unopenable paths reject with UNREADABLE and an actionable message', async () => {
  const reject = async (path: string): Promise<CaptureError> => {
    try {
      await openCapture(path);
    } catch (e) {
      assert.ok(e instanceof CaptureError);
      assert.equal(e.code, 'UNREADABLE');
      return e;
    }
    assert.fail(`${path} opened`);
  };
  assert.equal((await reject(join(dir, 'missing.pcap'))).message, 'no such file');
  const sub = join(dir, 'adir');
  mkdirSync(sub);
  assert.equal((await reject(sub)).message, 'is a directory');
  assert.equal((await reject(join(tmpFile(PCAP), 'x'))).code, 'UNREADABLE');
});

const CHILD = fileURLToPath(new URL('./stdin-child.ts', import.meta.url));

function child(args: string[], opts: { uid?: number; gid?: number } = {}) {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['pipe', 'pipe', 'inherit'], ...opts });
}

test('permission denied → "permission denied: run as a user who can read it"', async () => {
  if (process.getuid?.() !== 0) {
    const path = tmpFile(PCAP, 'secret.pcap');
    chmodSync(path, 0o000);
    await assert.rejects(openCapture(path), { code: 'UNREADABLE', message: 'permission denied: run as a user who can read it' });
    return;
  }
  // root reads anything: ask an unprivileged child (nobody) to open it. The checkout may sit in a private (0700)
  // directory nobody cannot enter, so the child — the real openCapture — is bundled into a world-readable
  // directory of its own, beside the unreadable capture.
  const pub = mkdtempSync(join(tmpdir(), 'teardown-nobody-'));
  try {
    chmodSync(pub, 0o755);
    const bundle = join(pub, 'child.mjs');
    await build({ entryPoints: [CHILD], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'silent' });
    chmodSync(bundle, 0o644);
    const path = join(pub, 'secret.pcap');
    writeFileSync(path, PCAP);
    chmodSync(path, 0o000);
    const c = spawn(process.execPath, [bundle, path], { stdio: ['pipe', 'pipe', 'pipe'], cwd: pub, uid: 65534, gid: 65534 });
    c.stdin.end();
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => c.on('close', resolve));
    assert.equal(code, 0, out);
    assert.match(out, /^rejected UNREADABLE .*secret\.pcap: permission denied: run as a user who can read it\n$/);
  } finally {
    rmSync(pub, { recursive: true, force: true });
  }
});

test("'-' streams the real process.stdin: a frame is delivered before the writer ends", async () => {
  const c = child([]);
  let out = '';
  const lines: ((s: string) => boolean)[] = [];
  const waitFor = (re: RegExp): Promise<void> =>
    new Promise((resolve) => {
      const check = (s: string): boolean => {
        if (!re.test(s)) return false;
        resolve();
        return true;
      };
      if (!check(out)) lines.push(check);
    });
  c.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!(out)) lines.splice(i, 1);
  });
  const firstRecordEnd = 24 + 16 + FRAMES[0]!.data.length;
  c.stdin.write(PCAP.subarray(0, firstRecordEnd));
  const timeout = setTimeout(() => c.kill(), 20_000);
  await waitFor(/^frame 1 40\n/); // arrived while stdin is still open
  assert.doesNotMatch(out, /done/);
  c.stdin.end(PCAP.subarray(firstRecordEnd));
  await waitFor(/done /);
  clearTimeout(timeout);
  const summary = JSON.parse(/done (.*)\n/.exec(out)![1]!) as Record<string, unknown>;
  assert.deepEqual(summary, { frames: 50, error: null, format: 'pcap', compressed: false, bytesRead: PCAP.length });
});

test('injected stdin: byte-by-byte gzip stream, frames before the end, bytesRead grows', async () => {
  const stdin = new PassThrough();
  const src = await openCapture('-', { stdin });
  assert.equal(src.info.totalBytes, null);
  const frames: number[] = [];
  let firstSeen: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (firstSeen = resolve));
  const running = src.run((f) => {
    frames.push(f.index);
    firstSeen();
  });
  // Two gzip members (one stream): the first holds the file header and record 1 only.
  const firstRecordEnd = 24 + 16 + FRAMES[0]!.data.length;
  const m1 = gzipSync(PCAP.subarray(0, firstRecordEnd));
  const m2 = gzipSync(PCAP.subarray(firstRecordEnd));
  for (let i = 0; i < m1.length; i++) {
    stdin.write(m1.subarray(i, i + 1));
    await new Promise((r) => setImmediate(r));
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([first, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no frame before the end')), 10_000)))]);
  clearTimeout(timer);
  assert.deepEqual(frames, [1]);
  assert.equal(src.bytesRead, m1.length);
  stdin.end(m2);
  const result = await running;
  assert.equal(result.error, null);
  assert.equal(result.frames, 50);
  assert.equal(src.info.compressed, true);
  assert.equal(src.bytesRead, m1.length + m2.length);
});

test('abort stops reading: pending stdin wait and mid-stream', async () => {
  // Waiting for more input that never comes.
  const stdin = new PassThrough();
  const src = await openCapture('-', { stdin });
  const ac = new AbortController();
  stdin.write(PCAP.subarray(0, 24 + 16 + 40));
  let n = 0;
  const running = src.run(() => {
    n++;
    setTimeout(() => ac.abort(), 10);
  }, ac.signal);
  const result = await running;
  assert.equal(n, 1);
  assert.equal(result.frames, 1);
  assert.equal(result.error, null);

  // Aborted from inside the sink: no chunk after the current one is read.
  const ac2 = new AbortController();
  const src2 = await openCapture(tmpFile(PCAP), { chunkSize: 100 });
  let n2 = 0;
  const r2 = await src2.run(() => {
    if (++n2 === 3) ac2.abort();
  }, ac2.signal);
  assert.ok(r2.frames >= 3 && r2.frames < 50, `${r2.frames}`);
  assert.ok(src2.bytesRead < PCAP.length);
});

test('yields to the event loop between chunks even when data is already buffered', async () => {
  const stdin = new PassThrough({ highWaterMark: 1 << 24 });
  for (let i = 0; i < PCAP.length; i += 500) stdin.write(PCAP.subarray(i, i + 500));
  stdin.end();
  const src = await openCapture('-', { stdin });
  let ticks = 0;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    ticks++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const result = await src.run(() => undefined);
  running = false;
  assert.equal(result.frames, 50);
  const chunks = Math.ceil(PCAP.length / 500);
  assert.ok(ticks >= chunks - 2, `${ticks} event-loop turns for ${chunks} chunks`);
});

function memoryInputs(): [string, string, string] {
  const corrupt = tmpFile(Buffer.concat([PcapWriter.fileHeader(), Buffer.alloc(16, 0xff), Buffer.alloc(4 << 20)]));
  const ng = tmpFile(
    Buffer.concat([new PcapngBuilder().shb().idb(1).epb(0, 0n, payload(0, 4), { totalLength: 0xfffffff0 }).build(), Buffer.alloc(1 << 20)]),
  );
  // 64 MiB of 64 KiB records, compressed to a few hundred KB.
  const record = Buffer.alloc(16 + 65535);
  record.writeUInt32LE(65535, 8);
  record.writeUInt32LE(65535, 12);
  const gz = tmpFile(gzipSync(Buffer.concat([PcapWriter.fileHeader(), ...Array<Buffer>(1024).fill(record)]), { level: 1 }));
  return [corrupt, ng, gz];
}

test('memory stays bounded: corrupt huge lengths, and a large gzip stream is never held whole', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const retained = (): number => {
    gc();
    return process.memoryUsage().arrayBuffers;
  };
  // Built in a sync function: an async function's suspended frame can keep big temporaries alive.
  const [corruptPath, ngPath, gzPath] = memoryInputs();
  const before = retained();
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, retained() - before);
  };
  const r1 = await (await openCapture(corruptPath)).run(sample);
  assert.equal(r1.error?.code, 'BAD_RECORD');
  assert.equal(r1.error?.offset, 24);
  const r2 = await (await openCapture(ngPath)).run(sample);
  assert.equal(r2.error?.code, 'BAD_RECORD');
  let n = 0;
  const r3 = await (await openCapture(gzPath)).run(() => {
    if (++n % 64 === 0) sample();
  });
  assert.equal(r3.error, null);
  assert.equal(r3.frames, 1024);
  sample();
  assert.ok(peak < 16 << 20, `retained memory grew by ${(peak / (1 << 20)).toFixed(1)} MiB`);
});

test('run() twice is a programming error', async () => {
  const src = await openCapture(tmpFile(PCAP));
  await src.run(() => undefined);
  await assert.rejects(src.run(() => undefined), /only be called once/);
});
