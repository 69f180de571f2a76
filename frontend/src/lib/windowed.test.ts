import { describe, expect, it } from 'vitest';
import { BLOCK, WindowedList, type PageLike } from './windowed.svelte';

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
});
