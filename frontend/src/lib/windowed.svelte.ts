// A list too long to hold in the page: rows are fetched from the Go side in
// fixed blocks, only for the window the user is looking at. The scroller is
// sized from `total`, so 100,000 rows cost as much as 30.
//
// Every reload bumps a generation; answers from an older generation are
// dropped, so a slow reply to an old search can never overwrite a newer one.
import { toUIError, type UIError } from './model';
import { rowId } from './rowkeys';

export interface PageLike<T> {
  items: T[];
  total: number;
  offline: boolean;
  snapshotAt?: string | null;
}

export type Fetcher<P> = (offset: number, limit: number) => Promise<P>;

// A block is what one keystroke's answer carries. 50 rows fill a tall
// window with its overscan. Every new search sends the first block again,
// and the rows' JSON is most of the round trip: at 100,000 sessions a
// List answered in 8-9 ms with 100 rows, 4-5.5 ms with 50, 2 ms with one
// (docs/bench.md, "The keystroke's answer, half as long").
export const BLOCK = 50;
// Blocks kept beyond the visible ones before the farthest are evicted
// (4,000 rows).
const MAX_BLOCKS = 80;
const MAX_INFLIGHT = 2;

export class WindowedList<T, P extends PageLike<T> = PageLike<T>> {
  /** Rows matching the current query, as the Go side last reported. */
  total = $state(0);
  /** The most recent page: carries offline, snapshotAt and counters. */
  page: P | null = $state.raw(null);
  /** True once the first answer for the current query arrived. */
  loaded = $state(false);
  error: UIError | null = $state.raw(null);
  /** Bumped when the query changes (not on a mere refresh): the table scrolls back to the top. */
  queryVersion = $state(0);

  #blocks: Map<number, T[]> = $state.raw(new Map());
  #fetch: Fetcher<P>;
  #onPage?: (p: P) => void;
  #gen = 0;
  #inflight = new Set<number>();
  #forced = new Set<number>();
  #first = 0;
  #last = 0;
  #waiters: (() => void)[] = [];

  constructor(fetch: Fetcher<P>, onPage?: (p: P) => void) {
    this.#fetch = fetch;
    this.#onPage = onPage;
  }

  /** The row at index i, or undefined while its block is loading. */
  row(i: number): T | undefined {
    return this.#blocks.get(Math.floor(i / BLOCK))?.[i % BLOCK];
  }

  /** Tells the list which rows are on screen (inclusive); fetches what is missing. */
  setRange(first: number, last: number) {
    this.#first = Math.max(0, first);
    this.#last = Math.max(this.#first, last);
    this.#ensure(false);
  }

  /**
   * Fetches the visible window again, for a new query (pass its fetcher) or
   * because the data changed. Rows on screen stay until their fresh block
   * arrives, so a refresh never flashes empty. The promise settles once
   * the first answer of this (or a later) reload is in, failed or not.
   */
  reload(fetch?: Fetcher<P>): Promise<void> {
    const settled = new Promise<void>((resolve) => this.#waiters.push(resolve));
    if (fetch) {
      // A new query starts at the top (the table scrolls there too).
      this.#fetch = fetch;
      this.queryVersion++;
      this.#last -= this.#first;
      this.#first = 0;
    }
    this.#gen++;
    this.#inflight.clear();
    this.#forced.clear();
    const [a, b] = this.#blockRange();
    const kept = new Map<number, T[]>();
    for (const [k, v] of this.#blocks) if (k >= a && k <= b) kept.set(k, v);
    this.#blocks = kept;
    this.#ensure(true);
    return settled;
  }

  #settle() {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }

  #blockRange(): [number, number] {
    let last = this.#last;
    if (this.loaded) last = Math.min(last, Math.max(0, this.total - 1));
    return [Math.floor(this.#first / BLOCK), Math.floor(last / BLOCK)];
  }

  #ensure(force: boolean) {
    if (force) {
      const [a, b] = this.#blockRange();
      for (let k = a; k <= b; k++) this.#forced.add(k);
    }
    this.#pump();
  }

  // At most MAX_INFLIGHT requests at a time, always for blocks in view at the
  // moment a slot frees: dragging the scrollbar across 100,000 rows does not
  // queue a request per block passed, and the window the user stops on is
  // filled next.
  #pump() {
    const [a, b] = this.#blockRange();
    const gen = this.#gen;
    for (let k = a; k <= b && this.#inflight.size < MAX_INFLIGHT; k++) {
      if (this.#inflight.has(k)) continue;
      if (this.#blocks.has(k) && !this.#forced.has(k)) continue;
      this.#forced.delete(k);
      this.#inflight.add(k);
      this.#fetch(k * BLOCK, BLOCK).then(
        (p) => {
          if (gen !== this.#gen) return; // stale: a newer query or refresh owns the table
          this.#inflight.delete(k);
          this.#store(k, p.items ?? []);
          this.total = p.total;
          this.page = p;
          this.loaded = true;
          this.error = null;
          this.#onPage?.(p);
          this.#settle();
          // Next: what is in view now (the total may also have grown into it).
          this.#pump();
        },
        (e) => {
          if (gen !== this.#gen) return;
          this.#inflight.delete(k);
          this.error = toUIError(e);
          this.#settle();
        },
      );
    }
  }

  #store(k: number, items: T[]) {
    const next = new Map(this.#blocks);
    // A row may come back a few places up or down (a session above it
    // ended or matched no longer): look in the blocks either side too.
    const near = [k - 1, k, k + 1].flatMap((b) => this.#blocks.get(b) ?? []);
    next.set(k, keepSame(near, this.#blocks.get(k), items));
    if (next.size > MAX_BLOCKS) {
      const [a, b] = this.#blockRange();
      const far = [...next.keys()]
        .filter((x) => x < a || x > b)
        .sort((x, y) => Math.abs(y - a) - Math.abs(x - a));
      for (const x of far.slice(0, next.size - MAX_BLOCKS)) next.delete(x);
    }
    this.#blocks = next;
  }
}

// keepSame returns fresh with each row that equals one already held
// replaced by that old object: the row of the same id (rowId) among near,
// else, for a row without one, the row at its place in the block before
// (was). A keystroke whose first window holds the rows already shown, also
// shifted (the first letters of a search match nearly every row; "us"
// after "u" drops the admin's own sessions, whose device "Sessions Desk …
// on Linux" has a "u"), or a refresh after a sync
// that changed rows out of view, then hands the table the same objects: a
// row's derived value does not change, so none of its cells runs again.
// Ten keystrokes at 100,000 sessions spent 92-112 ms in Svelte's flush
// without this, 65-90 ms with rows kept by place; on a freshly seeded
// platform, 77-128 ms by place and 54-82 ms by id (docs/bench.md).
function keepSame<T>(near: readonly T[], was: readonly T[] | undefined, fresh: T[]): T[] {
  if (near.length === 0) return fresh;
  const byId = new Map<string, T>();
  for (const row of near) {
    const id = rowId(row);
    if (id !== undefined) byId.set(id, row);
  }
  return fresh.map((row, j) => {
    const id = rowId(row);
    const old = id !== undefined ? byId.get(id) : was?.[j];
    return old !== undefined && sameJSON(old, row) ? old : row;
  });
}

/** Whether a and b hold the same JSON value (what the bindings send: no undefined, no cycles). */
export function sameJSON(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJSON(a[i], b[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    if (!Object.hasOwn(y, k) || !sameJSON(x[k], y[k])) return false;
    n++;
  }
  return n === Object.keys(y).length;
}
