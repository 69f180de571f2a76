// The keys a virtual table's rows are rendered under. A row keeps its key
// (and so its DOM, and the focus in it) for as long as its id is in view,
// wherever it moves: a session removed above a focused Terminate button
// must not hand that button to the next session. A row that comes into
// view takes the key of one that left it, so the table updates that row's
// cells instead of building a new row: a new search replaces every row in
// view, and building ~20 rows of the sessions table was the largest part
// of the page's script for such a keystroke (docs/bench.md, "Rows reused
// across a search").
// The row holding the focus is never handed to another: it is left to go.

/**
 * A row's identity: its id, which sessions, devices and audit events have
 * as a string; undefined for a row without one. The table keys its rows by
 * it, and the windowed list finds by it the rows that came back unchanged.
 */
export function rowId(row: unknown): string | undefined {
  const id = row !== null && typeof row === 'object' ? (row as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : undefined;
}

export interface KeyedRow {
  i: number;
  key: string;
}

export class RowKeys {
  #byId = new Map<string, string>(); // what the last assign gave, in order
  #at = new Map<number, string>(); // row index → key, of the last assign
  #fresh = 0;

  /**
   * Keys for the rows first, first+1, … whose ids are ids ('' while a row
   * is loading: it is keyed by its position). focused is the index of the
   * row holding the focus, if one does.
   */
  assign(first: number, ids: readonly string[], focused = -1): KeyedRow[] {
    const out: KeyedRow[] = [];
    const byId = new Map<string, string>();
    const at = new Map<number, string>();
    const taken = new Set<string>();
    const pending: number[] = [];
    ids.forEach((id, k) => {
      const key = id && !byId.has(id) ? this.#byId.get(id) : undefined;
      out.push({ i: first + k, key: key ?? '' });
      if (key) {
        byId.set(id, key);
        taken.add(key);
      } else if (id && !byId.has(id)) {
        byId.set(id, '');
        pending.push(k);
      } else {
        // Loading, or an id seen twice (two blocks fetched either side of
        // a change): keyed by position, since keys must be unique.
        out[k].key = '#' + (first + k);
      }
    });
    const pinned = this.#at.get(focused);
    const free = [...this.#byId.values()].filter((key) => !taken.has(key) && key !== pinned);
    let next = 0;
    for (const k of pending) {
      const key = free[next++] ?? 'r' + this.#fresh++;
      out[k].key = key;
      byId.set(ids[k], key);
    }
    for (const r of out) at.set(r.i, r.key);
    this.#byId = byId;
    this.#at = at;
    return out;
  }
}
