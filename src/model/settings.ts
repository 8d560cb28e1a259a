import type { Settings } from './report.js';

/** Analysis settings when no flag or expectation file says otherwise. */
export const DEFAULT_SETTINGS: Settings = {
  halfCloseTimeout: 60, timeWait: 60, timeWaitProfile: 'linux', idleSplit: 300, flowKey: 'tuple',
};

/** TIME_WAIT lengths per OS profile, seconds (docs/rules.md §6.4 table). */
export const TIME_WAIT_PROFILES: Record<string, number> = { linux: 60, freebsd: 60, macos: 30, windows: 240, rfc: 240 };
