/**
 * Child process for open.test.ts: reads a capture from its real process.stdin ('-') and reports each frame on
 * stdout as it arrives, then a summary line. With an argument, opens that path instead (permission tests).
 */
import { openCapture } from '../../src/capture/open.js';
import { CaptureError } from '../../src/capture/types.js';

const path = process.argv[2] ?? '-';
try {
  const src = await openCapture(path);
  const r = await src.run((f) => {
    process.stdout.write(`frame ${f.index} ${f.capLength}\n`);
  });
  const summary = {
    frames: r.frames,
    error: r.error?.code ?? null,
    format: src.info.format,
    compressed: src.info.compressed,
    bytesRead: src.bytesRead,
  };
  process.stdout.write(`done ${JSON.stringify(summary)}\n`);
} catch (e) {
  if (!(e instanceof CaptureError)) throw e;
  process.stdout.write(`rejected ${e.code} ${e.oneLine()}\n`);
}
