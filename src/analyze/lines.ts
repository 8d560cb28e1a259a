import { readSync } from 'node:fs';
import type { Span } from './spill.js';

/**
 * The lines of an open file read in order, a megabyte at a time: each as a span of the read buffer without its
 * newline (bytes valid until the next; the span object is reused), a line cut by a read joined as bytes first, and
 * a last line without a newline given too.
 */
export function* lineSpans(fd: number): Generator<Span & { buf: Buffer }> {
  let buf = Buffer.allocUnsafe(1 << 20);
  const span = { buf, at: 0, end: 0 };
  let kept = 0;
  let pos = 0;
  for (;;) {
    if (kept === buf.length) {
      const grown = Buffer.allocUnsafe(2 * buf.length);
      buf.copy(grown, 0, 0, kept);
      buf = grown;
    }
    const n = readSync(fd, buf, kept, buf.length - kept, pos);
    if (n <= 0) break;
    pos += n;
    const end = kept + n;
    let at = 0;
    for (let nl = buf.indexOf(0x0a, at); nl >= 0 && nl < end; nl = buf.indexOf(0x0a, at)) {
      span.buf = buf; span.at = at; span.end = nl;
      yield span;
      at = nl + 1;
    }
    // The part of a line not read whole yet moves to the front.
    buf.copy(buf, 0, at, end);
    kept = end - at;
  }
  if (kept > 0) { span.buf = buf; span.at = 0; span.end = kept; yield span; }
}
