// The order in which sync statuses reach the screen. Statuses come from
// events and from call results (SyncNow, SyncStatus) over different paths,
// so an older one can arrive last: a SyncNow answer taken mid-sync after the
// event that says the sync ended. The feed drops such a stale status, and
// holds a status that tells of a newly completed sync until the rows that
// sync wrote are on screen: otherwise "Synced just now", or an empty list
// (its lastSyncAt ends the first-sync text), stands over a table whose first
// window is still being fetched.
import type { SyncStatus } from './model';
import type { SyncCounts } from './messages';
import { toMillis } from './format';

export class SyncFeed {
  /** The status on screen; null until the first one arrived. */
  status: SyncStatus | null = $state(null);
  /** Rows received per list during the running sync, for the first-sync text. */
  counts: SyncCounts = $state({ sessions: 0, devices: 0 });

  // The reload that the rows of the sync completed at `at` wait for.
  #rowsFor: { at: string; loaded: Promise<unknown> } | null = null;
  // Bumped per accepted status: a held one shows only if none came after it.
  #gen = 0;

  readonly #loadRows: () => Promise<unknown>;
  readonly #shown: (s: SyncStatus, prev: SyncStatus | null) => void;
  readonly #maxWaitMs: number;

  /**
   * loadRows reloads the rows a completed sync wrote; shown hears every
   * status put on screen, with the one it replaced. A reload that takes
   * longer than maxWaitMs no longer holds the status back.
   */
  constructor(loadRows: () => Promise<unknown>, shown: (s: SyncStatus, prev: SyncStatus | null) => void = () => {}, maxWaitMs = 5_000) {
    this.#loadRows = loadRows;
    this.#shown = shown;
    this.#maxWaitMs = maxWaitMs;
  }

  /** Offers a status, from an event or a call's result. */
  offer(s: SyncStatus): void {
    // One that saw an older sync than the status shown, or than the one
    // waiting for its rows, is stale.
    const newest = Math.max(toMillis(this.status?.lastSyncAt) ?? 0, toMillis(this.#rowsFor?.at) ?? 0);
    if (this.status && (toMillis(s.lastSyncAt) ?? 0) < newest) return;
    const gen = ++this.#gen;
    const at = s.lastSyncAt;
    if (!this.status || !at || at === this.status.lastSyncAt) {
      this.#show(s);
      return;
    }
    // That status may be the sync's last one or already the first of the
    // next sync (the live stream asks for one right after the first full
    // sync), so every status with that lastSyncAt waits for the same reload.
    if (this.#rowsFor?.at !== at) {
      const timeout = new Promise((r) => setTimeout(r, this.#maxWaitMs));
      this.#rowsFor = { at, loaded: Promise.race([this.#loadRows(), timeout]) };
    }
    this.#rowsFor.loaded.then(() => {
      if (gen === this.#gen) this.#show(s);
    });
  }

  #show(s: SyncStatus) {
    const prev = this.status;
    this.status = s;
    // Counted here, with the status they go with: a held status may be the
    // next sync's first ("sessions", done 1), and counted on arrival it put
    // "1 received; saving them to the offline cache" under the saving status
    // of a first sync that had received 1,000,001.
    if (s.syncing && (s.phase === 'sessions' || s.phase === 'devices')) this.counts[s.phase] = s.done;
    if (!s.syncing) this.counts = { sessions: 0, devices: 0 };
    this.#shown(s, prev);
  }
}
