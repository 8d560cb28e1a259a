/** Output chunks (text, or UTF-8 bytes) as one string. */
export function joined(chunks: Iterable<string | Uint8Array>): string {
  return Buffer.concat([...chunks].map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c))).toString('utf8');
}

/** joined() of chunks that may hold promises to wait for (jsonSpoolChunksAside), as the CLI's writer waits for them. */
export async function joinedAwaiting(chunks: Iterable<string | Uint8Array | Promise<void>>): Promise<string> {
  const parts: Buffer[] = [];
  for (const c of chunks) {
    if (c instanceof Promise) await c;
    else parts.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c));
  }
  return Buffer.concat(parts).toString('utf8');
}
