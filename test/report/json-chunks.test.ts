import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReportSpool } from '../../src/analyze/spool.js';
import { streamAnalysis } from '../../src/analyze/stream.js';
import { openCapture } from '../../src/capture/open.js';
import { OutChunks, jsonSpoolChunks } from '../../src/report/json.js';
import { joined } from '../helpers/chunks.js';
import { FIXTURES } from '../helpers/fixture-captures.js';

test('--json reuses its output buffers once they are written: the same bytes, two buffers, not one per chunk', async () => {
  // The fixture with the longest report (150 KB with every ladder), in chunks of 16 KB (1 MiB in the CLI): a fresh
  // buffer per chunk cost the CLI ~2 s of a 550 MB report (page faults, the allocator handing memory back), more than
  // copying into it. Its longest line is 3.3 KB: every chunk fits its buffer.
  const path = join(FIXTURES, 'port-reuse-narrow-range.pcap');
  const once = async (): Promise<{ spool: ReportSpool; report: Awaited<ReturnType<typeof streamAnalysis>>['report'] }> => {
    const spool = new ReportSpool({ json: true, ladders: 'all' });
    const { report } = await streamAnalysis(await openCapture(path), { sink: {}, packetTickSeconds: null, spool });
    return { spool, report };
  };
  const a = await once();
  const b = await once();
  try {
    const expected = joined(jsonSpoolChunks(a.report, a.spool, new OutChunks()));
    const chunks = new OutChunks(16_384);
    const buffers = new Set<ArrayBufferLike>();
    const parts: Buffer[] = [];
    let byteChunks = 0;
    for (const c of jsonSpoolChunks(b.report, b.spool, chunks)) {
      if (typeof c === 'string') { parts.push(Buffer.from(c, 'utf8')); continue; }
      byteChunks++;
      buffers.add(c.buffer);
      parts.push(Buffer.from(c)); // written (a copy here), then given back as the CLI's stdout does
      chunks.give(c);
      chunks.give(c); // again: ignored
    }
    assert.equal(Buffer.concat(parts).toString('utf8'), expected);
    assert.ok(byteChunks >= 6, `${byteChunks} byte chunks`);
    // One list's buffer is taken while the previous list's last chunk is still out: at most two at once.
    assert.ok(buffers.size <= 2, `${buffers.size} buffers for ${byteChunks} chunks`);
    // A chunk not given back is never handed out again.
    const held = new OutChunks(16_384);
    const first = held.take();
    assert.notEqual(held.take().buffer, first.buffer);
    held.give(Buffer.alloc(10)); // not one of its own: ignored
    assert.notEqual(held.take().buffer, first.buffer);
  } finally {
    a.spool.close();
    b.spool.close();
  }
});
