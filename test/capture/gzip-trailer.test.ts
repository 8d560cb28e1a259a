/**
 * A gzip capture whose trailer (CRC32/ISIZE) is damaged still inflates completely: every packet `gzip -dc`
 * recovers is read, and the damage is a warning, not an error. From a file and from standard input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { openCapture } from '../../src/capture/open.js';
import { PcapParser } from '../../src/capture/pcap.js';

const dir = mkdtempSync(join(tmpdir(), 'teardown-gzip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A real capture's records repeated 40 times (33,800 packets, ~5 MB inflated): the trailer arrives long after
// the first inflated chunks, as in a large capture.
const real = readFileSync(fileURLToPath(new URL('../../fixtures/tw-reuse-lower-isn.pcap', import.meta.url)));
const body = real.subarray(24);
const PCAP = Buffer.concat([real.subarray(0, 24), ...Array<Buffer>(40).fill(body)]);

function countPackets(bytes: Buffer): number {
  const p = new PcapParser('x');
  let n = 0;
  p.push(bytes, () => { n++; });
  p.end();
  return n;
}

function damaged(which: 'crc' | 'isize'): Buffer {
  const gz = Buffer.from(gzipSync(PCAP, { level: 6 }));
  gz[gz.length - (which === 'crc' ? 8 : 2)]! ^= 0x5a;
  return gz;
}

for (const which of ['crc', 'isize'] as const) {
  test(`damaged gzip trailer (${which}): every packet gzip -dc recovers is read, one warning, no error`, async () => {
    const gz = damaged(which);
    const path = join(dir, `${which}.pcap.gz`);
    writeFileSync(path, gz);
    // What gzip itself recovers (it complains and exits non-zero, but writes all the data).
    const g = spawnSync('gzip', ['-dc', path], { maxBuffer: 64 << 20 });
    assert.notEqual(g.status, 0);
    const recovered = countPackets(g.stdout);
    assert.equal(recovered, 33_800);

    for (const from of ['file', 'stdin'] as const) {
      let stdin: PassThrough | undefined;
      if (from === 'stdin') {
        stdin = new PassThrough();
        // Dribbled in small pieces: the held-back trailer spans chunk boundaries.
        let off = 0;
        const pump = (): void => {
          if (off >= gz.length) { stdin!.end(); return; }
          stdin!.write(gz.subarray(off, off + 4093));
          off += 4093;
          setImmediate(pump);
        };
        pump();
      }
      const src = await openCapture(from === 'file' ? path : '-', { stdin });
      let n = 0;
      const r = await src.run(() => { n++; });
      assert.equal(r.error, null, `${from}: ${r.error?.oneLine()}`);
      assert.equal(n, recovered, from);
      assert.equal(r.frames, recovered);
      assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings));
      assert.match(r.warnings[0]!, /^gzip trailer is damaged \(incorrect (data|length) check\)/);
    }
  });
}

test('an intact gzip capture reads without warnings; a cut one still reports TRUNCATED after its packets', async () => {
  const gz = gzipSync(PCAP, { level: 6 });
  const ok = join(dir, 'ok.pcap.gz');
  writeFileSync(ok, gz);
  const r = await (await openCapture(ok)).run(() => undefined);
  assert.deepEqual([r.error, r.frames, r.warnings], [null, 33_800, []]);
  for (const cut of [3, 8, 9, 1000]) {
    const p = join(dir, `cut${cut}.pcap.gz`);
    writeFileSync(p, gz.subarray(0, gz.length - cut));
    let n = 0;
    const c = await (await openCapture(p)).run(() => { n++; });
    assert.ok(c.error !== null, `cut ${cut}: an error`);
    assert.match(c.error.code, /TRUNCATED|BAD_GZIP/);
    // Cutting only trailer bytes loses no packet.
    if (cut <= 8) assert.equal(n, 33_800, `cut ${cut}`);
    else assert.ok(n > 30_000, `cut ${cut}: ${n}`);
  }
});
