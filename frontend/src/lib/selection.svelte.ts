// Row selection of a windowed list: click selects one row, Ctrl/⌘-click and
// the checkbox toggle one, Shift-click selects the range from the last
// clicked row. "Select all N matching" takes every matching ID from the Go
// side (rows beyond the window are not in the page).
export class Selection {
  ids: Set<string> = $state.raw(new Set());
  #anchor = -1;

  get size() {
    return this.ids.size;
  }

  has(id: string) {
    return this.ids.has(id);
  }

  clear() {
    this.ids = new Set();
    this.#anchor = -1;
  }

  set(ids: Iterable<string>) {
    this.ids = new Set(ids);
  }

  toggle(id: string, index: number) {
    const next = new Set(this.ids);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    this.ids = next;
    this.#anchor = index;
  }

  only(id: string, index: number) {
    this.ids = new Set([id]);
    this.#anchor = index;
  }

  /**
   * Adds the rows from the anchor to index. idAt answers loaded rows; for a
   * range reaching rows not loaded, all() gives every matching ID in order.
   */
  async range(index: number, idAt: (i: number) => string | undefined, all: () => Promise<string[]>) {
    const a = this.#anchor < 0 ? index : this.#anchor;
    const [lo, hi] = a <= index ? [a, index] : [index, a];
    const next = new Set(this.ids);
    let missing = false;
    for (let i = lo; i <= hi; i++) {
      const id = idAt(i);
      if (id === undefined) missing = true;
      else next.add(id);
    }
    if (missing) {
      const ids = await all();
      for (let i = lo; i <= hi && i < ids.length; i++) next.add(ids[i]);
    }
    this.ids = next;
  }
}
