import { describe, expect, it } from 'vitest';
import { BLOCK, WindowedList, sameJSON, type PageLike } from './windowed.svelte';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const page = (tag: string, total: number, offset: number, limit: number): PageLike<string> => ({
  items: Array.from({ length: Math.min(limit, total - offset) }, (_, i) => `${tag}${offset + i}`),
  total,
  offline: false,
  snapshotAt: null,
});

describe('WindowedList', () => {
  it('fetches only the blocks in view', async () => {
    const calls: [number, number][] = [];
    const list = new WindowedList<string>(async (o, l) => {
      calls.push([o, l]);
      return page('r', 100_000, o, l);
    });
    list.setRange(0, 30);
    await Promise.resolve();
    await Promise.resolve();
    expect(calls).toEqual([[0, BLOCK]]);
    list.setRange(50_010, 50_040);
    await new Promise((r) => setTimeout(r));
    expect(calls).toEqual([
      [0, BLOCK],
      [50_000, BLOCK],
    ]);
    expect(list.total).toBe(100_000);
    expect(list.row(50_020)).toBe('r50020');
  });

  it('drops a slow answer to an older query', async () => {
    const old = deferred<PageLike<string>>();
    const list = new WindowedList<string>(() => old.promise);
    list.setRange(0, 10);
    list.reload(async (o, l) => page('new', 3, o, l));
    await new Promise((r) => setTimeout(r));
    old.resolve(page('old', 50, 0, BLOCK));
    await new Promise((r) => setTimeout(r));
    expect(list.total).toBe(3);
    expect(list.row(0)).toBe('new0');
  });

  it('hands back the same object for a row that came back unchanged', async () => {
    type Row = { id: string; user: { name: string }; tags: number[] };
    let bobRenamed = false;
    const list = new WindowedList<Row>(async () => ({
      // Fresh objects on every answer, as the bindings' JSON gives.
      items: [
        { id: 'a', user: { name: 'Ann' }, tags: [1] },
        { id: 'b', user: { name: bobRenamed ? 'Bob' : 'Bo' }, tags: [] },
      ],
      total: 2,
      offline: false,
    }));
    list.setRange(0, 1);
    await new Promise((r) => setTimeout(r));
    const [a, b] = [list.row(0), list.row(1)];
    bobRenamed = true;
    await list.reload();
    expect(list.row(0)).toBe(a);
    expect(list.row(1)).not.toBe(b);
    expect(list.row(1)?.user.name).toBe('Bob');
  });

  it('keeps the object of an unchanged row that moved up', async () => {
    type Row = { id: string; n: number };
    let mine = true; // the signed-in admin's session, first, until the search drops it
    const list = new WindowedList<Row>(async () => {
      const items = [{ id: 'a', n: 1 }, { id: 'b', n: 2 }, { id: 'c', n: 3 }];
      if (mine) items.unshift({ id: 'own', n: 0 });
      return { items, total: items.length, offline: false };
    });
    list.setRange(0, 3);
    await new Promise((r) => setTimeout(r));
    const [a, b, c] = [list.row(1), list.row(2), list.row(3)];
    mine = false;
    await list.reload();
    expect(list.row(0)).toBe(a);
    expect(list.row(1)).toBe(b);
    expect(list.row(2)).toBe(c);
  });
});

describe('sameJSON', () => {
  it('compares JSON values by content, not by key order', () => {
    expect(sameJSON({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true);
    expect(sameJSON({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameJSON({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(sameJSON({ a: 1, b: 2 }, { a: 1, c: 2 })).toBe(false);
    expect(sameJSON({ a: null }, { a: {} })).toBe(false);
    expect(sameJSON([1, 2], [1, 2, 3])).toBe(false);
    expect(sameJSON([1], { 0: 1 })).toBe(false);
    expect(sameJSON('1', 1)).toBe(false);
    expect(sameJSON({ t: '2026-01-01T00:00:00Z' }, { t: '2026-01-01T00:00:01Z' })).toBe(false);
  });
});
