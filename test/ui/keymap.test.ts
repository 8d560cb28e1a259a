import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FILTER_KEYMAP, KEYMAP, resolveFilterKey, resolveKey } from '../../src/ui/keymap.js';
import type { KeyPress, KeySpec } from '../../src/ui/keymap.js';
import { helpLines } from '../../src/ui/views/help.js';

const press = (k: KeySpec): [string, KeyPress] => [k.input ?? '', { ...(k.key ? { [k.key]: true } : {}), ...(k.ctrl ? { ctrl: true } : {}), ...(k.shift ? { shift: true } : {}) }];

test('every key in the table resolves to its own command (no binding shadows another)', () => {
  for (const b of KEYMAP) for (const k of b.keys) assert.equal(resolveKey(...press(k)), b.command, `${b.label} → ${b.command}`);
});

test('the keys the issue asks for', () => {
  assert.equal(resolveKey('', { upArrow: true }), 'up');
  assert.equal(resolveKey('k', {}), 'up');
  assert.equal(resolveKey('j', {}), 'down');
  assert.equal(resolveKey('', { return: true }), 'open');
  assert.equal(resolveKey('', { escape: true, meta: true }), 'back');
  assert.equal(resolveKey('', { delete: true }), 'back', 'Backspace arrives as DEL (0x7f) on most terminals');
  assert.equal(resolveKey('', { tab: true }), 'nextView');
  assert.equal(resolveKey('', { tab: true, shift: true }), 'prevView');
  assert.equal(resolveKey('/', {}), 'filter');
  assert.equal(resolveKey('?', {}), 'help');
  assert.equal(resolveKey('q', {}), 'quit');
  assert.equal(resolveKey('c', { ctrl: true }), 'quit');
  assert.equal(resolveKey('c', {}), null);
  assert.equal(resolveKey('G', { shift: true }), 'bottom');
});

test('while typing a filter: text is text (q too), Enter/Esc/Backspace edit, arrows still move, Ctrl-C quits', () => {
  assert.deepEqual(resolveFilterKey('q', {}), { text: 'q' });
  assert.deepEqual(resolveFilterKey('10.0.0.1:80', {}), { text: '10.0.0.1:80' }, 'a paste arrives whole');
  assert.deepEqual(resolveFilterKey('', { return: true }), { command: 'filterAccept' });
  assert.deepEqual(resolveFilterKey('', { escape: true }), { command: 'filterCancel' });
  assert.deepEqual(resolveFilterKey('', { delete: true }), { command: 'filterErase' });
  assert.deepEqual(resolveFilterKey('', { downArrow: true }), { move: 'down' });
  assert.deepEqual(resolveFilterKey('c', { ctrl: true }), { command: 'quit' });
  assert.equal(resolveFilterKey('', { tab: true }), null);
});

test('the help is rendered from the table: every binding, label and text', () => {
  const text = helpLines(200).map((l) => l.map((s) => s.t).join('')).join('\n');
  for (const b of [...KEYMAP, ...FILTER_KEYMAP]) {
    assert.ok(text.includes(b.label), b.label);
    assert.ok(text.includes(b.help), b.help);
  }
});
