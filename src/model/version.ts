import { readFileSync } from 'node:fs';

/**
 * The program's version, as `teardown --version` and the report's `tool.version` show it: package.json's, read once.
 * The file is two folders up from this module both in src/model/ (tsx) and in dist/model/ (the build).
 */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
