import { connectionScreen } from './connection.js';
import { findingsScreen } from './findings.js';
import { helpScreen } from './help.js';
import { overviewScreen } from './overview.js';
import { timelineScreen } from './timeline.js';
import type { Screen, ScreenInput } from './common.js';

export type { Screen, ScreenInput } from './common.js';

/** The body of the current view (or the help over it), built at exactly `width` × `height`. */
export function screenFor(input: ScreenInput): Screen {
  if (input.state.help) return helpScreen(input);
  switch (input.state.view) {
    case 'overview': return overviewScreen(input);
    case 'findings': return findingsScreen(input);
    case 'connection': return connectionScreen(input);
    case 'timeline': return timelineScreen(input);
  }
}
