import { openCapture } from '../../src/capture/open.js';
import { decodeFrame } from '../../src/decode/decode.js';
import { newTcpPacket } from '../../src/decode/packet.js';
import type { Connection } from '../../src/tcp/connection.js';
import { FlowTable } from '../../src/tcp/flow-table.js';

/** Every connection of a capture as the flow table judges it (a snapshot of its state at each judgement). */
export async function judgedConnections(path: string, each: (c: Connection) => void): Promise<void> {
  const table = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 100_000 },
    (c) => { each(c); return []; });
  const p = newTcpPacket();
  let n = 0;
  let t = 0;
  const src = await openCapture(path);
  await src.run((f) => {
    if (decodeFrame(f, p) !== 'ok') return;
    t = f.tsSec + f.tsNsec * 1e-9;
    table.ingest(p, f.index, t);
    if (++n % 50 === 0) table.sweep(t);
  });
  table.flushAll(t);
}
