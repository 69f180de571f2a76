import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from '../App.svelte';
import * as api from '../test/fakeApi';
import { emit, fake, resetFake, signedIn } from '../test/fakeApi';

vi.mock('../lib/api', () => import('../test/fakeApi'));

beforeEach(() => {
  resetFake();
});

const LOST =
  'The offline cache (100000 sessions) was deleted: its key was missing from the keychain, so it could not be read.';

describe('cache loss', () => {
  it('tells what was lost and why, keeps it through sync statuses, and goes only when dismissed', async () => {
    fake.auth = { ...signedIn(), notice: LOST };
    const user = userEvent.setup();
    render(App);
    const notice = await screen.findByRole('alert');
    expect(notice).toHaveTextContent('Cached data lost');
    expect(notice).toHaveTextContent('key was missing from the keychain');

    // Syncs come and go; the notice stays.
    emit('sync:status', { ...fake.sync, syncing: true, phase: 'sessions' });
    emit('sync:status', { ...fake.sync, lastSyncAt: new Date().toISOString() });
    expect(screen.getByRole('alert')).toHaveTextContent('100000 sessions');

    await user.click(within(notice).getByRole('button', { name: 'Dismiss' }));
    expect(api.dismissNotice).toHaveBeenCalled();
    await waitFor(() => expect(screen.queryByText(/Cached data lost/)).not.toBeInTheDocument());
  });

  it('says "nothing cached yet" rather than "No sessions" when nothing was ever cached', async () => {
    resetFake({ sessions: 0 });
    fake.sessions = [];
    fake.snapshotAt = null;
    // Never synced and the platform cannot be reached (a lost cache, offline).
    fake.sync = { ...fake.sync, online: false, lastSyncAt: null, lastError: 'The platform cannot be reached.' };
    render(App);
    expect(await screen.findByText(/Nothing cached yet/)).toBeInTheDocument();
    expect(screen.queryByText('No sessions.')).not.toBeInTheDocument();
  });

  it('shows how long the platform asked to wait', async () => {
    fake.sync = {
      ...fake.sync,
      lastError: 'Platform busy — retrying in 2 min',
      retryAt: new Date(Date.now() + 120_000).toISOString(),
    };
    render(App);
    expect(await screen.findByText('Platform busy — retrying in 2 min')).toBeInTheDocument();
  });
});

describe('the platform’s clock', () => {
  it('shows expiry on the platform’s clock, not this computer’s', async () => {
    // The platform is 6 h ahead of this computer: a session expiring 8 h
    // from this computer's now expires in 2 h on the platform's.
    fake.sync = { ...fake.sync, clockOffsetMs: 6 * 3_600_000 };
    render(App);
    const table = await screen.findByRole('table', { name: 'Sessions' });
    await within(table).findByText('user1@acme.test');
    const row = within(table).getByText('user1@acme.test').closest('tr') as HTMLElement;
    await waitFor(() => expect(within(row).getByText('in 2 h')).toBeInTheDocument());
  });
});
