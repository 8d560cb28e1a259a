/**
 * One analysis thread of `--threads N` (src/analyze/parallel.ts): reads frames from its ring and runs its Lane
 * (src/analyze/lane.ts) over them, posting the lane's batches and, at the end, its end message.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { Lane, LaneStop, type LaneInput } from './lane.js';
import { heapGuard } from './memory.js';
import { RingReader, type RingBuffers } from './ring.js';
import { useTempRoot } from './temp-dir.js';

export interface WorkerInput extends LaneInput {
  ring: RingBuffers;
  /** Where the reader hands each batch's buffer back once it has read it (SpoolBatch.recycle()). */
  back: MessagePort;
  /** The directory this thread makes its temporary files in (the reader removes it), or null: the OS's. */
  tempRoot: string | null;
}

function main(): void {
  const input = workerData as WorkerInput;
  const port = parentPort;
  if (port === null) return;
  if (input.tempRoot !== null) useTempRoot(input.tempRoot);
  const lane = new Lane(input, (msg) => port.postMessage(msg, [msg.bytes, msg.meta.buffer as ArrayBuffer, msg.opens.buffer as ArrayBuffer]),
    // The thread never waits on its event loop: buffers handed back are picked up before each batch.
    () => receiveMessageOnPort(input.back)?.message as ArrayBuffer | undefined, heapGuard());
  const reader = new RingReader(input.ring);
  const end = reader.run((frame) => lane.frame(frame), (tsSec, tsNsec) => lane.boundary(tsSec, tsNsec));
  port.postMessage(lane.end(end.tsSec, end.tsNsec));
}

try {
  main();
} catch (e) {
  // A lane that stopped says why, then the ring is failed; the reader decides what to do.
  if (e instanceof LaneStop) parentPort?.postMessage(e.stop);
  new RingReader((workerData as WorkerInput).ring).fail();
  if (!(e instanceof LaneStop)) throw e;
}
