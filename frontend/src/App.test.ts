import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from './App.svelte';
import * as api from './test/fakeApi';
import { AUDITOR, PLATFORMD, emit, fake, resetFake, signedIn, signedOut } from './test/fakeApi';
import { rowOf } from './test/desk';

vi.mock('./lib/api', () => import('./test/fakeApi'));

beforeEach(() => {
  resetFake();
});

async function renderDesk() {
  const user = userEvent.setup();
  render(App);
  await screen.findByRole('tab', { name: /^Sessions/ });
  const table = await screen.findByRole('table', { name: 'Sessions' });
  await within(table).findByText('user1@acme.test');
  return { user, table };
}

describe('the desk', () => {
  it('shows four tabs (Overview first) with the active count on Sessions, switchable by keyboard', async () => {
    const { user } = await renderDesk();
    const sessions = screen.getByRole('tab', { name: /^Sessions/ });
    await waitFor(() => expect(sessions).toHaveTextContent('Sessions6'));
    expect(screen.getByRole('tab', { name: 'Devices' })).toBeInTheDocument();
    expect(screen.getByRole('tab', { name: 'Audit log' })).toBeInTheDocument();

    sessions.focus();
    await user.keyboard('{ArrowRight}');
    expect(screen.getByRole('tab', { name: 'Devices' })).toHaveAttribute('aria-selected', 'true');
    expect(await screen.findByRole('table', { name: 'Devices' })).toBeInTheDocument();
    await user.keyboard('{End}');
    expect(await screen.findByRole('table', { name: 'Audit log' })).toBeInTheDocument();
    await user.keyboard('{ArrowRight}');
    expect(screen.getByRole('tab', { name: 'Overview' })).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{ArrowRight}');
    expect(sessions).toHaveAttribute('aria-selected', 'true');
  });

  it('marks the caller’s own session "You", shows relative times with the exact time on hover', async () => {
    const { table } = await renderDesk();
    const own = rowOf(table, 'Sessions Desk on Linux');
    expect(within(own).getByText('You')).toBeInTheDocument();
    const row = rowOf(table, 'user1@acme.test');
    const lastActive = within(row).getByText('1 min ago');
    expect(lastActive.getAttribute('title')).toMatch(/\d{4}/);
  });

  it('sorts by a column header and reports it with aria-sort', async () => {
    const { user } = await renderDesk();
    const header = screen.getByRole('columnheader', { name: /User/ });
    expect(header).toHaveAttribute('aria-sort', 'none');
    expect(screen.getByRole('columnheader', { name: /Last active/ })).toHaveAttribute('aria-sort', 'descending');
    await user.click(within(header).getByRole('button', { name: /User/ }));
    expect(header).toHaveAttribute('aria-sort', 'ascending');
    await waitFor(() =>
      expect(api.listSessions).toHaveBeenLastCalledWith(expect.objectContaining({ sort: 'user', desc: false })),
    );
    await user.click(within(header).getByRole('button', { name: /User/ }));
    expect(header).toHaveAttribute('aria-sort', 'descending');
  });

  it('searches (with "/" to focus the box) and filters active/all', async () => {
    const { user, table } = await renderDesk();
    await user.click(document.body);
    await user.keyboard('/');
    const search = screen.getByRole('searchbox', { name: 'Search sessions' });
    expect(search).toHaveFocus();
    // Names, addresses and IPs are not prose: no spelling marks, and no
    // spell checker laying the page out between keystrokes.
    expect(search).toHaveAttribute('spellcheck', 'false');
    await user.type(search, 'user3@');
    await waitFor(() => expect(within(table).queryByText('user1@acme.test')).not.toBeInTheDocument());
    expect(within(table).getByText('user3@acme.test')).toBeInTheDocument();

    fake.sessions[2].status = 'expired';
    await user.clear(search);
    await user.selectOptions(screen.getByRole('combobox', { name: 'Show' }), 'all');
    await waitFor(() =>
      expect(api.listSessions).toHaveBeenLastCalledWith(expect.objectContaining({ status: 'all', search: '' })),
    );
  });

  it('asks Go only for the window in view, even with 100,000 sessions', async () => {
    resetFake({ sessions: 100_000 });
    const { table } = await renderDesk();
    const rows = within(table).getAllByRole('row');
    expect(rows.length).toBeLessThan(60);
    expect(table).toHaveAttribute('aria-rowcount', String(100_001 + 1));
    for (const [q] of api.listSessions.mock.calls) expect(q.limit).toBeLessThanOrEqual(100);
  });

  it('filters devices by trust and searches them', async () => {
    const { user } = await renderDesk();
    await user.click(screen.getByRole('tab', { name: 'Devices' }));
    const table = await screen.findByRole('table', { name: 'Devices' });
    await within(table).findByText('Chrome on macOS #1');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Show' }), 'Trusted');
    await waitFor(() => expect(within(table).queryByText('Chrome on macOS #1')).not.toBeInTheDocument());
    expect(within(table).getByText('Chrome on macOS #2')).toBeInTheDocument();
    expect(api.listDevices).toHaveBeenLastCalledWith(expect.objectContaining({ trusted: 'true' }));
    await user.type(screen.getByRole('searchbox', { name: 'Search devices' }), '#0');
    await waitFor(() => expect(within(table).queryByText('Chrome on macOS #2')).not.toBeInTheDocument());
    expect(within(table).getByText('Chrome on macOS #0')).toBeInTheDocument();
  });

  it('refreshes the table when the Go side says sessions changed', async () => {
    const { table } = await renderDesk();
    fake.sessions = fake.sessions.filter((s) => s.id !== 's-1');
    emit('sessions:changed');
    await waitFor(() => expect(within(table).queryByText('user1@acme.test')).not.toBeInTheDocument());
  });
});

describe('header and export', () => {
  it('exports the current filtered, sorted view to CSV and shows the written path', async () => {
    const { user } = await renderDesk();
    await user.type(screen.getByRole('searchbox', { name: 'Search sessions' }), 'user');
    await user.click(within(screen.getByRole('columnheader', { name: /IP/ })).getByRole('button'));
    await waitFor(() =>
      expect(api.listSessions).toHaveBeenLastCalledWith(expect.objectContaining({ search: 'user', sort: 'ip' })),
    );
    await user.click(screen.getByRole('button', { name: 'Export CSV' }));
    expect(api.exportSessionsCSV).toHaveBeenCalledWith(
      expect.objectContaining({ search: 'user', status: 'active', sort: 'ip', desc: false }),
    );
    expect(await screen.findByText(/Exported 5 sessions to \/home\/test\/sessions\.csv/)).toBeInTheDocument();
  });

  it('shows the org, the user, sync progress, and Sync now', async () => {
    const { user } = await renderDesk();
    expect(screen.getByText('Acme Health')).toBeInTheDocument();
    expect(screen.getByRole('banner')).toHaveTextContent('Ada Admin');
    expect(screen.getByText(/Synced 1 min ago/)).toBeInTheDocument();
    emit('sync:status', { ...fake.sync, syncing: true, phase: 'sessions', done: 400, total: 1000 });
    expect(await screen.findByRole('progressbar', { name: 'Sync progress' })).toHaveAttribute('value', '400');
    expect(screen.getByRole('button', { name: 'Sync now' })).toBeDisabled();
    emit('sync:status', { ...fake.sync, syncing: false });
    await user.click(await screen.findByRole('button', { name: 'Sync now' }));
    expect(api.syncNow).toHaveBeenCalled();
  });
});

describe('sync status', () => {
  it('ignores a status older than the one shown, so the spinner cannot stick', async () => {
    await renderDesk();
    const l0 = new Date(Date.now() - 60_000).toISOString();
    const l1 = new Date().toISOString();
    emit('sync:status', { ...fake.sync, syncing: false, lastSyncAt: l1 });
    // A mid-sync status from before l1 arrives late.
    emit('sync:status', { ...fake.sync, syncing: true, phase: 'saving', lastSyncAt: l0 });
    expect(await screen.findByText(/Synced just now/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sync now' })).toBeEnabled();
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
  });
});

describe('confirmation dialogs', () => {
  it('Terminate names the user and device, and calls the action with the reason', async () => {
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('button', { name: 'Terminate' }));
    const dialog = screen.getByRole('dialog', { name: 'Terminate this session?' });
    expect(dialog).toHaveTextContent('User 1');
    expect(dialog).toHaveTextContent('user1@acme.test');
    expect(dialog).toHaveTextContent('Firefox 133 on Windows');
    await user.type(within(dialog).getByRole('textbox', { name: /Reason/ }), 'stolen laptop');
    await user.click(within(dialog).getByRole('button', { name: 'Terminate' }));
    expect(api.terminateSession).toHaveBeenCalledWith('s-1', 'stolen laptop');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(await screen.findByText(/Terminated the session of User 1/)).toBeInTheDocument();
    await waitFor(() => expect(within(table).queryByText('user1@acme.test')).not.toBeInTheDocument());
  });

  it('shows progress while the call runs', async () => {
    const { user, table } = await renderDesk();
    let finish!: () => void;
    api.terminateSession.mockImplementationOnce(
      () => new Promise((ok) => (finish = () => ok(fake.sessions[1]))),
    );
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('button', { name: 'Terminate' }));
    const dialog = screen.getByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Terminate' }));
    const busy = within(dialog).getByRole('button', { name: 'Terminating…' });
    expect(busy).toBeDisabled();
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toBeDisabled();
    finish();
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  });

  it('Cancel and Escape change nothing', async () => {
    const { user, table } = await renderDesk();
    const row = rowOf(table, 'user2@acme.test');
    await user.click(within(row).getByRole('button', { name: 'Terminate' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();

    await user.click(within(row).getByRole('button', { name: 'Terminate' }));
    const dialog = screen.getByRole('dialog');
    await user.type(within(dialog).getByRole('textbox', { name: /Reason/ }), 'oops');
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Terminate all sessions' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();

    expect(api.terminateSession).not.toHaveBeenCalled();
    expect(api.terminateAllSessions).not.toHaveBeenCalled();
    expect(within(table).getByText('user2@acme.test')).toBeInTheDocument();
  });

  it('keeps a failure inside the dialog', async () => {
    const { user, table } = await renderDesk();
    api.terminateSession.mockRejectedValueOnce({ code: 'permission_denied', message: 'You may not do that.' });
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('button', { name: 'Terminate' }));
    const dialog = screen.getByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Terminate' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('You may not do that.');
    expect(dialog).toBeInTheDocument();
    expect(within(dialog).getByRole('button', { name: 'Terminate' })).toBeEnabled();
  });

  it('Terminate all sessions says how many it ends and keeps my own session by default', async () => {
    const { user } = await renderDesk();
    await waitFor(() => expect(screen.getByRole('tab', { name: /^Sessions/ })).toHaveTextContent('6'));
    await user.click(screen.getByRole('button', { name: 'Terminate all sessions' }));
    const dialog = screen.getByRole('dialog', { name: 'Terminate all sessions?' });
    const keep = within(dialog).getByRole('checkbox', { name: 'Keep my own session' });
    expect(keep).toBeChecked();
    expect(dialog).toHaveTextContent('This ends 5 active sessions in Acme Health');
    await user.click(keep);
    expect(dialog).toHaveTextContent('This ends 6 active sessions');
    await user.click(keep);
    await user.type(within(dialog).getByRole('textbox', { name: /Reason/ }), 'incident 42');
    await user.click(within(dialog).getByRole('button', { name: 'Terminate all sessions' }));
    expect(api.terminateAllSessions).toHaveBeenCalledWith(true, 'incident 42');
    expect(await screen.findByText(/Terminated 5 sessions; your own session stays signed in/)).toBeInTheDocument();
  });

  it('Revoke trust names the device and its user', async () => {
    const { user } = await renderDesk();
    await user.click(screen.getByRole('tab', { name: 'Devices' }));
    const table = await screen.findByRole('table', { name: 'Devices' });
    const row = (await within(table).findByText('Chrome on macOS #2')).closest('tr') as HTMLElement;
    await user.click(within(row).getByRole('button', { name: 'Revoke trust' }));
    const dialog = screen.getByRole('dialog', { name: 'Revoke trust from this device?' });
    expect(dialog).toHaveTextContent('Chrome on macOS #2');
    expect(dialog).toHaveTextContent('user2@acme.test');
    await user.click(within(dialog).getByRole('button', { name: 'Revoke trust' }));
    expect(api.revokeDeviceTrust).toHaveBeenCalledWith('d-2', '');
    await waitFor(() => expect(within(row).queryByRole('button', { name: 'Revoke trust' })).not.toBeInTheDocument());
    // Untrusted devices never offer it.
    const untrusted = within(table).getByText('Chrome on macOS #1').closest('tr') as HTMLElement;
    expect(within(untrusted).queryByRole('button', { name: 'Revoke trust' })).not.toBeInTheDocument();
  });
});

describe('permission gating', () => {
  /** Sessions offer Terminate per row, but neither "Terminate all sessions" nor, on trusted devices, "Revoke trust". */
  /** trust: whether the identity system has device trust (then trusted devices show as such). */
  async function expectNoTerminateAllNorRevoke(trust = true) {
    const { user, table } = await renderDesk();
    expect(within(table).getAllByRole('button', { name: 'Terminate' }).length).toBeGreaterThan(0);
    expect(screen.queryByRole('button', { name: 'Terminate all sessions' })).not.toBeInTheDocument();
    await user.click(screen.getByRole('tab', { name: 'Devices' }));
    const devices = await screen.findByRole('table', { name: 'Devices' });
    await within(devices).findByText('Chrome on macOS #2');
    if (trust) {
      expect(within(devices).getAllByText('Trusted').length).toBeGreaterThan(0);
    } else {
      // No device trust: neither the Trusted column nor the trust filter.
      expect(within(devices).queryByRole('columnheader', { name: /Trusted/ })).not.toBeInTheDocument();
      expect(within(devices).queryByText('Trusted')).not.toBeInTheDocument();
      expect(screen.queryByRole('combobox', { name: 'Show' })).not.toBeInTheDocument();
    }
    expect(screen.queryByRole('button', { name: 'Revoke trust' })).not.toBeInTheDocument();
  }

  it('an auditor sees the lists but no "Terminate all sessions" nor "Revoke trust"', async () => {
    resetFake({ auth: signedIn(AUDITOR) });
    await expectNoTerminateAllNorRevoke();
  });

  it('a provider that cannot end all sessions nor revoke trust offers neither, whatever the permissions', async () => {
    resetFake({ auth: signedIn(undefined, { ...PLATFORMD, endAll: false, revokeDeviceTrust: false }) });
    await expectNoTerminateAllNorRevoke(false);
  });

  it('without platform.sessions.view: a "No access" screen naming it, with Sign out', async () => {
    resetFake({ auth: signedIn([]) });
    const user = userEvent.setup();
    render(App);
    const heading = await screen.findByRole('heading', { name: 'No access' });
    expect(heading.closest('section')).toHaveTextContent('platform.sessions.view');
    expect(screen.queryByRole('tab')).not.toBeInTheDocument();
    expect(api.listSessions).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    const dlg = await screen.findByRole('dialog', { name: 'Sign out of Sessions Desk?' });
    await user.click(within(dlg).getByRole('button', { name: 'Sign out' }));
    expect(api.signOut).toHaveBeenCalled();
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });
});

describe('offline', () => {
  it('shows the cache age, disables destructive actions with the reason, keeps search, and clears by itself', async () => {
    fake.offline = true;
    fake.snapshotAt = new Date(Date.now() - 12 * 60_000 - 5_000).toISOString();
    fake.sync = { ...fake.sync, online: false };
    const { user, table } = await renderDesk();

    const banner = await screen.findByText(/showing data cached/);
    expect(banner.closest('[role="status"]')).toHaveTextContent('Offline — showing data cached 12 min ago');

    const terminate = within(rowOf(table, 'user1@acme.test')).getByRole('button', { name: 'Terminate' });
    expect(terminate).toBeDisabled();
    expect(terminate).toHaveAttribute('title', expect.stringMatching(/offline/i));
    const all = screen.getByRole('button', { name: 'Terminate all sessions' });
    expect(all).toBeDisabled();
    expect(all).toHaveAccessibleDescription(/offline/i);

    await user.type(screen.getByRole('searchbox', { name: 'Search sessions' }), 'user4');
    await waitFor(() => expect(within(table).queryByText('user1@acme.test')).not.toBeInTheDocument());
    expect(within(table).getByText('user4@acme.test')).toBeInTheDocument();

    await user.click(screen.getByRole('tab', { name: 'Devices' }));
    const devices = await screen.findByRole('table', { name: 'Devices' });
    const revoke = await within(devices).findAllByRole('button', { name: 'Revoke trust' });
    for (const b of revoke) expect(b).toBeDisabled();

    fake.offline = false;
    fake.sync = { ...fake.sync, online: true, lastSyncAt: new Date().toISOString() };
    emit('sync:status', fake.sync);
    await waitFor(() => expect(screen.queryByText(/showing data cached/)).not.toBeInTheDocument());
    for (const b of within(devices).getAllByRole('button', { name: 'Revoke trust' })) expect(b).toBeEnabled();
  });
});

describe('sign-in', () => {
  // A shared workstation keeps no trusted device (Go enforces it): the form does not offer it.
  it.each([false, true])('asks for the TOTP code, with "Trust this device" unless on a shared workstation (%s)', async (shared) => {
    resetFake({ auth: { ...signedOut(), sharedWorkstation: shared } });
    fake.profiles = [{ id: 'p1', serverUrl: 'http://127.0.0.1:9000', org: 'acme', email: 'mfa@acme.test' }];
    api.signIn.mockRejectedValueOnce({ code: 'mfa_required', message: 'Enter the code from your authenticator.' });
    const user = userEvent.setup();
    render(App);

    // The remembered profile fills everything but the password.
    const email = await screen.findByRole('textbox', { name: 'Email' });
    await waitFor(() => expect(email).toHaveValue('mfa@acme.test'));
    expect(screen.getByRole('textbox', { name: 'Organization' })).toHaveValue('acme');
    expect(screen.getByRole('textbox', { name: 'Server URL' })).toHaveValue('http://127.0.0.1:9000');
    const password = screen.getByLabelText('Password');
    expect(password).toHaveValue('');
    await user.type(password, 'demo-password');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    const code = await screen.findByRole('textbox', { name: 'Authentication code' });
    expect(code).toHaveFocus();
    await user.type(code, '123456');
    if (shared) {
      expect(screen.queryByRole('checkbox', { name: 'Trust this device' })).toBeNull();
      expect(screen.getByText(/shared workstation, so it is never trusted/)).toBeInTheDocument();
    } else {
      await user.click(screen.getByRole('checkbox', { name: 'Trust this device' }));
    }
    await user.click(screen.getByRole('button', { name: 'Verify' }));

    expect(api.signIn).toHaveBeenLastCalledWith({
      serverUrl: 'http://127.0.0.1:9000',
      org: 'acme',
      email: 'mfa@acme.test',
      password: 'demo-password',
      totp: '123456',
      trustDevice: !shared,
      caFile: '',
    });
    expect(await screen.findByRole('tab', { name: /^Sessions/ })).toBeInTheDocument();
  });

  it('starts with the -server address; a remembered account fills the form only when it is on that platform', async () => {
    const a = { id: 'pa', serverUrl: 'https://a.example', org: 'alpha', email: 'ada@alpha.test' };
    const b = { id: 'pb', serverUrl: 'https://b.example', org: 'beta', email: 'bo@beta.test' };
    resetFake({ auth: { ...signedOut(), defaultServer: 'https://b.example' } });
    fake.profiles = [a, b]; // a was used last
    const first = render(App);
    const email = await screen.findByRole('textbox', { name: 'Email' });
    await waitFor(() => expect(email).toHaveValue('bo@beta.test'));
    expect(screen.getByRole('textbox', { name: 'Server URL' })).toHaveValue('https://b.example');
    expect(screen.getByRole('textbox', { name: 'Organization' })).toHaveValue('beta');
    await waitFor(() => expect(screen.getByLabelText('Password')).toHaveFocus());
    first.unmount();

    // No account on that platform: only the address, and typing starts at Organization.
    resetFake({ auth: { ...signedOut(), defaultServer: 'https://c.example' } });
    fake.profiles = [a, b];
    render(App);
    const server = await screen.findByRole('textbox', { name: 'Server URL' });
    expect(server).toHaveValue('https://c.example');
    await waitFor(() => expect(screen.getByRole('textbox', { name: 'Organization' })).toHaveFocus());
    expect(screen.getByRole('textbox', { name: 'Organization' })).toHaveValue('');
    expect(screen.getByRole('textbox', { name: 'Email' })).toHaveValue('');
  });

  it('offers an organization CA file for an https platform and reports an untrusted certificate there', async () => {
    resetFake({ auth: signedOut() });
    api.signIn.mockRejectedValueOnce({
      code: 'untrusted_certificate',
      message: "The platform's certificate is signed by an authority this computer does not trust.",
      field: 'caFile',
    });
    const user = userEvent.setup();
    render(App);
    const server = await screen.findByRole('textbox', { name: 'Server URL' });
    expect(screen.queryByRole('textbox', { name: /CA certificate file/ })).not.toBeInTheDocument();
    await user.clear(server);
    await user.type(server, 'https://platform.acme.test');
    await user.type(screen.getByRole('textbox', { name: 'Organization' }), 'acme');
    await user.type(screen.getByRole('textbox', { name: 'Email' }), 'admin@acme.test');
    await user.type(screen.getByLabelText('Password'), 'demo-password');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    const ca = screen.getByRole('textbox', { name: /CA certificate file/ });
    expect(ca).toHaveAttribute('aria-invalid', 'true');
    expect(await screen.findByText(/authority this computer does not trust/)).toBeInTheDocument();
    await user.type(ca, '/etc/ssl/acme-ca.pem');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(api.signIn).toHaveBeenLastCalledWith(expect.objectContaining({ caFile: '/etc/ssl/acme-ca.pem', serverUrl: 'https://platform.acme.test' }));
  });

  it('shows an error next to the field it concerns', async () => {
    resetFake({ auth: signedOut() });
    api.signIn.mockRejectedValueOnce({ code: 'invalid_argument', message: 'Not a URL.', field: 'server' });
    const user = userEvent.setup();
    render(App);
    await user.type(await screen.findByRole('textbox', { name: 'Server URL' }), 'nope');
    await user.type(screen.getByRole('textbox', { name: 'Organization' }), 'acme');
    await user.type(screen.getByRole('textbox', { name: 'Email' }), 'a@acme.test');
    await user.type(screen.getByLabelText('Password'), 'pw');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    const server = screen.getByRole('textbox', { name: 'Server URL' });
    await waitFor(() => expect(server).toHaveAttribute('aria-invalid', 'true'));
    expect(server).toHaveAccessibleDescription(/Not a URL\.$/);
  });

  it('after a refused sign-in puts the caret on the field to correct, or on Sign in, never on nothing', async () => {
    resetFake({ auth: signedOut() });
    api.signIn
      .mockRejectedValueOnce({ code: 'unauthenticated', message: 'The organization, e-mail or password is not right.' })
      .mockRejectedValueOnce({ code: 'invalid_argument', message: 'Not a URL.', field: 'server' })
      .mockRejectedValueOnce({ code: 'unavailable', message: 'The platform is busy.' });
    const user = userEvent.setup();
    render(App);
    const server = await screen.findByRole('textbox', { name: 'Server URL' });
    await user.type(server, 'https://platform.acme.test');
    await user.type(screen.getByRole('textbox', { name: 'Organization' }), 'acme');
    await user.type(screen.getByRole('textbox', { name: 'Email' }), 'a@acme.test');
    const password = screen.getByLabelText('Password');
    await user.type(password, 'wrong');
    const signInButton = screen.getByRole('button', { name: 'Sign in' });

    await user.click(signInButton);
    await waitFor(() => expect(password).toHaveAttribute('aria-invalid', 'true'));
    await waitFor(() => expect(password).toHaveFocus());

    await user.click(signInButton);
    await waitFor(() => expect(server).toHaveAttribute('aria-invalid', 'true'));
    await waitFor(() => expect(server).toHaveFocus());

    await user.click(signInButton);
    expect(await screen.findByRole('alert')).toHaveTextContent('The platform is busy.');
    await waitFor(() => expect(screen.getByRole('button', { name: 'Sign in' })).toHaveFocus());
  });

  it('in demo mode waits for the auth:changed event after a loading state', async () => {
    resetFake({ auth: { ...signedOut(), demo: true } });
    render(App);
    expect(await screen.findByText(/signing in/i)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Sign in' })).not.toBeInTheDocument();
    emit('auth:changed', signedIn());
    expect(await screen.findByRole('tab', { name: /^Sessions/ })).toBeInTheDocument();
    expect(await screen.findByTestId('app-info')).toHaveTextContent('Sessions Desk test');
  });

  it('returns to sign-in with a message when the token is rejected', async () => {
    await renderDesk();
    emit('auth:changed', { ...signedOut(), message: 'Your session was terminated by an administrator.' });
    expect(await screen.findByText('Your session was terminated by an administrator.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });
});
