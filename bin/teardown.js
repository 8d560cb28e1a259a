#!/usr/bin/env node
// V8's default young generation (16 MiB semi-spaces): since connection state lives in pooled typed-array rows, a
// larger one (--max-semi-space-size=32 or 64) no longer pays on the bench capture: 64 cost 200 MiB more peak RSS and
// no less CPU; 32 cost ~80 MiB for at most 1–2 s less CPU (bench/README.md). A user's own flag is passed on.
//
// Memory: the flow table is bounded (--max-connections, default in src/analyze/session.ts) and V8's old space is
// sized to hold it, so the process stays within 1 GiB. A heap limit can only be set when node starts: unless
// the user chose one (--max-old-space-size in NODE_OPTIONS or on node's command line), this runs the CLI again in
// a child node with the limit, passing signals on and ending the same way the child did.
//
// glibc's malloc: the child runs with its mmap threshold fixed at glibc's default, 128 KiB (MALLOC_MMAP_THRESHOLD_,
// unless the user set it). Left dynamic, the threshold rises after the first large buffer is freed, and from then on
// the spill buffers and the analysis threads' batch buffers (a MiB each, handed to the reader and back) come from the
// threads' malloc arenas, which keep what was freed. On the bench capture with two threads that was 55-90 MiB of peak
// RSS while every batch had a fresh buffer (bench/README.md), 10-40 MiB since they are handed back and reused, for
// ~0.7 s more system CPU (fresh pages for each buffer).
import { spawn } from 'node:child_process';

const OLD_SPACE_MB = 1536;
const MMAP_THRESHOLD = String(128 << 10);
const chosen = (s) => /--max-old-space-size/.test(s);

if (chosen(process.env.NODE_OPTIONS ?? '') || process.execArgv.some(chosen)) {
  await import('../dist/cli/main.js');
} else {
  const child = spawn(process.execPath, [...process.execArgv, `--max-old-space-size=${OLD_SPACE_MB}`, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? MMAP_THRESHOLD },
  });
  // A terminal's Ctrl-C reaches both processes (one process group): the child decides. A signal sent to this
  // process alone (kill PID) is passed on.
  const pass = (sig) => { if (child.exitCode === null && child.signalCode === null) child.kill(sig); };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { if (sig !== 'SIGINT') pass(sig); });
  child.on('error', (e) => { process.stderr.write(`teardown: cannot start node: ${e.message}\n`); process.exit(2); });
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(sig);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 2);
  });
}
