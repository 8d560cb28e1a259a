/** Every capture under fixtures/ (the project's own and the field corpus), sorted, as absolute paths. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export function fixtureCaptures(dir: string = FIXTURES): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...fixtureCaptures(p));
    else if (/\.(pcap|pcapng|cap)(\.gz)?$/.test(name)) out.push(p);
  }
  return out;
}
