import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from '../../src/ui/keymap.js';
import { follow, initialViewState, reduce } from '../../src/ui/view-state.js';
import type { NavContext, ViewState } from '../../src/ui/view-state.js';

const ctx = (o: Partial<NavContext> = {}): NavContext => ({
  count: 0, page: 10, kinds: ['all'], target: null, incarnations: { previous: null, next: null }, ...o,
});
const run = (s: ViewState, ...steps: [Command, Partial<NavContext>?][]): ViewState =>
  steps.reduce((acc, [command, c]) => reduce(acc, { type: 'command', command, ctx: ctx(c) }), s);

test('follow keeps the selection inside the list and the window around it', () => {
  assert.deepEqual(follow(5, 0, 3, 10), { selected: 2, scroll: 0 });
  assert.deepEqual(follow(12, 0, 100, 10), { selected: 12, scroll: 3 });
  assert.deepEqual(follow(2, 8, 100, 10), { selected: 2, scroll: 2 });
  assert.deepEqual(follow(0, 5, 0, 10), { selected: 0, scroll: 0 });
});

test('moving in a list: up/down, pages, top/bottom, clamped to the rows', () => {
  const s = { ...initialViewState, view: 'findings' as const };
  const list = { count: 25, page: 10 };
  let t = run(s, ['down', list], ['down', list]);
  assert.equal(t.findings.selected, 2);
  t = run(t, ['pageDown', list]);
  assert.deepEqual([t.findings.selected, t.findings.scroll], [12, 3]);
  t = run(t, ['bottom', list]);
  assert.deepEqual([t.findings.selected, t.findings.scroll], [24, 15]);
  t = run(t, ['down', list]);
  assert.equal(t.findings.selected, 24, 'no wrap past the end');
  t = run(t, ['top', list], ['up', list]);
  assert.deepEqual([t.findings.selected, t.findings.scroll], [0, 0]);
});

test('Tab and S-Tab cycle the views, skipping the connection view until one is opened', () => {
  let s = run(initialViewState, ['nextView']);
  assert.equal(s.view, 'findings');
  s = run(s, ['nextView']);
  assert.equal(s.view, 'timeline');
  s = run(s, ['nextView']);
  assert.equal(s.view, 'overview');
  s = run(s, ['prevView']);
  assert.equal(s.view, 'timeline');
  assert.equal(run(initialViewState, ['connection']).view, 'overview', 'no connection to show yet');
  s = run(s, ['findings'], ['open', { count: 1, target: { type: 'connection', id: 'c7', focus: 'rst-teardown' } }], ['overview'], ['nextView'], ['nextView']);
  assert.equal(s.view, 'connection');
  assert.equal(s.connection.id, 'c7');
});

test('Enter on a kind opens its list; Enter on a finding opens its connection; Esc/Backspace go back', () => {
  let s = run(initialViewState, ['down', { count: 3, page: 3 }], ['open', { target: { type: 'kind', kind: 'refused' } }]);
  assert.equal(s.view, 'findings');
  assert.equal(s.findings.kind, 'refused');
  assert.equal(s.findings.selected, 0);
  s = run(s, ['open', { count: 1, target: { type: 'connection', id: 'c3', focus: 'refused' } }]);
  assert.deepEqual([s.view, s.connection.id, s.connection.focus, s.connection.from], ['connection', 'c3', 'refused', 'findings']);
  s = run(s, ['back']);
  assert.equal(s.view, 'findings');
  s = run(s, ['back']);
  assert.equal(s.view, 'overview');
  assert.equal(run(s, ['back']), s, 'nothing behind the overview');
});

test('previous/next incarnation links stack up, Esc walks them back before leaving the view', () => {
  let s = run(initialViewState, ['findings'], ['open', { target: { type: 'connection', id: 'c2', focus: 'time-wait-reuse' } }]);
  s = run(s, ['previousIncarnation', { incarnations: { previous: 'c1', next: null } }]);
  assert.deepEqual([s.connection.id, s.connection.trail], ['c1', ['c2']]);
  assert.equal(s.connection.focus, null);
  const same = run(s, ['previousIncarnation', { incarnations: { previous: null, next: 'c2' } }]);
  assert.equal(same, s, 'no previous incarnation: nothing happens');
  s = run(s, ['nextIncarnation', { incarnations: { previous: null, next: 'c2' } }]);
  assert.deepEqual([s.connection.id, s.connection.trail], ['c2', ['c2', 'c1']]);
  s = run(s, ['back'], ['back']);
  assert.deepEqual([s.view, s.connection.id, s.connection.trail], ['connection', 'c2', []]);
  s = run(s, ['back']);
  assert.equal(s.view, 'findings');
});

test('kinds and sort: ←/→ wrap over the tabs, s cycles time → age → severity → server', () => {
  const kinds = { kinds: ['all', 'stuck-half-close', 'rst-teardown'] as const };
  let s = run(initialViewState, ['findings'], ['nextKind', { kinds: [...kinds.kinds] }]);
  assert.equal(s.findings.kind, 'stuck-half-close');
  s = run(s, ['prevKind', { kinds: [...kinds.kinds] }], ['prevKind', { kinds: [...kinds.kinds] }]);
  assert.equal(s.findings.kind, 'rst-teardown');
  const sorts = [];
  for (let i = 0; i < 4; i++) { s = run(s, ['sort']); sorts.push(s.findings.sort); }
  assert.deepEqual(sorts, ['age', 'severity', 'server', 'time']);
  assert.equal(run(initialViewState, ['sort']), initialViewState, 'sort only in the findings list');
});

test('filter: / starts typing, text appends and erases, Enter keeps, Esc clears; the selection restarts', () => {
  let s = run(initialViewState, ['findings'], ['down', { count: 5 }], ['filter']);
  assert.equal(s.findings.editing, true);
  s = reduce(s, { type: 'filter-text', text: '10.0' });
  s = reduce(s, { type: 'filter-text', text: '.0.9' });
  s = reduce(s, { type: 'filter-erase' });
  assert.equal(s.findings.filter, '10.0.0.');
  assert.equal(s.findings.selected, 0);
  s = reduce(s, { type: 'filter-accept' });
  assert.deepEqual([s.findings.editing, s.findings.filter], [false, '10.0.0.']);
  s = reduce(reduce(s, { type: 'command', command: 'filter', ctx: ctx() }), { type: 'filter-cancel' });
  assert.deepEqual([s.findings.editing, s.findings.filter], [false, '']);
});

test('help: ? toggles, movement scrolls the help, Esc closes it first, view keys close it', () => {
  let s = run(initialViewState, ['help']);
  assert.equal(s.help, true);
  s = run(s, ['down', { count: 50, page: 20 }], ['down', { count: 50, page: 20 }]);
  assert.equal(s.helpScroll, 2);
  assert.equal(s.overview.selected, 0, 'keys under the help do not move the view');
  s = run(s, ['back']);
  assert.deepEqual([s.help, s.view], [false, 'overview']);
  s = run(s, ['help'], ['timeline']);
  assert.deepEqual([s.help, s.view], [false, 'timeline']);
});

test('the connection view scrolls within its lines', () => {
  let s = run(initialViewState, ['open', { target: { type: 'connection', id: 'c1', focus: null } }]);
  const lines = { count: 50, page: 20 };
  s = run(s, ['pageDown', lines], ['pageDown', lines]);
  assert.equal(s.connection.scroll, 30, 'stops where the last page is full');
  s = run(s, ['up', lines]);
  assert.equal(s.connection.scroll, 29);
  s = reduce(s, { type: 'clamp', ctx: ctx({ count: 25, page: 20 }) });
  assert.equal(s.connection.scroll, 5, 'a resize or new data keeps the scroll in range');
});
