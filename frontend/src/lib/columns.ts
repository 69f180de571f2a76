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
