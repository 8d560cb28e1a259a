/**
 * decodeFrame without the TCP options (what the reader of `--threads N` needs to pick a thread): on every frame of
 * every fixture, the same status and the same fields as a full decode, the option fields reset.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCapture } from '../../src/capture/open.js';
import { decodeFrame } from '../../src/decode/decode.js';
import { newTcpPacket, type TcpPacket } from '../../src/decode/packet.js';
import { fixtureCaptures } from '../helpers/fixture-captures.js';

const OPTION_FIELDS = new Set(['mss', 'wscale', 'sackPermitted', 'hasTs', 'tsVal', 'tsEcr', 'sackCount', 'auth', 'sack']);

const plain = (p: TcpPacket): Record<string, unknown> =>
  Object.fromEntries(Object.entries(p).filter(([k]) => !OPTION_FIELDS.has(k)).map(([k, v]) => [k, ArrayBuffer.isView(v) ? [...(v as Uint32Array)] : v]));

test('decodeFrame(…, false): every status and non-option field as a full decode, the options left unread', async () => {
  const full = newTcpPacket();
  const bare = newTcpPacket();
  const fresh = newTcpPacket();
  let withOptions = 0;
  let frames = 0;
  for (const path of fixtureCaptures()) {
    const src = await openCapture(path);
    await src.run((f) => {
      frames++;
      const a = decodeFrame(f, full);
      const b = decodeFrame(f, bare, false);
      assert.equal(b, a, `${path} frame ${f.index}: status`);
      if (a !== 'ok') return;
      assert.deepEqual(plain(bare), plain(full), `${path} frame ${f.index}`);
      if (full.mss !== -1 || full.hasTs || full.sackPermitted) withOptions++;
      for (const k of ['mss', 'wscale', 'sackPermitted', 'hasTs', 'tsVal', 'tsEcr', 'sackCount', 'auth'] as const) {
        assert.equal(bare[k], fresh[k], `${path} frame ${f.index}: ${k} unread`);
      }
    });
  }
  assert.ok(withOptions > 100, `${withOptions} of ${frames} segments carry options`);
});
