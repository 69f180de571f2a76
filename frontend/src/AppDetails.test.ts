// The desk's details a new user notices first: role hints, landmarks, the
// sign-in form, focus after actions, the first sync of a large organization,
// Settings, sign-out and column widths, each pinned by a test.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from './App.svelte';
import * as api from './test/fakeApi';
import { AUDITOR, emit, fake, resetFake, signedIn, signedOut } from './test/fakeApi';
import { renderDesk } from './test/desk';

vi.mock('./lib/api', () => import('./test/fakeApi'));

beforeEach(() => {
  resetFake();
});

// holdSessionLists makes the desk's session lists wait until open() is
// called, as rows still on their way would; restore() ends the hold.
function holdSessionLists() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const real = api.listSessions.getMockImplementation()!;
  api.listSessions.mockImplementation(async (q) => {
    await gate;
    return real(q);
  });
  return { open, restore: () => api.listSessions.mockImplementation(real) };
}

// renderFirstSync renders the desk during its first sync (nothing cached
// yet, the sync at phase and done); rows are the sessions the sync will
// have written, for the test to put back.
async function renderFirstSync(at: { phase: string; done: number; live: boolean }) {
  const rows = fake.sessions;
  fake.sessions = [];
  fake.sync = { online: true, syncing: true, lastSyncAt: null, lastError: '', ...at, total: 0, lastEventAt: null, liveNote: '', clockOffsetMs: 0, intervalSeconds: 30 };
  render(App);
  const table = await screen.findByRole('table', { name: 'Sessions' });
  return { rows, table };
}

describe('role hints', () => {
  it('tell an auditor that one session at a time can be ended, and what needs more', async () => {
    fake.auth = signedIn(AUDITOR);
    const { table } = await renderDesk();
    const hint = screen.getByTestId('role-hint');
    expect(hint).toHaveTextContent(/end one session at a time and sign yourself out of your other devices/);
    expect(hint).toHaveTextContent(/Terminate all sessions\) need pf\.sessions\.terminate_org/);
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

describe('landmarks', () => {
  it('sign-in, MFA and No access each have a main landmark', async () => {
    resetFake({ auth: signedOut() });
    api.signIn.mockRejectedValueOnce({ code: 'mfa_required', message: 'Enter the code.' });
    const user = userEvent.setup();
    const { unmount } = render(App);
    await screen.findByRole('button', { name: 'Sign in' });
    expect(screen.getByRole('main')).toContainElement(screen.getByRole('button', { name: 'Sign in' }));
    await user.type(screen.getByRole('textbox', { name: 'Server URL' }), 'http://127.0.0.1:9');
    await user.type(screen.getByRole('textbox', { name: 'Organization' }), 'acme');
    await user.type(screen.getByRole('textbox', { name: 'Email' }), 'mfa@acme.test');
    await user.type(screen.getByLabelText('Password'), 'pw');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    const code = await screen.findByRole('textbox', { name: 'Authentication code' });
    expect(screen.getByRole('main')).toContainElement(code);
    unmount();

    resetFake({ auth: signedIn([]) });
    render(App);
    const heading = await screen.findByRole('heading', { name: 'No access' });
    expect(screen.getByRole('main')).toContainElement(heading);
  });
});

describe('sign-in form', () => {
  it('reports every empty field at once and focuses the first', async () => {
    resetFake({ auth: signedOut() });
    const user = userEvent.setup();
    render(App);
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    for (const [name, msg] of [
      ['Server URL', /Enter the platform's address/],
      ['Organization', /Enter your organization/],
      ['Email', /Enter your e-mail address/],
    ] as const) {
      const input = screen.getByRole('textbox', { name });
      expect(input).toHaveAttribute('aria-invalid', 'true');
      expect(input).toHaveAccessibleDescription(msg);
    }
    expect(screen.getByLabelText('Password')).toHaveAccessibleDescription(/Enter your password/);
    expect(screen.getByRole('textbox', { name: 'Server URL' })).toHaveFocus();
    expect(api.signIn).not.toHaveBeenCalled();
  });

  it('puts the caret in the first field on load, with no example that reads as a value', async () => {
    resetFake({ auth: signedOut() });
    render(App);
    const server = await screen.findByRole('textbox', { name: 'Server URL' });
    await waitFor(() => expect(server).toHaveFocus());
    const org = screen.getByRole('textbox', { name: 'Organization' });
    expect(org).not.toHaveAttribute('placeholder');
    expect(org).toHaveAccessibleDescription(/for example acme/);
  });

  it('focuses Password when a remembered account filled the other fields', async () => {
    resetFake({ auth: signedOut() });
    fake.profiles = [{ id: 'p1', serverUrl: 'http://127.0.0.1:9000', org: 'acme', email: 'admin@acme.test' }];
    render(App);
    const password = await screen.findByLabelText('Password');
    await waitFor(() => expect(password).toHaveFocus());
    expect(screen.getByRole('textbox', { name: 'Email' })).toHaveValue('admin@acme.test');
  });
});

describe('footer and About', () => {
  it('the footer shows the version; build details are in the About dialog', async () => {
    const { user } = await renderDesk();
    const footer = await screen.findByTestId('app-info');
    expect(footer).toHaveTextContent('Sessions Desk test');
    expect(footer).not.toHaveTextContent(/pid|go1/);
    await user.click(screen.getByRole('button', { name: 'About' }));
    const about = await screen.findByRole('dialog', { name: 'About Sessions Desk' });
    expect(within(about).getByText('4242')).toBeInTheDocument();
    expect(within(about).getByText('go1.24')).toBeInTheDocument();
    await user.click(within(about).getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });
});

describe('focus after actions', () => {
  it('rows are keyed by id: the row of the next session keeps its own DOM when one above goes', async () => {
    const { user, table } = await renderDesk();
    const row2 = (within(table).getByText('user2@acme.test').closest('tr')) as HTMLElement;
    const row1 = (within(table).getByText('user1@acme.test').closest('tr')) as HTMLElement;
    await user.click(within(row1).getByRole('button', { name: 'Terminate' }));
    const dlg = await screen.findByRole('dialog');
    await user.click(within(dlg).getByRole('button', { name: 'Terminate' }));
    await waitFor(() => expect(within(table).queryByText('user1@acme.test')).toBeNull());
    expect(within(table).getByText('user2@acme.test').closest('tr')).toBe(row2);
  });

  it('a confirmed Terminate puts focus on the table and announces what happened', async () => {
    const { user, table } = await renderDesk();
    const row1 = within(table).getByText('user1@acme.test').closest('tr') as HTMLElement;
    await user.click(within(row1).getByRole('button', { name: 'Terminate' }));
    await user.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Terminate' }));
    const region = screen.getByRole('region', { name: 'Sessions table' });
    await waitFor(() => expect(region).toHaveFocus());
    expect(screen.getByText(/Terminated the session of User 1/).closest('[aria-live]')).not.toBeNull();
  });

  it('a confirmed Revoke trust puts focus on the devices table', async () => {
    const { user } = await renderDesk();
    await user.click(screen.getByRole('tab', { name: 'Devices' }));
    const table = await screen.findByRole('table', { name: 'Devices' });
    const revoke = (await within(table).findAllByRole('button', { name: 'Revoke trust' }))[0];
    await user.click(revoke);
    await user.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Revoke trust' }));
    await waitFor(() => expect(screen.getByRole('region', { name: 'Devices table' })).toHaveFocus());
    expect(screen.getByText(/Revoked trust from/).closest('[aria-live]')).not.toBeNull();
  });
});

describe('first sync of a large organization', () => {
  it('shows real progress, no empty state, and switches to Synced only when the rows are there', async () => {
    const { rows, table } = await renderFirstSync({ phase: 'sessions', done: 35_000, live: false });
    expect(await within(table).findByText('Loading sessions… 35,000 so far')).toBeInTheDocument();
    expect(screen.queryByText('No sessions.')).toBeNull();
    expect(screen.queryByText('0 sessions')).toBeNull();
    expect(screen.getByRole('tab', { name: /^Sessions/ })).toHaveTextContent(/^Sessions$/);
    const all = screen.getByRole('button', { name: 'Terminate all sessions' });
    expect(all).toBeDisabled();
    expect(all).toHaveAttribute('title', 'Loading sessions…');
    expect(screen.getByRole('group', { name: 'Sync status' })).toHaveTextContent('Syncing sessions… 35,000');

    emit('sync:status', { ...fake.sync, phase: 'sessions', done: 100_001 });
    emit('sync:status', { ...fake.sync, phase: 'saving', done: 120_004 });
    expect(await within(table).findByText(/100,001 received; saving them to the offline cache/)).toBeInTheDocument();
    expect(screen.getByRole('group', { name: 'Sync status' })).toHaveTextContent('Saving to the offline cache…');

    // The sync wrote the cache; the first window of rows is still on its way.
    fake.sessions = rows;
    const { open, restore } = holdSessionLists();
    emit('sessions:changed');
    emit('sync:status', { ...fake.sync, syncing: false, phase: '', done: 0, lastSyncAt: new Date().toISOString() });
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.queryByText(/Synced/)).toBeNull();
    expect(screen.queryByText('No sessions.')).toBeNull();
    open();
    expect(await screen.findByText(/Synced just now/)).toBeInTheDocument();
    expect(within(table).getByText('user1@acme.test')).toBeInTheDocument();
    restore();
  });

  it('shows no empty state when the next sync starts before the first one\'s rows are on screen', async () => {
    // The live stream asks for a delta sync right after the first full
    // sync: its first status (syncing, with the new lastSyncAt) can arrive
    // before the rows the full sync wrote.
    const { rows, table } = await renderFirstSync({ phase: 'saving', done: 100_001, live: true });
    expect(await within(table).findByText(/saving them to the offline cache/)).toBeInTheDocument();

    fake.sessions = rows;
    const { open, restore } = holdSessionLists();
    const done = new Date().toISOString();
    emit('sessions:changed');
    emit('sync:status', { ...fake.sync, syncing: false, phase: '', done: 0, lastSyncAt: done });
    emit('sync:status', { ...fake.sync, syncing: true, phase: 'sessions', done: 0, lastSyncAt: done });
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.queryByText('No sessions.')).toBeNull();
    expect(screen.queryByText('0 sessions')).toBeNull();
    expect(screen.getByRole('tab', { name: /^Sessions/ })).toHaveTextContent(/^Sessions$/);
    open();
    expect(await within(table).findByText('user1@acme.test')).toBeInTheDocument();
    expect(screen.getByRole('group', { name: 'Sync status' })).toHaveTextContent('Syncing sessions…');
    restore();
  });

  it('says "nothing cached yet" when the first sync cannot run, and "No sessions." once one did', async () => {
    fake.sessions = [];
    fake.sync = { online: false, syncing: false, lastSyncAt: null, lastError: 'The platform cannot be reached.', phase: '', done: 0, total: 0, live: false, lastEventAt: null, liveNote: '', clockOffsetMs: 0, intervalSeconds: 30 };
    render(App);
    const table = await screen.findByRole('table', { name: 'Sessions' });
    expect(await within(table).findByText(/Nothing cached yet/)).toBeInTheDocument();
    emit('sync:status', { online: true, syncing: false, lastSyncAt: new Date().toISOString(), lastError: '', phase: '', done: 0, total: 0, live: false, lastEventAt: null, liveNote: '', clockOffsetMs: 0, intervalSeconds: 30 });
    expect(await within(table).findByText('No sessions.')).toBeInTheDocument();
  });
});

describe('Settings', () => {
  it('says what is kept and where, saves bounded preferences, forgets cached data and removes accounts', async () => {
    fake.profiles = [
      { id: 'p1', serverUrl: 'http://127.0.0.1:8443', org: 'acme', email: 'admin@acme.test' },
      { id: 'p2', serverUrl: 'http://127.0.0.1:8443', org: 'acme', email: 'auditor@acme.test' },
    ];
    const { user } = await renderDesk();
    await user.click(screen.getByRole('button', { name: 'Settings' }));
    const view = await screen.findByRole('region', { name: 'Settings' });
    const info = await within(view).findByTestId('cache-info');
    expect(info).toHaveTextContent('2.3 MB');
    expect(info).toHaveTextContent('/home/test/.cache/sessiondesk');
    expect(info).toHaveTextContent(/from 3 d ago/);
    expect(info).toHaveTextContent(/Encrypted.*key is kept in the OS keychain/);

    const days = within(view).getByRole('spinbutton', { name: /Keep ended sessions and audit events for/ });
    await user.clear(days);
    await user.type(days, '45');
    await user.click(within(view).getByRole('button', { name: 'Save settings' }));
    // Told on the field, in Go's words, and the caret goes back there.
    await waitFor(() => expect(days).toHaveAttribute('aria-invalid', 'true'));
    expect(days).toHaveAccessibleDescription(/Keep cached data between 1 and 30 days\./);
    expect(days).toHaveFocus();
    await user.clear(days);
    await user.type(days, '3');
    await user.selectOptions(within(view).getByRole('combobox', { name: /Sync with the platform every/ }), '300');
    await user.click(within(view).getByRole('checkbox', { name: /Notify me of devices never seen before/ }));
    await user.click(within(view).getByRole('checkbox', { name: /This is a shared workstation/ }));
    await user.click(within(view).getByRole('radio', { name: /Exact date and time/ }));
    await user.click(within(view).getByRole('radio', { name: 'UTC' }));
    await user.click(within(view).getByRole('button', { name: 'Save settings' }));
    await within(view).findByText('Settings saved.');
    expect(api.saveSettings).toHaveBeenLastCalledWith({
      retentionDays: 3,
      syncIntervalSeconds: 300,
      notifications: false,
      sharedWorkstation: true,
      timeStyle: 'exact',
      timeZone: 'utc',
    });

    // Forgetting asks first, naming what is lost; Cancel has focus, Escape and Cancel change nothing.
    await user.click(within(view).getByRole('button', { name: 'Forget cached data now' }));
    let dlg = await screen.findByRole('dialog', { name: 'Forget the cached data?' });
    expect(dlg).toHaveAccessibleDescription(/cached sessions, devices and audit events, and the key/);
    expect(dlg).toHaveTextContent('2.3 MB');
    expect(within(dlg).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    expect(within(dlg).queryByRole('textbox')).toBeNull(); // nothing is audited: no reason asked
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(api.forgetCachedData).not.toHaveBeenCalled();
    await user.click(within(view).getByRole('button', { name: 'Forget cached data now' }));
    dlg = await screen.findByRole('dialog', { name: 'Forget the cached data?' });
    await user.click(within(dlg).getByRole('button', { name: 'Forget cached data' }));
    await waitFor(() => expect(api.forgetCachedData).toHaveBeenCalled());
    expect(await within(view).findByText(/cached data and its key were deleted/)).toBeInTheDocument();

    // Removing an account asks first, naming the account.
    await user.click(within(view).getByRole('button', { name: 'Remove auditor@acme.test (acme)' }));
    dlg = await screen.findByRole('dialog', { name: 'Remove auditor@acme.test?' });
    expect(dlg).toHaveAccessibleDescription(/the account auditor@acme\.test \(acme · http:\/\/127\.0\.0\.1:8443\).*token.*cached data/);
    expect(within(dlg).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dlg).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(api.removeProfile).not.toHaveBeenCalled();
    await user.click(within(view).getByRole('button', { name: 'Remove auditor@acme.test (acme)' }));
    dlg = await screen.findByRole('dialog', { name: 'Remove auditor@acme.test?' });
    await user.click(within(dlg).getByRole('button', { name: 'Remove' }));
    expect(api.removeProfile).toHaveBeenCalledWith('p2');
    await waitFor(() => expect(within(view).queryByText('auditor@acme.test')).toBeNull());
    await waitFor(() => expect(within(view).getByRole('heading', { name: 'Remembered accounts' })).toHaveFocus());

    // The open account: the dialog says it signs you out, and nothing happens before you confirm.
    await user.click(within(view).getByRole('button', { name: 'Remove and sign out admin@acme.test (acme)' }));
    dlg = await screen.findByRole('dialog', { name: 'Remove admin@acme.test?' });
    expect(dlg).toHaveTextContent('you are signed out of Sessions Desk');
    expect(within(dlg).getByRole('button', { name: 'Remove and sign out' })).toBeInTheDocument();
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(api.removeProfile).toHaveBeenCalledTimes(1);

    // Times now show exact, in UTC.
    await user.click(within(view).getByRole('button', { name: 'Close settings' }));
    const table = await screen.findByRole('table', { name: 'Sessions' });
    expect(within(table).getAllByText(/UTC/).length).toBeGreaterThan(0);
    expect(within(table).queryByText('1 min ago')).toBeNull();
  });
});

describe('Settings: a refused sync interval', () => {
  it('is marked on its field with the message, and cleared by a good save', async () => {
    // Started with an interval below what a user may pick (the -sync-interval flag allows it).
    fake.settings.syncIntervalSeconds = 5;
    const { user } = await renderDesk();
    await user.click(screen.getByRole('button', { name: 'Settings' }));
    const view = await screen.findByRole('region', { name: 'Settings' });
    const every = within(view).getByRole('combobox', { name: /Sync with the platform every/ });
    await waitFor(() => expect(every).toHaveValue('5'));
    await user.click(within(view).getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(every).toHaveAttribute('aria-invalid', 'true'));
    expect(every).toHaveAccessibleDescription('Sync every 10 seconds to 60 minutes.');
    expect(every).toHaveFocus();
    expect(within(view).queryByRole('alert')).toBeNull();
    await user.selectOptions(every, '60');
    await user.click(within(view).getByRole('button', { name: 'Save settings' }));
    await within(view).findByText('Settings saved.');
    expect(every).toHaveAttribute('aria-invalid', 'false');
    expect(every).not.toHaveAccessibleDescription(/Sync every/);
  });
});

describe('sign out', () => {
  it('asks whether to forget this workstation’s copy; not by default', async () => {
    const { user } = await renderDesk();
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    const dlg = await screen.findByRole('dialog', { name: 'Sign out of Sessions Desk?' });
    const forget = within(dlg).getByRole('checkbox', { name: /Also forget this workstation's copy/ });
    expect(forget).not.toBeChecked();
    await user.click(forget);
    await user.click(within(dlg).getByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(api.signOut).toHaveBeenCalledWith(true));
  });

  it('always forgets on a shared workstation (Go does), says so instead of asking, and Cancel signs nobody out', async () => {
    fake.auth = { ...signedIn(), sharedWorkstation: true };
    const { user } = await renderDesk();
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    let dlg = await screen.findByRole('dialog', { name: 'Sign out of Sessions Desk?' });
    expect(within(dlg).queryByRole('checkbox', { name: /Also forget/ })).toBeNull();
    expect(dlg).toHaveTextContent(/This is a shared workstation, so this workstation's copy is forgotten too/);
    await user.click(within(dlg).getByRole('button', { name: 'Cancel' }));
    expect(api.signOut).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    dlg = await screen.findByRole('dialog', { name: 'Sign out of Sessions Desk?' });
    await user.click(within(dlg).getByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(api.signOut).toHaveBeenCalledWith(true));
  });
});

describe('column widths', () => {
  it('every column can be resized from the keyboard, and the widths are remembered', async () => {
    localStorage.clear();
    const { user } = await renderDesk();
    const handle = screen.getByRole('separator', { name: 'Resize IP column' });
    handle.focus();
    await user.keyboard('{ArrowRight}{ArrowRight}');
    const stored = JSON.parse(localStorage.getItem('sessiondesk.columns.Sessions') ?? '{}');
    expect(stored.ip).toBe(140); // jsdom has no layout: 120 px assumed, +2 × 10
    // Columns: select (checkbox), user, device, IP, …
    const col = () => screen.getByRole('table', { name: 'Sessions' }).querySelectorAll('col')[3] as HTMLElement;
    expect(col().style.width).toBe('140px');
    await user.keyboard('{Shift>}{ArrowLeft}{/Shift}');
    expect(col().style.width).toBe('90px');
  });

  it('restores remembered widths on the next start', async () => {
    localStorage.setItem('sessiondesk.columns.Sessions', JSON.stringify({ client: 260 }));
    await renderDesk();
    const cols = screen.getByRole('table', { name: 'Sessions' }).querySelectorAll('col');
    expect((cols[2] as HTMLElement).style.width).toBe('260px'); // after the select column and User
    localStorage.clear();
  });
});
