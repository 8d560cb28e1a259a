/** Output chunks (text, or UTF-8 bytes) as one string. */
export function joined(chunks: Iterable<string | Uint8Array>): string {
  return Buffer.concat([...chunks].map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c))).toString('utf8');
}
