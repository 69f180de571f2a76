import { describe, expect, it } from 'vitest';
import { SyncFeed } from './syncFeed.svelte';
import type { SyncStatus } from './model';

const t0 = Date.parse('2026-12-05T07:00:00Z');
const at = (min: number) => new Date(t0 + min * 60_000).toISOString();

function status(over: Partial<SyncStatus>): SyncStatus {
  return {
    online: true,
    syncing: false,
    lastSyncAt: null,
    lastError: '',
    phase: '',
    done: 0,
    total: 0,
    live: false,
    lastEventAt: null,
    liveNote: '',
    clockOffsetMs: 0,
    intervalSeconds: 30,
    ...over,
  };
}

/** A reload of the rows that the test finishes by hand. */
function rows() {
  const calls: Array<() => void> = [];
  const load = () => new Promise<void>((r) => calls.push(r));
  return { load, calls };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('SyncFeed', () => {
  it('shows the first status at once', () => {
    const r = rows();
    const feed = new SyncFeed(r.load);
    feed.offer(status({ lastSyncAt: at(0) }));
    expect(feed.status?.lastSyncAt).toBe(at(0));
    expect(r.calls).toHaveLength(0);
  });

  it('ignores a stale status that arrives after a newer one', async () => {
    const feed = new SyncFeed(() => Promise.resolve());
    feed.offer(status({ lastSyncAt: at(5), live: true }));
    // A SyncNow answer taken mid-sync, before the sync at 5 completed.
    feed.offer(status({ lastSyncAt: at(1), syncing: true, phase: 'sessions', done: 40 }));
    await settle();
    expect(feed.status?.lastSyncAt).toBe(at(5));
    expect(feed.status?.syncing).toBe(false);
    expect(feed.counts.sessions).toBe(0);
  });

  it('holds a newly completed sync until its rows are loaded, and a stale one cannot jump in meanwhile', async () => {
    const r = rows();
    const seen: Array<string | null | undefined> = [];
    const feed = new SyncFeed(r.load, (s) => seen.push(s.lastSyncAt));
    feed.offer(status({ lastSyncAt: at(0) }));
    feed.offer(status({ lastSyncAt: at(3) }));
    await settle();
    expect(feed.status?.lastSyncAt).toBe(at(0)); // rows of the sync at 3 not on screen yet
    expect(r.calls).toHaveLength(1);
    // Older than the one waiting: dropped, though newer than the one shown.
    feed.offer(status({ lastSyncAt: at(2) }));
    r.calls[0]();
    await settle();
    expect(feed.status?.lastSyncAt).toBe(at(3));
    expect(seen).toEqual([at(0), at(3)]);
  });

  it('lets every status of the same completed sync wait for one reload, and shows the last of them', async () => {
    const r = rows();
    const feed = new SyncFeed(r.load);
    feed.offer(status({ lastSyncAt: at(0) }));
    feed.offer(status({ lastSyncAt: at(4) }));
    feed.offer(status({ lastSyncAt: at(4), syncing: true, phase: 'sessions', done: 7 }));
    expect(r.calls).toHaveLength(1);
    r.calls[0]();
    await settle();
    expect(feed.status?.syncing).toBe(true);
    expect(feed.status?.done).toBe(7);
  });

  it('never shows a held status once a newer one came after it', async () => {
    const r = rows();
    const feed = new SyncFeed(r.load);
    feed.offer(status({ lastSyncAt: at(0) }));
    feed.offer(status({ lastSyncAt: at(3) }));
    feed.offer(status({ lastSyncAt: at(4) }));
    expect(r.calls).toHaveLength(2);
    r.calls[0](); // the rows of the sync at 3 arrive: that status is already overtaken
    await settle();
    expect(feed.status?.lastSyncAt).toBe(at(0));
    r.calls[1]();
    await settle();
    expect(feed.status?.lastSyncAt).toBe(at(4));
  });

  it('counts rows per list while a sync runs and forgets them when it ends', () => {
    const feed = new SyncFeed(() => Promise.resolve());
    feed.offer(status({ syncing: true, phase: 'sessions', done: 300 }));
    feed.offer(status({ syncing: true, phase: 'devices', done: 20 }));
    expect(feed.counts).toEqual({ sessions: 300, devices: 20 });
    feed.offer(status({ syncing: true, phase: 'audit' }));
    expect(feed.counts).toEqual({ sessions: 300, devices: 20 });
    feed.offer(status({ lastSyncAt: null, syncing: false }));
    expect(feed.counts).toEqual({ sessions: 0, devices: 0 });
  });

  it('counts only the statuses it shows: the next sync, held behind a completed one, leaves the counts alone', async () => {
    const r = rows();
    const feed = new SyncFeed(r.load);
    feed.offer(status({ syncing: true, phase: 'sessions', done: 1_000_001 }));
    feed.offer(status({ syncing: true, phase: 'saving' }));
    // The first sync completed, and the live stream's catch-up sync began:
    // both wait for the rows of the first.
    feed.offer(status({ lastSyncAt: at(2) }));
    feed.offer(status({ lastSyncAt: at(2), syncing: true, phase: 'sessions', done: 1 }));
    expect(feed.status?.phase).toBe('saving');
    expect(feed.counts.sessions).toBe(1_000_001);
    r.calls[0]();
    await settle();
    expect(feed.status?.done).toBe(1);
    expect(feed.counts.sessions).toBe(1);
  });

  it('stops waiting for rows that take too long', async () => {
    const r = rows();
    const feed = new SyncFeed(r.load, () => {}, 10);
    feed.offer(status({ lastSyncAt: at(0) }));
    feed.offer(status({ lastSyncAt: at(1) }));
    await new Promise((res) => setTimeout(res, 30));
    expect(feed.status?.lastSyncAt).toBe(at(1));
  });
});
