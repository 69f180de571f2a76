// Row selection of a windowed list: click selects one row, Ctrl/⌘-click and
// the checkbox toggle one, Shift-click selects the range from the last
// clicked row.
//
// "Select all N matching" is a selection by query: the page keeps the query
// and the ids unticked since (except), never the matching ids — at a million
// sessions those took seconds to fetch and hundreds of MB to hold. The Go
// side resolves {query, except} against its index when it summarizes or ends
// the selection (SummarizeMatching, TerminateMatching). A Shift-click range
// is ids either way, fetched (bounded) only for rows the page has not loaded.

/** What a selection stands for, as the Go side takes it. */
export type SelectionTarget<Q> = { ids: string[] } | { query: Q; except: string[] };

export class Selection<Q = unknown> {
  /** The rows chosen one by one (when query is null). */
  ids: Set<string> = $state.raw(new Set());
  /** "All matching": the query, or null when the selection is ids. */
  query: Q | null = $state.raw(null);
  /** With a query: the matching rows unticked since. */
  except: Set<string> = $state.raw(new Set());
  #anchor = -1;

  /** Whether the selection is "all matching" (a query). */
  get all() {
    return this.query !== null;
  }

  /** Nothing chosen, by hand or by query. */
  get empty() {
    return this.query === null && this.ids.size === 0;
  }

  /**
   * How many rows are selected, given total, the rows the list's query
   * matches now. (With a query, a row unticked that has since stopped
   * matching still counts as left out until the Go side resolves it: its
   * summary is exact.)
   */
  count(total: number) {
    return this.query !== null ? Math.max(0, total - this.except.size) : this.ids.size;
  }

  has(id: string) {
    return this.query !== null ? !this.except.has(id) : this.ids.has(id);
  }

  clear() {
    this.ids = new Set();
    this.query = null;
    this.except = new Set();
    this.#anchor = -1;
  }

  /** Selects exactly these ids. */
  set(ids: Iterable<string>) {
    this.query = null;
    this.except = new Set();
    this.ids = new Set(ids);
  }

  /** "Select all N matching": every row matching query, whatever it will be when acted on. */
  selectMatching(query: Q) {
    this.ids = new Set();
    this.except = new Set();
    this.query = query;
  }

  toggle(id: string, index: number) {
    if (this.query !== null) {
      this.except = flip(this.except, id);
    } else {
      this.ids = flip(this.ids, id);
    }
    this.#anchor = index;
  }

  only(id: string, index: number) {
    this.set([id]);
    this.#anchor = index;
  }

  /**
   * Selects the rows from the anchor to index. idAt answers loaded rows; for
   * a range reaching rows not loaded, idsIn(lo, hi) gives the ids of rows lo
   * to hi in the list's order (bounded on the Go side). With a query the
   * range ticks its rows again (they leave except).
   */
  async range(index: number, idAt: (i: number) => string | undefined, idsIn: (lo: number, hi: number) => Promise<string[]>) {
    const a = this.#anchor < 0 ? index : this.#anchor;
    const [lo, hi] = a <= index ? [a, index] : [index, a];
    let ids: string[] = [];
    let missing = false;
    for (let i = lo; i <= hi; i++) {
      const id = idAt(i);
      if (id === undefined) {
        missing = true;
        break;
      }
      ids.push(id);
    }
    if (missing) ids = await idsIn(lo, hi);
    if (this.query !== null) {
      const next = new Set(this.except);
      for (const id of ids) next.delete(id);
      this.except = next;
    } else {
      this.ids = new Set([...this.ids, ...ids]);
    }
  }

  /** What to summarize or end: the query and its exceptions, or the ids. */
  target(): SelectionTarget<Q> {
    return this.query !== null ? { query: this.query, except: [...this.except] } : { ids: [...this.ids] };
  }
}

function flip(s: Set<string>, id: string): Set<string> {
  const next = new Set(s);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}
