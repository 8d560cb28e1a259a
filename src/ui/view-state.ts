/**
 * What the person is looking at, as a plain reducer outside the components: the current view, selections, sort,
 * filter text and scroll positions. The App turns key presses into actions; each action carries the few facts
 * about the data it needs (list length, page height, what Enter would open), so the reducer stays pure.
 */
import type { FindingKind } from '../model/report.js';
import type { Command } from './keymap.js';

export type ViewName = 'overview' | 'findings' | 'connection' | 'timeline';
export type SortKey = 'time' | 'age' | 'severity' | 'server';
export type KindFilter = FindingKind | 'all';

export const VIEWS: readonly ViewName[] = ['overview', 'findings', 'connection', 'timeline'];
export const SORT_KEYS: readonly SortKey[] = ['time', 'age', 'severity', 'server'];

export interface ViewState {
  view: ViewName;
  help: boolean;
  /** A one-line answer to a key that could not do what it asks (shown in the footer until the next key). */
  notice: string | null;
  helpScroll: number;
  overview: { selected: number; scroll: number };
  findings: { kind: KindFilter; sort: SortKey; filter: string; editing: boolean; selected: number; scroll: number };
  connection: {
    id: string | null;
    /** The finding kind it was opened from (shown first, its evidence marked). */
    focus: FindingKind | null;
    scroll: number;
    /** Connections visited through previous/next incarnation links, for Esc. */
    trail: string[];
    /** Where Esc goes when the trail is empty. */
    from: ViewName;
  };
}

export const initialViewState: ViewState = {
  view: 'overview',
  help: false,
  notice: null,
  helpScroll: 0,
  overview: { selected: 0, scroll: 0 },
  findings: { kind: 'all', sort: 'time', filter: '', editing: false, selected: 0, scroll: 0 },
  connection: { id: null, focus: null, scroll: 0, trail: [], from: 'findings' },
};

/** What Enter opens in the current view. */
export type Target =
  | { type: 'kind'; kind: KindFilter }
  | { type: 'connection'; id: string; focus: FindingKind | null }
  | null;

/** Facts about the data on screen that navigation needs; the App computes them from the model. */
export interface NavContext {
  /** Lines (connection view) or rows (lists) in the current view. */
  count: number;
  /** Rows visible at once. */
  page: number;
  /** The kinds offered in the findings list, 'all' first. */
  kinds: readonly KindFilter[];
  target: Target;
  incarnations: { previous: string | null; next: string | null };
}

export type ViewAction =
  | { type: 'command'; command: Command; ctx: NavContext }
  | { type: 'filter-text'; text: string }
  | { type: 'filter-erase' }
  | { type: 'filter-accept' }
  | { type: 'filter-cancel' }
  /** Data or terminal size changed: keep selections and scroll inside the lists. */
  | { type: 'clamp'; ctx: NavContext };

const clampInt = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v));

/** Keep `selected` within [0, count) and the scroll window [scroll, scroll + page) around it. */
export function follow(selected: number, scroll: number, count: number, page: number): { selected: number; scroll: number } {
  const sel = clampInt(selected, 0, Math.max(0, count - 1));
  const p = Math.max(1, page);
  let top = clampInt(scroll, 0, Math.max(0, count - p));
  if (sel < top) top = sel;
  if (sel >= top + p) top = sel - p + 1;
  return { selected: sel, scroll: top };
}

function move(cur: { selected: number; scroll: number }, command: Command, ctx: NavContext): { selected: number; scroll: number } {
  const page = Math.max(1, ctx.page);
  const d: Partial<Record<Command, number>> = { up: -1, down: 1, pageUp: -page, pageDown: page, top: -Infinity, bottom: Infinity };
  const delta = d[command] ?? 0;
  const target = delta === -Infinity ? 0 : delta === Infinity ? ctx.count - 1 : cur.selected + delta;
  return follow(target, cur.scroll, ctx.count, ctx.page);
}

/** The connection view has no selection: it scrolls. */
function scrollBy(scroll: number, command: Command, ctx: NavContext): number {
  const page = Math.max(1, ctx.page);
  const max = Math.max(0, ctx.count - page);
  const d: Partial<Record<Command, number>> = { up: -1, down: 1, pageUp: -page, pageDown: page, top: -Infinity, bottom: Infinity };
  const delta = d[command] ?? 0;
  if (delta === -Infinity) return 0;
  if (delta === Infinity) return max;
  return clampInt(scroll + delta, 0, max);
}

export const NO_CONNECTION_YET = 'no connection opened yet: open one from the findings list (2, then Enter)';

function go(s: ViewState, view: ViewName): ViewState {
  if (view === 'connection' && s.connection.id === null) return { ...s, notice: NO_CONNECTION_YET };
  return { ...s, view, help: false };
}

function cycle(s: ViewState, dir: 1 | -1): ViewState {
  const views = VIEWS.filter((v) => v !== 'connection' || s.connection.id !== null);
  const i = views.indexOf(s.view);
  const next = views[(i + dir + views.length) % views.length] ?? 'overview';
  return go(s, next);
}

function openConnection(s: ViewState, id: string, focus: FindingKind | null, from: ViewName, trail: string[]): ViewState {
  return { ...s, view: 'connection', help: false, connection: { id, focus, scroll: 0, trail, from } };
}

function back(s: ViewState): ViewState {
  if (s.help) return { ...s, help: false };
  switch (s.view) {
    case 'connection': {
      const c = s.connection;
      const prev = c.trail[c.trail.length - 1];
      if (prev !== undefined) return { ...s, connection: { ...c, id: prev, scroll: 0, trail: c.trail.slice(0, -1) } };
      return { ...s, view: c.from };
    }
    case 'findings':
    case 'timeline':
      return { ...s, view: 'overview' };
    case 'overview':
      return s;
  }
}

function setKind(s: ViewState, kind: KindFilter): ViewState {
  return { ...s, findings: { ...s.findings, kind, selected: 0, scroll: 0 } };
}

function command(s: ViewState, c: Command, ctx: NavContext): ViewState {
  switch (c) {
    case 'quit':
      return s;
    case 'help':
      return { ...s, help: !s.help, helpScroll: 0 };
    case 'back':
      return back(s);
    case 'nextView':
      return cycle(s, 1);
    case 'prevView':
      return cycle(s, -1);
    case 'overview': case 'findings': case 'connection': case 'timeline':
      return go(s, c);
    default:
      break;
  }
  if (s.help) {
    const moves: readonly Command[] = ['up', 'down', 'pageUp', 'pageDown', 'top', 'bottom'];
    return moves.includes(c) ? { ...s, helpScroll: scrollBy(s.helpScroll, c, ctx) } : s;
  }
  switch (c) {
    case 'up': case 'down': case 'pageUp': case 'pageDown': case 'top': case 'bottom':
      if (s.view === 'overview') return { ...s, overview: move(s.overview, c, ctx) };
      if (s.view === 'findings') return { ...s, findings: { ...s.findings, ...move(s.findings, c, ctx) } };
      if (s.view === 'connection') return { ...s, connection: { ...s.connection, scroll: scrollBy(s.connection.scroll, c, ctx) } };
      return s;
    case 'open': {
      const t = ctx.target;
      if (t === null) return s;
      if (t.type === 'kind') return { ...setKind(s, t.kind), view: 'findings' };
      return openConnection(s, t.id, t.focus, s.view === 'connection' ? s.connection.from : s.view, []);
    }
    case 'prevKind': case 'nextKind': {
      if (s.view !== 'findings' || ctx.kinds.length === 0) return s;
      const i = Math.max(0, ctx.kinds.indexOf(s.findings.kind));
      const n = ctx.kinds.length;
      const k = ctx.kinds[(i + (c === 'nextKind' ? 1 : -1) + n) % n] ?? 'all';
      return setKind(s, k);
    }
    case 'sort': {
      if (s.view !== 'findings') return s;
      const i = SORT_KEYS.indexOf(s.findings.sort);
      return { ...s, findings: { ...s.findings, sort: SORT_KEYS[(i + 1) % SORT_KEYS.length] ?? 'time', selected: 0, scroll: 0 } };
    }
    case 'filter':
      if (s.view !== 'findings') return s;
      return { ...s, findings: { ...s.findings, editing: true } };
    case 'previousIncarnation': case 'nextIncarnation': {
      if (s.view !== 'connection' || s.connection.id === null) return s;
      const id = c === 'previousIncarnation' ? ctx.incarnations.previous : ctx.incarnations.next;
      if (id === null) return s;
      return openConnection(s, id, null, s.connection.from, [...s.connection.trail, s.connection.id]);
    }
    default:
      return s;
  }
}

export function reduce(s: ViewState, a: ViewAction): ViewState {
  switch (a.type) {
    case 'command':
      return command(s.notice === null ? s : { ...s, notice: null }, a.command, a.ctx);
    case 'filter-text':
      return { ...s, findings: { ...s.findings, filter: s.findings.filter + a.text, selected: 0, scroll: 0 } };
    case 'filter-erase':
      return { ...s, findings: { ...s.findings, filter: s.findings.filter.slice(0, -1), selected: 0, scroll: 0 } };
    case 'filter-accept':
      return { ...s, findings: { ...s.findings, editing: false } };
    case 'filter-cancel':
      return { ...s, findings: { ...s.findings, editing: false, filter: '', selected: 0, scroll: 0 } };
    case 'clamp': {
      if (s.view === 'overview') {
        const o = follow(s.overview.selected, s.overview.scroll, a.ctx.count, a.ctx.page);
        return o.selected === s.overview.selected && o.scroll === s.overview.scroll ? s : { ...s, overview: o };
      }
      if (s.view === 'findings') {
        const f = follow(s.findings.selected, s.findings.scroll, a.ctx.count, a.ctx.page);
        return f.selected === s.findings.selected && f.scroll === s.findings.scroll ? s : { ...s, findings: { ...s.findings, ...f } };
      }
      if (s.view === 'connection') {
        const scroll = clampInt(s.connection.scroll, 0, Math.max(0, a.ctx.count - Math.max(1, a.ctx.page)));
        return scroll === s.connection.scroll ? s : { ...s, connection: { ...s.connection, scroll } };
      }
      return s;
    }
  }
}
