/**
 * A private tmux server for the end-to-end terminal tests: one session, its screen, keys, and a wait for the screen
 * to show something (generous bounds: a loaded machine must not fail a test by slowness).
 */
import { spawnSync } from 'node:child_process';

export const HAVE_TMUX = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
export const NO_TMUX = 'tmux is not installed (CI installs it): the end-to-end terminal test needs it';

export interface Tmux {
  tmux(...args: string[]): string;
  pane(): string;
  keys(...k: string[]): string;
  waitFor(what: string, ok: (screen: string) => boolean, ms?: number): Promise<string>;
  /** Ends the server and whatever still runs in it. */
  kill(): void;
}

export function tmuxServer(server: string, session: string): Tmux {
  const tmux = (...args: string[]): string => {
    const r = spawnSync('tmux', ['-L', server, ...args], { encoding: 'utf8', timeout: 5000 });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr || r.error?.message}`);
    return r.stdout;
  };
  const pane = () => tmux('capture-pane', '-p', '-t', session);
  return {
    tmux,
    pane,
    keys: (...k: string[]) => tmux('send-keys', '-t', session, ...k),
    async waitFor(what, ok, ms = 60_000) {
      const until = Date.now() + ms;
      for (;;) {
        const s = pane();
        if (ok(s)) return s;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}; the pane shows:\n${s}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    kill() {
      if (HAVE_TMUX) spawnSync('tmux', ['-L', server, 'kill-server'], { timeout: 5000 });
    },
  };
}
