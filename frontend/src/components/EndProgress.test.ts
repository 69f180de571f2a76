import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import EndProgress from './EndProgress.svelte';
import * as api from '../test/fakeApi';

vi.mock('../lib/api', () => import('../test/fakeApi'));

describe('EndProgress', () => {
  it('counts only up, whatever order the reports arrive in', () => {
    render(EndProgress, { running: true });
    // The order a Kratos e2e run saw through the dev server.
    for (const done of [0, 1, 4, 2, 3]) {
      api.emit('sessions:terminate-progress', { done, total: 4 });
      flushSync();
    }
    expect(screen.getByRole('status')).toHaveTextContent('Ending sessions… 4 of 4');
    expect(screen.getByRole('progressbar', { name: 'Ending sessions' })).toHaveAttribute('value', '4');
  });
});
