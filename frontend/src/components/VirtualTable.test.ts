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
    const list = new WindowedList<{ id: string }>(fetcher('a'));
    render(VirtualTableHarness, { list });
    await waitFor(() => expect(screen.getByText('a-0')).toBeInTheDocument());
    const { writes } = scroller();

    list.reload(fetcher('b'));
    flushSync();
    await waitFor(() => expect(screen.getByText('b-0')).toBeInTheDocument());
    expect(writes).toEqual([]);
  });

  it('scrolls a new search back to the top', async () => {
    const list = new WindowedList<{ id: string }>(fetcher('a'));
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

  it('shows a new search in the rows already there', async () => {
    // Building the rows anew was most of a keystroke's work in the page.
    const list = new WindowedList<{ id: string }>(fetcher('a'));
    render(VirtualTableHarness, { list });
    await waitFor(() => expect(screen.getByText('a-0')).toBeInTheDocument());
    const before = screen.getAllByRole('row').slice(1);

    list.reload(fetcher('b'));
    await waitFor(() => expect(screen.getByText('b-0')).toBeInTheDocument());
    const after = screen.getAllByRole('row').slice(1);
    expect(after.length).toBe(before.length);
    after.forEach((tr, k) => {
      expect(tr).toBe(before[k]);
      expect(tr).toHaveTextContent(`b-${k}`);
    });
  });

  it('lets the row with the focus go rather than show another row in it', async () => {
    const list = new WindowedList<{ id: string }>(fetcher('a'));
    render(VirtualTableHarness, { list });
    await waitFor(() => expect(screen.getByText('a-0')).toBeInTheDocument());
    const focused = screen.getByRole('button', { name: 'a-2' });
    focused.focus();

    list.reload(fetcher('b'));
    await waitFor(() => expect(screen.getByText('b-0')).toBeInTheDocument());
    expect(focused.isConnected).toBe(false);
    expect(focused).toHaveTextContent('a-2');
    // The rest were reused.
    expect(screen.getAllByRole('row').slice(1).map((tr) => tr.textContent)).toEqual(
      Array.from({ length: screen.getAllByRole('row').length - 1 }, (_, k) => `b-${k}`),
    );
  });
});
