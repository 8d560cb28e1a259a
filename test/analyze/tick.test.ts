import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AnalysisSession } from '../../src/analyze/session.js';
import type { Finding } from '../../src/model/report.js';
import { Conversation } from '../helpers/conversation.js';

describe('live aging', () => {
  test('tick() looks at the half-closes whose time came, not at every open connection', () => {
    const t0 = 1_700_000_000;
    const first = new Conversation({ t0, cport: 1024 });
    first.handshake();
    // 3000 established connections, idle: no tick has anything to do with them.
    for (let i = 1; i < 3000; i++) first.sibling({ t0: t0 + i * 1e-4, cport: 1024 + i }).handshake();
    // One half-close: the client's FIN acknowledged at t0 + 1, the server silent after it.
    const half = first.sibling({ t0: t0 + 1, cport: 50000 });
    half.handshake();
    half.c('F.');
    half.s('.');
    const frames = first.rawFrames().sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
    const found: { f: Finding; at: number }[] = [];
    let now = 0;
    const s = new AnalysisSession({ halfCloseTimeout: 30 }, { onFinding: (f) => found.push({ f, at: now }) });
    for (const f of frames) s.ingest(f);
    for (let k = 2; k <= 100; k++) { now = t0 + k; s.tick(now); }
    assert.equal(s.held.connections, 3001);
    // Announced once, at the first tick 30 s after the FIN's ACK (and the server's last segment).
    assert.equal(found.length, 1);
    assert.equal(found[0]!.f.kind, 'stuck-half-close');
    assert.equal(found[0]!.at, t0 + 32);
    // A pass over the open connections per tick would examine 3001 × 99; the deadline, one.
    assert.ok(s.tickVisits <= 3, `${s.tickVisits} connections examined by 99 ticks`);
  });

  test('a half-close that ends in a close lets go of its deadline (the heap does not hold closed connections for --half-close-timeout)', () => {
    const t0 = 1_700_000_000;
    const s = new AnalysisSession({ halfCloseTimeout: 60 });
    s.tick(t0); // live: half-closes are watched from the first tick on
    // 6000 connections closed in four steps: the client's FIN acknowledged (a half-close: its deadline is set), then
    // the server's FIN and the last ACK a few milliseconds later. One more stays half-closed.
    const first = new Conversation({ t0: t0 + 0.5, cport: 1024 });
    const closing = (cv: Conversation): void => { cv.handshake(); cv.c('F.'); cv.s('.'); cv.s('F.'); cv.c('.'); };
    closing(first);
    for (let i = 1; i < 6000; i++) closing(first.sibling({ t0: t0 + 0.5 + i * 1e-4, cport: 1024 + i }));
    const half = first.sibling({ t0: t0 + 1, cport: 50000 });
    half.handshake();
    half.c('F.');
    half.s('.');
    const frames = first.rawFrames().sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
    for (const f of frames) s.ingest(f);
    // Without the cancel, 6001 live deadlines a minute long; cancelled ones go at the heap's next compaction (4096).
    assert.ok(s.clockEntries < 4096, `${s.clockEntries} deadlines held for 1 half-close still open`);
    const found: Finding[] = [];
    const watched = new AnalysisSession({ halfCloseTimeout: 60 }, { onFinding: (f) => found.push(f) });
    watched.tick(t0);
    for (const f of frames) watched.ingest(f);
    for (let k = 2; k <= 70; k++) watched.tick(t0 + k);
    // The half-close still open is announced on the clock, once.
    assert.deepEqual(found.filter((f) => f.details.stuck === true).map((f) => f.kind), ['stuck-half-close']);
  });
});
