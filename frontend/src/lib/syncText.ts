// Words for the sync's progress. The platform's lists carry no total count,
// so a first sync says how many rows arrived so far, not "n of m", unless
// the Go side ever reports a total.
import type { SyncStatus } from './model';

/** Rows received per list during the sync shown (the status's `done` resets per phase). */
export interface SyncCounts {
  sessions: number;
  devices: number;
}

const n = (x: number) => x.toLocaleString();

function soFar(done: number, total: number): string {
  return total > 0 ? `${n(done)} of ${n(total)}` : `${n(done)} so far`;
}

/** The header's line while a sync runs. */
export function syncLabel(s: SyncStatus): string {
  switch (s.phase) {
    case 'sessions':
      return `Syncing sessions… ${s.total > 0 ? soFar(s.done, s.total) : n(s.done)}`;
    case 'devices':
      return `Syncing devices… ${s.total > 0 ? soFar(s.done, s.total) : n(s.done)}`;
    case 'audit':
      return 'Syncing the audit log…';
    case 'saving':
      return 'Saving to the offline cache…';
    default:
      return 'Syncing…';
  }
}

/**
 * What an empty list shows before the first sync wrote anything: progress
 * while it runs, "nothing cached yet" when it cannot run. null once a sync
 * completed: then an empty list really is empty.
 */
export function firstSyncText(
  kind: keyof SyncCounts,
  s: SyncStatus | null,
  counts: SyncCounts,
  offline: boolean,
): string | null {
  if (s?.lastSyncAt) return null;
  const label = kind === 'sessions' ? 'sessions' : 'devices';
  if (s && !s.syncing && (offline || s.lastError)) {
    return `Nothing cached yet: ${label} appear after the first sync with the platform.`;
  }
  if (!s || !s.syncing) return `Loading ${label}…`;
  if (s.phase === kind) return `Loading ${label}… ${soFar(s.done, s.total)}`;
  const got = counts[kind];
  const order = ['sessions', 'devices', 'audit', 'saving'];
  if (order.indexOf(s.phase) < order.indexOf(kind)) return `Loading ${label}…`;
  return `Loading ${label}… ${n(got)} received; ${s.phase === 'saving' ? 'saving them to the offline cache' : 'reading the rest'}…`;
}
