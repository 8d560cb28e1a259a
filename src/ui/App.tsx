/**
 * The terminal UI's root: a tab line, the progress line while the capture is read, the current view's body and
 * a footer with key hints (or the filter being typed). Data comes from the store, navigation from the view-state
 * reducer, keys from the keymap table; the views only lay out lines.
 */
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { resolveFilterKey, resolveKey } from './keymap.js';
import type { KeyPress } from './keymap.js';
import { readFraction } from './model.js';
import type { UiSnapshot } from './store.js';
import { bar, bytes, clock, count, fitLine, lineWidth, padLine, seg } from './text.js';
import type { Line } from './text.js';
import { initialViewState, reduce } from './view-state.js';
import type { ViewAction, ViewName, ViewState } from './view-state.js';
import { screenFor } from './views/index.js';

export interface SnapshotSource {
  subscribe(listener: () => void): () => void;
  getSnapshot(): UiSnapshot;
}

export interface Size {
  columns: number;
  rows: number;
}

export interface AppProps {
  store: SnapshotSource;
  /** A fixed size (tests); by default the terminal's, following resizes. */
  size?: Size;
  initialState?: ViewState;
  /** Called once when the person quits (before ink unmounts). */
  onQuit?: () => void;
}

/** The terminal size, updated on resize; `fixed` wins when given. */
export function useTerminalSize(fixed?: Size): Size {
  const { stdout } = useStdout();
  const read = (): Size => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState<Size>(read);
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => { stdout.off('resize', onResize); };
  }, [stdout, fixed]);
  return fixed ?? size;
}

const TABS: readonly { view: ViewName; label: string }[] = [
  { view: 'overview', label: 'Overview' }, { view: 'findings', label: 'Findings' },
  { view: 'connection', label: 'Connection' }, { view: 'timeline', label: 'Timeline' },
];

function headerLine(snap: UiSnapshot, state: ViewState, width: number): Line {
  const line: Line = [seg(' teardown ', { bold: true, color: 'cyan' })];
  TABS.forEach((t, i) => {
    const on = !state.help && state.view === t.view;
    const extra = t.view === 'findings' ? ` ${count(snap.rows.findingCount)}` : t.view === 'connection' && state.connection.id ? ` ${state.connection.id}` : '';
    const disabled = t.view === 'connection' && state.connection.id === null;
    line.push(seg('│', { dim: true }), seg(` ${i + 1} ${t.label}${extra} `, on ? { inverse: true, bold: true } : disabled ? { dim: true } : {}));
  });
  if (state.help) line.push(seg('│', { dim: true }), seg(' ? Help ', { inverse: true, bold: true }));
  const p = snap.progress;
  const m = snap.merged;
  const status = snap.live
    ? (snap.phase === 'reading' ? '● capturing' : `capture stopped${snap.live.stoppedBy ? ` (${snap.live.stoppedBy})` : ''}`)
    : m ? `merged from ${m.folders} result folder${m.folders === 1 ? '' : 's'}${snap.error ? ' (input damaged)' : ''}`
    : snap.phase === 'reading' ? (snap.indexing ? 'indexing…' : 'reading…') : `read in ${p.elapsed.toFixed(1)} s${snap.error ? ' (input damaged)' : ''}`;
  // On a narrow terminal the status loses its words before it would be cut.
  const short = snap.live ? (snap.phase === 'reading' ? '●' : 'stopped') : m ? `${m.folders} folders` : snap.phase === 'reading' ? '…' : snap.error ? 'damaged' : `${p.elapsed.toFixed(1)} s`;
  line.push(seg(`  ${lineWidth(line) + 2 + status.length <= width ? status : short}`, snap.error ? { color: 'red' } : { dim: true }));
  return line;
}

/** The progress while reading: one line when it fits the width, else two (bar and bytes; counts and times). */
export function progressLines(snap: UiSnapshot, width: number): Line[] {
  const p = snap.progress;
  const { fraction, left } = readFraction(p.bytesRead, p.totalBytes, p.elapsed);
  const findings = p.findingsSoFar;
  const where = fraction === null ? `${snap.path === '-' ? 'stdin' : snap.path}: ${bytes(p.bytesRead)} read` : `${bytes(p.bytesRead)} of ${bytes(p.totalBytes ?? 0)}`;
  const counts = [
    `${count(p.packets)} packets`, `${count(Math.round(p.packetsPerSecond))} pkt/s`, `${clock(p.elapsed)} elapsed`,
    ...(left !== null ? [`~${clock(left)} left`] : []), `${count(findings)} finding${findings === 1 ? '' : 's'}`,
  ].join(' · ');
  const verb = snap.indexing ? 'indexing' : 'reading';
  const head = fraction === null ? ` ${verb} ` : ` ${verb} ${(fraction * 100).toFixed(1).padStart(5)}% `;
  const barOf = (w: number): Line => (fraction === null ? [] : [seg(bar(fraction, w), { color: 'cyan' }), seg(' ')]);
  const one = `${where} · ${counts}`;
  if (head.length + (fraction === null ? 0 : 21) + one.length <= width) {
    return [[seg(head, { bold: true }), ...barOf(20), seg(one)]];
  }
  const barW = Math.max(10, Math.min(40, width - head.length - where.length - 2));
  return [[seg(head, { bold: true }), ...barOf(barW), seg(where)], [seg(' '.repeat(Math.min(head.length, Math.max(1, width - counts.length)))), seg(counts)]];
}

/** Live capture: interface and filter, then packets, rate, drops, connections ended, findings and time. */
export function liveLines(snap: UiSnapshot, width: number): Line[] {
  const h = snap.live;
  if (!h) return [];
  const p = snap.progress;
  const packets = Math.max(h.packets, p.packets);
  const findings = Math.max(h.findings, p.findingsSoFar, snap.rows.findingCount);
  const where: Line = [
    seg(snap.phase === 'reading' ? ' live ' : ' stopped ', { bold: true, inverse: true, color: snap.phase === 'reading' ? 'green' : 'yellow' }),
    seg(` ${h.interface}`, { bold: true }),
    seg(`  filter: `, { dim: true }), seg(h.filter || '(none)', h.filter ? { color: 'yellow' } : { dim: true }),
  ];
  const counts = [
    `${count(packets)} packets`, `${count(Math.round(h.rate))} pkt/s`, `drops ${h.drops === null ? 'n/a' : `${h.dropsSource === 'estimate' ? '~' : ''}${count(h.drops)}`}`,
    `${count(Math.max(h.connectionsEnded, p.connections))} ended`, `${count(findings)} finding${findings === 1 ? '' : 's'}`,
    `${clock(h.elapsedSeconds)}`,
  ].join(' · ');
  const whereWidth = where.reduce((a, x) => a + x.t.length, 0);
  if (whereWidth + 3 + counts.length <= width) return [[...where, seg(' · ', { dim: true }), seg(counts)]];
  return [where, [seg(` ${counts}`)]];
}

/** One character of a multi-character read as ink would have reported it alone. */
export function charKey(ch: string): [string, KeyPress] {
  if (ch === '\r' || ch === '\n') return ['', { return: true }];
  if (ch === '\t') return ['', { tab: true }];
  if (ch === '\x7f') return ['', { delete: true }];
  if (ch === '\b') return ['', { backspace: true }];
  const code = ch.charCodeAt(0);
  if (code < 0x20) return [String.fromCharCode(code + 96), { ctrl: true }];
  return [ch, { shift: ch !== ch.toLowerCase() }];
}

function LineView({ line }: { line: Line }) {
  if (line.length === 0) return <Text> </Text>;
  return (
    <Text wrap="truncate-end">
      {line.map((s, i) => (
        <Text key={i} color={s.color} bold={s.bold} dimColor={s.dim} inverse={s.inverse}>{s.t}</Text>
      ))}
    </Text>
  );
}

export function App({ store, size, initialState, onQuit }: AppProps) {
  const snap = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const { columns, rows } = useTerminalSize(size);
  const { exit } = useApp();
  // State lives in a ref too, so several keys arriving in one read each see the previous key's effect.
  const [state, setState] = useState<ViewState>(initialState ?? initialViewState);
  const stateRef = useRef(state);
  const snapRef = useRef(snap);
  snapRef.current = snap;
  const quitting = useRef(false);

  // The last terminal row stays empty: ink then redraws in place instead of clearing the screen.
  const height = Math.max(3, rows - 1);
  const width = Math.max(20, columns);
  const progress = snap.live ? liveLines(snap, width) : snap.phase === 'reading' ? progressLines(snap, width) : [];
  const bodyHeight = Math.max(1, height - 2 - progress.length);

  const screenOf = useCallback((s: ViewState) => screenFor({ snap: snapRef.current, state: s, width, height: bodyHeight }), [width, bodyHeight]);
  const screen = useMemo(() => screenFor({ snap, state, width, height: bodyHeight }), [snap, state, width, bodyHeight]);

  const dispatch = useCallback((a: ViewAction) => {
    const next = reduce(stateRef.current, a);
    if (next !== stateRef.current) { stateRef.current = next; setState(next); }
  }, []);

  // New data or a new size: keep selections and scroll inside the lists.
  useEffect(() => { dispatch({ type: 'clamp', ctx: screen.nav }); }, [screen.nav.count, screen.nav.page, dispatch]);

  const quit = useCallback(() => {
    if (quitting.current) return;
    quitting.current = true;
    onQuit?.();
    exit();
  }, [exit, onQuit]);

  const onKey = (input: string, key: KeyPress): void => {
    const s = stateRef.current;
    if (s.findings.editing && s.view === 'findings' && !s.help) {
      const k = resolveFilterKey(input, key);
      if (k === null) return;
      if ('text' in k) return dispatch({ type: 'filter-text', text: k.text });
      if ('move' in k) return dispatch({ type: 'command', command: k.move, ctx: screenOf(s).nav });
      switch (k.command) {
        case 'quit': return quit();
        case 'filterAccept': return dispatch({ type: 'filter-accept' });
        case 'filterCancel': return dispatch({ type: 'filter-cancel' });
        case 'filterErase': return dispatch({ type: 'filter-erase' });
      }
    }
    const command = resolveKey(input, key);
    if (command === null) return;
    if (command === 'quit') return quit();
    dispatch({ type: 'command', command, ctx: screenOf(s).nav });
  };

  useInput((input: string, key: KeyPress) => {
    // Keys typed faster than they are read (a held j, tmux send-keys, a paste) arrive as one string: one key per
    // character, so that '/' then text then Enter does what it would do typed slowly.
    const named = Object.entries(key).some(([k, v]) => v === true && k !== 'shift');
    if (input.length > 1 && !named) {
      for (const ch of input) onKey(...charKey(ch));
      return;
    }
    onKey(input, key);
  });

  const footer: Line = state.notice !== null
    ? [seg(` ${state.notice}`, { color: 'yellow', bold: true })]
    : state.findings.editing && state.view === 'findings' && !state.help
    ? [seg(' / ', { inverse: true, bold: true }), seg(` ${state.findings.filter}`, { color: 'yellow', bold: true }), seg('▏', { color: 'yellow' }), seg(`   ${screen.hints}`, { dim: true })]
    : [seg(` ${screen.hints}`, { dim: true })];

  const body = screen.lines.slice(0, bodyHeight);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <LineView line={padLine(headerLine(snap, state, width), width)} />
      {progress.map((l, i) => <LineView key={`p${i}`} line={fitLine(l, width)} />)}
      <Box flexDirection="column" height={bodyHeight}>
        {body.map((l, i) => <LineView key={i} line={fitLine(l, width)} />)}
      </Box>
      <LineView line={fitLine(footer, width)} />
    </Box>
  );
}
