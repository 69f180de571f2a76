import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import TabsHarness from './TabsHarness.test.svelte';

describe('Tabs', () => {
  it('follows the WAI-ARIA pattern: one tab stop, arrows wrap, Home/End', async () => {
    const user = userEvent.setup();
    render(TabsHarness);
    const [a, b, c] = screen.getAllByRole('tab');
    expect(a).toHaveAttribute('aria-selected', 'true');
    expect(b).toHaveAttribute('tabindex', '-1');
    expect(screen.getByRole('tabpanel')).toHaveTextContent('panel one');

    await user.click(a);
    await user.keyboard('{ArrowLeft}');
    expect(c).toHaveAttribute('aria-selected', 'true');
    expect(c).toHaveFocus();
    expect(screen.getByRole('tabpanel')).toHaveTextContent('panel three');

    await user.keyboard('{ArrowRight}');
    expect(a).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{End}');
    expect(c).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{Home}');
    expect(a).toHaveAttribute('aria-selected', 'true');

    await user.click(b);
    expect(b).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByRole('tabpanel')).toHaveTextContent('panel two');
  });
});
