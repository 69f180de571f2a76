import { describe, expect, it } from 'vitest';
import { fitColumns } from './columns';

const cols = [
  { id: 'a', width: '100px' },
  { id: 'b', width: '50%' },
  { id: 'c', width: '30%' },
  { id: 'd', width: '20%' },
];

describe('fitColumns', () => {
  it('shows every column when there is room, or before layout (width 0)', () => {
    expect(fitColumns(cols, ['d', 'c'], 600, 600)).toEqual({ columns: cols, minWidth: 600 });
    expect(fitColumns(cols, ['d', 'c'], 0, 600).columns).toBe(cols);
  });

  it('drops columns in the give-way order until the rest fit, and shares the room in proportion', () => {
    // Full: 100 px + 500 px of %; d needs 100, c 150, b 250.
    const fit = fitColumns(cols, ['d', 'c'], 520, 600);
    expect(fit.columns.map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(fit.minWidth).toBe(500);
    expect(fit.columns.map((c) => c.width)).toEqual(['100px', '262px', '157px']);
    expect(fitColumns(cols, ['d', 'c'], 380, 600)).toEqual({ columns: [cols[0], { id: 'b', width: '280px' }], minWidth: 350 });
    // Out of columns to drop: they keep what they need, and the table scrolls rather than squeeze them.
    expect(fitColumns(cols, ['d'], 450, 600)).toEqual({
      columns: [cols[0], { id: 'b', width: '250px' }, { id: 'c', width: '150px' }],
      minWidth: 500,
    });
  });
});
