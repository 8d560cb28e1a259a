/**
 * Every output shown in README.md comes from the real command. A fenced block right after a marker line
 *
 *   <!-- output: npx teardown analyze fixtures/x.pcap --text -->
 *
 * holds what that command prints on standard output (with `2>&1`, standard error too; with a final `| tail -N`, its
 * last N lines), run from the repository root. `npm run readme` rewrites the blocks; `npm run readme -- --check` (and test/readme.test.ts) fails
 * when the README and the program disagree.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const README = `${ROOT}README.md`;

export interface OutputBlock {
  command: string;
  /** The block's text as it stands in the README (between the fences, with its final newline). */
  shown: string;
  /** Offsets of that text in the README. */
  start: number;
  end: number;
}

const MARKER = /^<!-- output: (.+?) -->\n```[a-z]*\n/gm;

/** The marked output blocks of a README text, in order. */
export function outputBlocks(text: string): OutputBlock[] {
  const out: OutputBlock[] = [];
  for (const m of text.matchAll(MARKER)) {
    const start = m.index + m[0].length;
    const close = text.indexOf('\n```\n', start - 1);
    if (close < 0) throw new Error(`README: the block after '${m[1]}' is not closed`);
    out.push({ command: m[1]!, shown: text.slice(start, close + 1), start, end: close + 1 });
  }
  return out;
}

/** Splits a command line as a POSIX shell would for the plain words and single or double quotes used here. */
export function words(command: string): string[] {
  const out: string[] = [];
  for (const m of command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** Runs `npx teardown …` as the README shows it, from the repository root, and returns what it printed. */
export function run(command: string): string {
  const w = words(command);
  let tail: number | null = null;
  if (w.length > 2 && w[w.length - 2] === '|' && w[w.length - 1] === 'tail') throw new Error(`README: tail needs -N: ${command}`);
  if (w.length > 3 && w[w.length - 3] === '|' && w[w.length - 2] === 'tail' && /^-\d+$/.test(w[w.length - 1]!)) {
    tail = Number(w[w.length - 1]!.slice(1));
    w.splice(-3);
  }
  const merge = w[w.length - 1] === '2>&1';
  if (merge) w.pop();
  if (w[0] !== 'npx' || w[1] !== 'teardown') throw new Error(`README: an output block's command must start with 'npx teardown': ${command}`);
  const env = { ...process.env };
  delete env.CI; // the output a person sees; the commands shown never open the interactive view (stdout is a pipe)
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...w.slice(2)], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  const out = merge ? r.stdout + r.stderr : r.stdout;
  if (tail === null) return out;
  const lines = out.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-tail).map((l) => `${l}\n`).join('');
}

/** The README with every marked block replaced by its command's output. */
export function regenerate(text: string): string {
  let out = '';
  let at = 0;
  for (const b of outputBlocks(text)) {
    out += text.slice(at, b.start) + run(b.command);
    at = b.end;
  }
  return out + text.slice(at);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = readFileSync(README, 'utf8');
  const fresh = regenerate(text);
  if (process.argv.includes('--check')) {
    if (fresh !== text) {
      process.stderr.write('README.md: an output block differs from what its command prints now; run npm run readme\n');
      process.exitCode = 1;
    }
  } else if (fresh !== text) {
    writeFileSync(README, fresh);
    process.stdout.write(`README.md: ${outputBlocks(text).length} output blocks regenerated\n`);
  } else {
    process.stdout.write('README.md: up to date\n');
  }
}
