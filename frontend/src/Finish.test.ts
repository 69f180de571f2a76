// Fit and finish (issue 13): what a new user noticed, each pinned by a test.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from './App.svelte';
import { AUDITOR, fake, resetFake, signedIn } from './test/fakeApi';

vi.mock('./lib/api', () => import('./test/fakeApi'));

beforeEach(() => {
  resetFake();
});

async function renderDesk(shown = 'user1@acme.test') {
  const user = userEvent.setup();
  render(App);
  const table = await screen.findByRole('table', { name: 'Sessions' });
  await within(table).findByText(shown);
  return { user, table };
}

describe('role hints', () => {
  it('tell an auditor that a single session can be ended, and what needs more', async () => {
    fake.auth = signedIn(AUDITOR);
    const { table } = await renderDesk();
    const hint = screen.getByTestId('role-hint');
    expect(hint).toHaveTextContent(/end a single session/);
    expect(hint).toHaveTextContent(/ending all sessions needs pf\.sessions\.terminate_org/);
    expect(within(table).getAllByRole('button', { name: 'Terminate' }).length).toBeGreaterThan(0);
  });

  it('are not shown to a role that may do everything', async () => {
    await renderDesk();
    expect(screen.queryByTestId('role-hint')).toBeNull();
  });
});

describe('ended sessions', () => {
  it('show no future expiry once terminated', async () => {
    fake.sessions[1].status = 'terminated';
    fake.sessions[1].terminated_at = new Date().toISOString();
    const { user, table } = await renderDesk('user2@acme.test');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Show' }), 'all');
    const row = (await within(table).findByText('user1@acme.test')).closest('tr') as HTMLElement;
    await waitFor(() => expect(within(row).getByText('Ended')).toBeInTheDocument());
    expect(within(row).queryByText(/^in \d+ h$/)).toBeNull();
  });
});
