// The selection model: rows by hand (ids) or "all matching" (a query and the
// rows unticked since), what it counts, and Shift-click ranges.
import { describe, expect, it, vi } from 'vitest';
import { Selection } from './selection.svelte';

type Q = { search: string };
const rows = ['a', 'b', 'c', 'd', 'e'];
const loaded = (i: number) => rows[i];

describe('Selection', () => {
  it('by hand: toggles, only and set are ids; count is their number', () => {
    const s = new Selection<Q>();
    expect(s.empty).toBe(true);
    s.toggle('a', 0);
    s.toggle('b', 1);
    s.toggle('a', 0);
    expect(s.has('b') && !s.has('a')).toBe(true);
    expect(s.count(1000)).toBe(1);
    expect(s.target()).toEqual({ ids: ['b'] });
    s.only('c', 2);
    expect(s.target()).toEqual({ ids: ['c'] });
  });

  it('all matching: keeps the query and the unticked rows, never the ids', () => {
    const s = new Selection<Q>();
    s.toggle('a', 0);
    s.selectMatching({ search: 'x' });
    expect(s.all).toBe(true);
    expect(s.empty).toBe(false);
    expect(s.ids.size).toBe(0);
    expect(s.has('anything')).toBe(true);
    expect(s.count(1_000_000)).toBe(1_000_000);
    s.toggle('b', 1);
    s.toggle('c', 2);
    expect(s.has('b')).toBe(false);
    expect(s.count(1_000_000)).toBe(999_998);
    // The count follows the list's total as it changes.
    expect(s.count(500)).toBe(498);
    s.toggle('b', 1); // ticked again
    expect(s.target()).toEqual({ query: { search: 'x' }, except: ['c'] });
    // Everything unticked counts as none.
    expect(s.count(1)).toBe(0);
  });

  it('leaves all matching for ids on a plain click or set, and clears whole', () => {
    const s = new Selection<Q>();
    s.selectMatching({ search: '' });
    s.toggle('a', 0);
    s.only('d', 3);
    expect(s.all).toBe(false);
    expect(s.target()).toEqual({ ids: ['d'] });
    s.selectMatching({ search: '' });
    s.set(['e']);
    expect(s.target()).toEqual({ ids: ['e'] });
    s.selectMatching({ search: '' });
    s.clear();
    expect(s.empty).toBe(true);
    expect(s.count(10)).toBe(0);
  });

  it('a range of loaded rows asks nothing; a range reaching rows not loaded asks for that range only', async () => {
    const s = new Selection<Q>();
    const idsIn = vi.fn(async (lo: number, hi: number) => rows.slice(lo, hi + 1));
    s.toggle('b', 1);
    await s.range(3, loaded, idsIn);
    expect(idsIn).not.toHaveBeenCalled();
    expect([...s.ids].sort()).toEqual(['b', 'c', 'd']);
    // Row 4 is not loaded; the anchor is still b's row.
    await s.range(4, (i) => (i < 4 ? rows[i] : undefined), idsIn);
    expect(idsIn).toHaveBeenCalledWith(1, 4);
    expect([...s.ids].sort()).toEqual(['b', 'c', 'd', 'e']);
  });

  it('with all matching, a range ticks its rows again', async () => {
    const s = new Selection<Q>();
    s.selectMatching({ search: '' });
    s.toggle('a', 0);
    s.toggle('c', 2);
    s.toggle('e', 4);
    await s.range(2, loaded, async () => []);
    // Anchor 4 to 2: c and e ticked again, a still left out.
    expect(s.target()).toEqual({ query: { search: '' }, except: ['a'] });
  });
});
