import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lineSpans } from '../../src/analyze/lines.js';

test('lineSpans: every line in order, across reads, longer than a read, empty, and a last one without its newline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'td-lines-'));
  try {
    // Lines of varied lengths that cross the 1 MiB reads, one of 2.5 MiB (the buffer grows), empty ones, no final newline.
    const want: string[] = [];
    for (let i = 0; i < 30_000; i++) want.push(`${i}:${'x'.repeat((i * 37) % 91)}`);
    want.splice(12_345, 0, 'y'.repeat(2_500_000), '', '');
    want.push('last');
    const file = join(dir, 'rows');
    writeFileSync(file, want.join('\n'));
    const fd = openSync(file, 'r');
    const got: string[] = [];
    for (const s of lineSpans(fd)) got.push(s.buf.toString('latin1', s.at, s.end));
    closeSync(fd);
    assert.equal(got.length, want.length);
    assert.deepEqual(got, want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
