/**
 * The keys, as data: the App resolves key presses through this table and the `?` help screen is rendered from it,
 * so the help can never disagree with what the keys do.
 */

export type Command =
  | 'up' | 'down' | 'pageUp' | 'pageDown' | 'top' | 'bottom'
  | 'open' | 'back' | 'nextView' | 'prevView'
  | 'overview' | 'findings' | 'connection' | 'timeline'
  | 'prevKind' | 'nextKind' | 'sort' | 'filter'
  | 'previousIncarnation' | 'nextIncarnation'
  | 'help' | 'quit';

/** While the `/` filter is being typed, keys edit it (printable keys are text, not commands). */
export type FilterCommand = 'filterAccept' | 'filterCancel' | 'filterErase';

/** The subset of ink's Key that the table matches on. */
export interface KeyPress {
  upArrow?: boolean; downArrow?: boolean; leftArrow?: boolean; rightArrow?: boolean;
  pageUp?: boolean; pageDown?: boolean; home?: boolean; end?: boolean;
  return?: boolean; escape?: boolean; tab?: boolean; shift?: boolean;
  backspace?: boolean; delete?: boolean; ctrl?: boolean; meta?: boolean;
}

type NamedKey = 'upArrow' | 'downArrow' | 'leftArrow' | 'rightArrow' | 'pageUp' | 'pageDown' | 'home' | 'end'
  | 'return' | 'escape' | 'tab' | 'backspace' | 'delete';

/** One key: a named key (with or without shift) or a typed character (with or without ctrl). */
export interface KeySpec {
  key?: NamedKey;
  input?: string;
  ctrl?: boolean;
  shift?: boolean;
}

export type Where = 'everywhere' | 'lists' | 'overview' | 'findings' | 'connection';

export interface Binding<C extends string = Command> {
  command: C;
  keys: KeySpec[];
  /** How the help screen names the keys. */
  label: string;
  help: string;
  where: Where;
}

export const KEYMAP: readonly Binding[] = [
  { command: 'up', keys: [{ key: 'upArrow' }, { input: 'k' }], label: '↑ k', help: 'move up (scroll in the connection view)', where: 'lists' },
  { command: 'down', keys: [{ key: 'downArrow' }, { input: 'j' }], label: '↓ j', help: 'move down', where: 'lists' },
  { command: 'pageUp', keys: [{ key: 'pageUp' }, { input: 'b', ctrl: true }, { input: 'u', ctrl: true }], label: 'PgUp ^B', help: 'page up', where: 'lists' },
  { command: 'pageDown', keys: [{ key: 'pageDown' }, { input: 'f', ctrl: true }, { input: 'd', ctrl: true }, { input: ' ' }], label: 'PgDn ^F Space', help: 'page down', where: 'lists' },
  { command: 'top', keys: [{ key: 'home' }, { input: 'g' }], label: 'Home g', help: 'first line', where: 'lists' },
  { command: 'bottom', keys: [{ key: 'end' }, { input: 'G' }], label: 'End G', help: 'last line', where: 'lists' },
  { command: 'open', keys: [{ key: 'return' }], label: 'Enter', help: 'open: a finding kind (overview), a finding\'s connection (findings)', where: 'lists' },
  { command: 'back', keys: [{ key: 'escape' }, { key: 'backspace' }, { key: 'delete' }], label: 'Esc ⌫', help: 'back (closes help)', where: 'everywhere' },
  { command: 'nextView', keys: [{ key: 'tab' }], label: 'Tab', help: 'next view: overview → findings → connection → timeline', where: 'everywhere' },
  { command: 'prevView', keys: [{ key: 'tab', shift: true }], label: 'S-Tab', help: 'previous view', where: 'everywhere' },
  { command: 'overview', keys: [{ input: '1' }], label: '1', help: 'overview', where: 'everywhere' },
  { command: 'findings', keys: [{ input: '2' }], label: '2', help: 'findings list', where: 'everywhere' },
  { command: 'connection', keys: [{ input: '3' }], label: '3', help: 'connection detail (the last one opened)', where: 'everywhere' },
  { command: 'timeline', keys: [{ input: '4' }], label: '4', help: 'timeline', where: 'everywhere' },
  { command: 'prevKind', keys: [{ key: 'leftArrow' }, { input: 'h' }], label: '← h', help: 'previous finding kind', where: 'findings' },
  { command: 'nextKind', keys: [{ key: 'rightArrow' }, { input: 'l' }], label: '→ l', help: 'next finding kind', where: 'findings' },
  { command: 'sort', keys: [{ input: 's' }], label: 's', help: 'sort by time, age (how long half-closed; else the connection\'s lifetime), severity, server', where: 'findings' },
  { command: 'filter', keys: [{ input: '/' }], label: '/', help: 'filter by address, port or text (Enter keeps it, Esc clears it)', where: 'findings' },
  { command: 'previousIncarnation', keys: [{ input: 'p' }], label: 'p', help: 'previous incarnation on the same 4-tuple', where: 'connection' },
  { command: 'nextIncarnation', keys: [{ input: 'n' }], label: 'n', help: 'next incarnation on the same 4-tuple', where: 'connection' },
  { command: 'help', keys: [{ input: '?' }], label: '?', help: 'this help', where: 'everywhere' },
  { command: 'quit', keys: [{ input: 'q' }, { input: 'c', ctrl: true }], label: 'q ^C', help: 'quit (restores the terminal)', where: 'everywhere' },
];

export const FILTER_KEYMAP: readonly Binding<FilterCommand | 'quit'>[] = [
  { command: 'filterAccept', keys: [{ key: 'return' }], label: 'Enter', help: 'keep the filter', where: 'findings' },
  { command: 'filterCancel', keys: [{ key: 'escape' }], label: 'Esc', help: 'clear the filter', where: 'findings' },
  { command: 'filterErase', keys: [{ key: 'backspace' }, { key: 'delete' }], label: '⌫', help: 'erase a character', where: 'findings' },
  { command: 'quit', keys: [{ input: 'c', ctrl: true }], label: '^C', help: 'quit', where: 'everywhere' },
];

function matches(spec: KeySpec, input: string, key: KeyPress): boolean {
  if (spec.key !== undefined) {
    if (key[spec.key] !== true) return false;
    return (spec.shift ?? false) === (key.shift ?? false) || spec.key !== 'tab';
  }
  if (spec.input === undefined || input !== spec.input) return false;
  return (spec.ctrl ?? false) === (key.ctrl ?? false);
}

function lookup<C extends string>(table: readonly Binding<C>[], input: string, key: KeyPress): C | null {
  for (const b of table) for (const k of b.keys) if (matches(k, input, key)) return b.command;
  return null;
}

export function resolveKey(input: string, key: KeyPress): Command | null {
  return lookup(KEYMAP, input, key);
}

export type FilterKey = { command: FilterCommand | 'quit' } | { text: string } | null;

/** Keys while the filter is being typed: editing commands, or text to append. Arrows still move the selection. */
export function resolveFilterKey(input: string, key: KeyPress): FilterKey | { move: Command } {
  const c = lookup(FILTER_KEYMAP, input, key);
  if (c !== null) return { command: c };
  if (key.upArrow) return { move: 'up' };
  if (key.downArrow) return { move: 'down' };
  if (key.ctrl || key.meta || key.tab || input.length === 0) return null;
  // Printable text only (a paste arrives as one string).
  const text = input.replace(/[\x00-\x1f\x7f]/g, '');
  return text ? { text } : null;
}

export const WHERE_TITLES: Record<Where, string> = {
  everywhere: 'Everywhere', lists: 'Lists and scrolling', overview: 'Overview', findings: 'Findings list', connection: 'Connection detail',
};
