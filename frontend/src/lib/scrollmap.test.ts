import { describe, expect, it } from 'vitest';
import { MAX_SCROLL_PX, rowWindow } from './scrollmap';

describe('rowWindow', () => {
  it('is the plain arithmetic when the list fits', () => {
    const w = rowWindow(44 * 500, 600, 100_000, 44, 6);
    expect(w).toEqual({ first: 494, last: Math.floor((44 * 500 + 600) / 44) + 6, topPad: 494 * 44, height: 4_400_000 });
    expect(rowWindow(0, 600, 100_000, 44, 6).first).toBe(0);
  });

  it('keeps a million rows within what a browser can lay out, and reaches both ends', () => {
    const total = 1_000_001;
    const viewport = 600;
    const top = rowWindow(0, viewport, total, 44, 6);
    expect(top.height).toBe(MAX_SCROLL_PX);
    expect(top.first).toBe(0);
    expect(top.topPad).toBe(0);
    // Scrolled to the bottom: the last row is in view, at the viewport's bottom.
    const end = rowWindow(MAX_SCROLL_PX - viewport, viewport, total, 44, 6);
    expect(end.last).toBeGreaterThanOrEqual(total - 1);
    const lastRowTop = end.topPad + (total - 1 - end.first) * 44;
    expect(lastRowTop + 44).toBeCloseTo(MAX_SCROLL_PX, 3);
    // Halfway down the scroller is halfway down the list.
    const mid = rowWindow((MAX_SCROLL_PX - viewport) / 2, viewport, total, 44, 0);
    expect(Math.abs(mid.first - total / 2)).toBeLessThan(20);
    // The rendered rows never reach past the scroller's end.
    for (const w of [top, mid, end]) {
      expect(w.topPad + (Math.min(w.last, total - 1) - w.first + 1) * 44).toBeLessThanOrEqual(MAX_SCROLL_PX + 44 * 13);
    }
  });
});
