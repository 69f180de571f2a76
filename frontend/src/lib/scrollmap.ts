// Maps a scroller's position to the rows in view when the list is taller
// than a browser can lay out. WebKit and Chromium keep sizes as fixed-point
// numbers that end at about 33.5 million px, so 1,000,000 rows of 44 px
// (44 million px) would be cut short and the last quarter could never be
// scrolled to. Above MAX_SCROLL_PX the scroller stays that tall and its
// position maps linearly onto the rows: a pixel scrolled moves more than a
// pixel of rows, and the top and the bottom are still exactly the first
// and the last rows.

/** Well under every engine's limit (Firefox's is lower, ~17.9 million px). */
export const MAX_SCROLL_PX = 10_000_000;

export interface RowWindow {
  /** First and last row to render, overscan included (last may pass the end). */
  first: number;
  last: number;
  /** Height of the spacer above the first rendered row and the scroller's whole height, px. */
  topPad: number;
  height: number;
}

/**
 * The rows to render for scrollTop in a viewport of the given height.
 * Unscaled (the list fits) it is the plain arithmetic; scaled, the row at
 * the viewport's top is the one at the same fraction of the list.
 */
export function rowWindow(
  scrollTop: number,
  viewport: number,
  total: number,
  rowHeight: number,
  overscan: number,
  maxPx = MAX_SCROLL_PX,
): RowWindow {
  const full = total * rowHeight;
  const height = Math.min(full, maxPx);
  // Where the viewport's top is in the full list, in px.
  let virtualTop = scrollTop;
  if (full > height && height > viewport) {
    const top = Math.min(Math.max(scrollTop, 0), height - viewport);
    virtualTop = (top * (full - viewport)) / (height - viewport);
  }
  const first = Math.max(0, Math.floor(virtualTop / rowHeight) - overscan);
  const last = Math.floor((virtualTop + viewport) / rowHeight) + overscan;
  // The first rendered row sits where it would, relative to the viewport.
  const topPad = Math.max(0, scrollTop - (virtualTop - first * rowHeight));
  return { first, last, topPad, height };
}
