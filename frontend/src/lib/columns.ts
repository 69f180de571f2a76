// Remembered column widths, per table, in localStorage: the layout is the
// user's, it is not worth a round trip to Go, and a lost entry only means
// the default widths.
export const MIN_COL = 40;
export const MAX_COL = 800;

const key = (table: string) => `sessiondesk.columns.${table}`;

export function loadWidths(table: string): Record<string, number> {
  try {
    const raw = JSON.parse(localStorage.getItem(key(table)) ?? '{}');
    const out: Record<string, number> = {};
    for (const [id, w] of Object.entries(raw)) {
      if (typeof w === 'number' && Number.isFinite(w)) out[id] = Math.min(MAX_COL, Math.max(MIN_COL, Math.round(w)));
    }
    return out;
  } catch {
    return {};
  }
}

export function saveWidths(table: string, widths: Record<string, number>) {
  try {
    localStorage.setItem(key(table), JSON.stringify(widths));
  } catch {
    /* storage full or disabled: the widths last for this run */
  }
}

/**
 * Columns that give way: which of `columns` to show in `available` px (the
 * table's width; 0 before layout, when all are shown), dropping the ids of
 * `giveWay` in order until the rest fit. Widths are px or % of a table of
 * `full` px, the width the whole set was laid out for. When a column gave
 * way, the % columns left share what the px columns leave, in px, so they
 * keep their proportions instead of shrinking to a % of a narrow table.
 * minWidth is what the shown columns need: below it the table scrolls.
 */
export function fitColumns<C extends { id: string; width: string }>(
  columns: C[],
  giveWay: readonly string[],
  available: number,
  full: number,
): { columns: C[]; minWidth: number } {
  const px = (c: C) => (c.width.endsWith('px') ? parseFloat(c.width) : 0);
  const pct = (c: C) => (c.width.endsWith('%') ? parseFloat(c.width) : 0);
  const sum = (cs: C[], f: (c: C) => number) => cs.reduce((n, c) => n + f(c), 0);
  const perPct = (full - sum(columns, px)) / (sum(columns, pct) || 1);
  const need = (cs: C[]) => Math.ceil(sum(cs, px) + sum(cs, pct) * perPct);
  let shown = columns;
  for (const id of giveWay) {
    if (available <= 0 || need(shown) <= available) break;
    shown = shown.filter((c) => c.id !== id);
  }
  if (shown.length === columns.length) return { columns, minWidth: full };
  const minWidth = need(shown);
  const free = Math.max(available, minWidth) - sum(shown, px);
  const pcts = sum(shown, pct) || 1;
  return {
    columns: shown.map((c) => (pct(c) ? { ...c, width: `${Math.floor((free * pct(c)) / pcts)}px` } : c)),
    minWidth,
  };
}
