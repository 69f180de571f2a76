import { describe, expect, it } from 'vitest';
import { RowKeys } from './rowkeys';

const keysOf = (rows: { key: string }[]) => rows.map((r) => r.key);

describe('RowKeys', () => {
  it('keeps a row its key wherever it moves', () => {
    const rk = new RowKeys();
    const a = rk.assign(0, ['a', 'b', 'c']);
    // "x" arrives on top: a, b and c move down a row with their keys.
    const b = rk.assign(0, ['x', 'a', 'b', 'c']);
    expect(keysOf(b).slice(1)).toEqual(keysOf(a));
    expect(keysOf(a)).not.toContain(b[0].key);
    expect(b.map((r) => r.i)).toEqual([0, 1, 2, 3]);
  });

  it('hands the keys of rows that left to the rows that came', () => {
    const rk = new RowKeys();
    const a = rk.assign(0, ['a', 'b', 'c']);
    // A new search: every row is new, and every key is reused.
    const b = rk.assign(0, ['x', 'y', 'z']);
    expect(keysOf(b)).toEqual(keysOf(a));
    // Two stay, one goes, two come: the two keep theirs, one key is reused, one is new.
    const c = rk.assign(0, ['y', 'p', 'x', 'q']);
    expect(c[0].key).toBe(b[1].key);
    expect(c[2].key).toBe(b[0].key);
    expect(c[1].key).toBe(b[2].key);
    expect(new Set(keysOf(c)).size).toBe(4);
  });

  it('never hands the focused row to another', () => {
    const rk = new RowKeys();
    const a = rk.assign(10, ['a', 'b']);
    // Focus is in row 11 ("b"), which leaves: its key is not reused.
    const b = rk.assign(10, ['x', 'y'], 11);
    expect(b[0].key).toBe(a[0].key);
    expect(b[1].key).not.toBe(a[1].key);
    // A focused row that stays keeps its key as any other.
    const c = rk.assign(10, ['y', 'x'], 11);
    expect(keysOf(c)).toEqual([b[1].key, b[0].key]);
  });

  it('keys rows still loading, and an id seen twice, by their position', () => {
    const rk = new RowKeys();
    const a = rk.assign(5, ['a', '', 'a']);
    expect(a[1].key).toBe('#6');
    expect(a[2].key).toBe('#7');
    expect(a[0].key).not.toMatch(/^#/);
    const b = rk.assign(5, ['a', 'b', 'c']);
    expect(b[0].key).toBe(a[0].key);
    expect(new Set(keysOf(b)).size).toBe(3);
  });
});
