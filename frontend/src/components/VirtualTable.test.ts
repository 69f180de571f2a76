import { describe, expect, it } from 'vitest';
import { render, screen, waitFor } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import VirtualTableHarness from './VirtualTableHarness.test.svelte';
import { WindowedList } from '../lib/windowed.svelte';

// Rows "<word>-0" … "<word>-999" for the search word.
const fetcher = (word: string) => async (offset: number, limit: number) => ({
  items: Array.from({ length: Math.min(limit, 1000 - offset) }, (_, k) => ({ id: `${word}-${offset + k}` })),
  total: 1000,
  offline: false,
});

// The scroller, with its scrollTop writes counted: jsdom has no layout, so
// the element's own position is a plain number here.
function scroller() {
  const el = screen.getByRole('region', { name: 'Rows table' });
  let top = 0;
  const writes: number[] = [];
  Object.defineProperty(el, 'scrollTop', {
    get: () => top,
    set: (v: number) => {
      writes.push(v);
      top = v;
    },
  });
  return { el, writes };
}

describe('VirtualTable', () => {
  it('starts a new search at the top without touching a scroller already there', async () => {
    // Writing scrollTop makes a browser lay the page out at once: done on
    // every keystroke, that was a second layout of the page each time.
    const list = new WindowedList(fetcher('a'));
    render(VirtualTableHarness, { list });
    await waitFor(() => expect(screen.getByText('a-0')).toBeInTheDocument());
    const { writes } = scroller();

    list.reload(fetcher('b'));
    flushSync();
    await waitFor(() => expect(screen.getByText('b-0')).toBeInTheDocument());
    expect(writes).toEqual([]);
  });

  it('scrolls a new search back to the top', async () => {
    const list = new WindowedList(fetcher('a'));
    render(VirtualTableHarness, { list });
    await waitFor(() => expect(screen.getByText('a-0')).toBeInTheDocument());
    const { el, writes } = scroller();
    el.scrollTop = 44 * 500; // row 500 at the top
    el.dispatchEvent(new Event('scroll'));
    await waitFor(() => expect(screen.getByText('a-500')).toBeInTheDocument());
    writes.length = 0;

    list.reload(fetcher('b'));
    flushSync();
    expect(writes).toEqual([0]);
    await waitFor(() => expect(screen.getByText('b-0')).toBeInTheDocument());
    expect(screen.queryByText('a-500')).not.toBeInTheDocument();
  });
});
