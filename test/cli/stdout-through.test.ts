/**
 * StopControls.out() says whether stdout is done with the bytes it was given: `analyze --json` reuses its 1 MiB
 * output buffers only then (OutChunks). Into a file every write goes through at once (true: the buffers are
 * reused, which saved ~2.5 s of CPU on the bench capture); into a pipe nobody reads yet, the rest of a large chunk
 * waits (false: that buffer is left alone).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'td-stdout-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes 4 chunks of 1 MiB through StopControls.out(); says on stderr what each call returned. */
const SCRIPT = `
import { stopControls } from './src/cli/stop.ts';
const io = stopControls();
const said = [];
for (let i = 0; i < 4; i++) said.push(io.out(Buffer.alloc(1 << 20, 0x61 + i)));
process.stderr.write(JSON.stringify(said) + '\\n');
io.release();
`;
const args = ['--import', 'tsx', '--input-type=module', '-e', SCRIPT];

test('stdout into a file: every write is through at once (the buffer may be reused)', () => {
  const file = join(dir, 'out');
  const fd = openSync(file, 'w');
  let r;
  try {
    r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
  } finally {
    closeSync(fd);
  }
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stderr.trim()), [true, true, true, true]);
  const bytes = readFileSync(file);
  assert.equal(bytes.length, 4 << 20);
  for (let i = 0; i < 4; i++) assert.equal(bytes[(i << 20) + 12345], 0x61 + i);
});

test('stdout into a pipe not read yet: a 1 MiB write is not through (the buffer is left alone)', async () => {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  // Nothing is read until the child has said what out() returned: the pipe (64 KiB) fills on the first write.
  child.stdout.pause();
  await new Promise<void>((resolve) => { const look = (): void => { if (err.includes('\n')) resolve(); else setTimeout(look, 20); }; look(); });
  const parts: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => parts.push(d));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, err);
  assert.deepEqual(JSON.parse(err.trim()), [false, false, false, false]);
  assert.equal(Buffer.concat(parts).length, 4 << 20);
});
