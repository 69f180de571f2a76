// The sign-in form's provider choice and what a Kratos profile is offered:
// never a button the provider cannot honour, and a sentence saying why.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from './App.svelte';
import * as api from './test/fakeApi';
import { fake, resetFake, signedIn, signedInKratos, signedOut } from './test/fakeApi';
import { count } from './lib/format';

vi.mock('./lib/api', () => import('./test/fakeApi'));

beforeEach(() => {
  resetFake();
});

describe('sign-in with a provider', () => {
  it('offers "Sessions Desk platform" and "Ory Kratos"; Kratos asks for its admin URL, an optional API key and the email', async () => {
    resetFake({ auth: signedOut() });
    const user = userEvent.setup();
    render(App);
    const platform = await screen.findByRole('radio', { name: 'Sessions Desk platform' });
    expect(platform).toBeChecked();
    expect(screen.getByRole('textbox', { name: 'Organization' })).toBeInTheDocument();

    await user.click(screen.getByRole('radio', { name: 'Ory Kratos' }));
    expect(screen.queryByRole('textbox', { name: 'Organization' })).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Password')).not.toBeInTheDocument();
    const url = screen.getByRole('textbox', { name: 'Admin API URL' });
    const key = screen.getByLabelText('API key (optional)');
    expect(key).toHaveAttribute('type', 'password');

    // Empty: the address and the email are asked for, not the key.
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText("Enter the address of Kratos' admin API.")).toBeInTheDocument();
    expect(screen.getByText('Enter your e-mail address.')).toBeInTheDocument();
    expect(api.signIn).not.toHaveBeenCalled();

    await user.type(url, 'https://kratos-admin.example.org');
    await user.type(key, 'proxy-key');
    await user.type(screen.getByRole('textbox', { name: 'Email' }), 'sec@example.org');
    api.signIn.mockResolvedValueOnce(signedInKratos());
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(api.signIn).toHaveBeenLastCalledWith({
      provider: 'kratos',
      serverUrl: 'https://kratos-admin.example.org',
      caFile: '',
      apiKey: 'proxy-key',
      email: 'sec@example.org',
      org: '',
      password: '',
      totp: '',
      trustDevice: false,
    });
    expect(await screen.findByRole('tab', { name: /^Sessions/ })).toBeInTheDocument();
  });

  it('a remembered Kratos account chooses Ory Kratos; a platform account beside it the platform', async () => {
    resetFake({ auth: signedOut() });
    fake.profiles = [
      { id: 'pk', serverUrl: 'http://127.0.0.1:4434', org: '', email: 'sec@example.test', provider: 'kratos' },
      { id: 'pp', serverUrl: 'https://platform.acme.test', org: 'acme', email: 'admin@acme.test' },
    ];
    const user = userEvent.setup();
    render(App);
    await waitFor(() => expect(screen.getByRole('radio', { name: 'Ory Kratos' })).toBeChecked());
    expect(screen.getByRole('textbox', { name: 'Admin API URL' })).toHaveValue('http://127.0.0.1:4434');
    expect(screen.getByText(/Ory Kratos · http:\/\/127\.0\.0\.1:4434/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: /admin@acme\.test/ }));
    expect(screen.getByRole('radio', { name: 'Sessions Desk platform' })).toBeChecked();
    expect(screen.getByRole('textbox', { name: 'Organization' })).toHaveValue('acme');
  });

  it('a field the Go side blames (the admin URL) gets the error and the caret', async () => {
    resetFake({ auth: signedOut() });
    api.signIn.mockRejectedValueOnce({ code: 'not_found', field: 'server', message: 'There is no Kratos admin API at http://127.0.0.1:4433.' });
    const user = userEvent.setup();
    render(App);
    await user.click(await screen.findByRole('radio', { name: 'Ory Kratos' }));
    const url = screen.getByRole('textbox', { name: 'Admin API URL' });
    await user.type(url, 'http://127.0.0.1:4433');
    await user.type(screen.getByRole('textbox', { name: 'Email' }), 'sec@example.org');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText(/There is no Kratos admin API/)).toBeInTheDocument();
    await waitFor(() => expect(url).toHaveFocus());
  });
});

describe('a Kratos profile', () => {
  async function renderKratos(setup = () => {}) {
    resetFake({ auth: signedInKratos() });
    setup();
    const user = userEvent.setup();
    render(App);
    const table = await screen.findByRole('table', { name: 'Sessions' });
    await within(table).findByText('user1@acme.test');
    return { user, table };
  }

  it('offers every end, no "Revoke trust" (the Devices tab says why), and polls: "checking every N s", never "Live"', async () => {
    const { user, table } = await renderKratos(() => {
      fake.sync = { ...fake.sync, intervalSeconds: 45, liveNote: 'Kratos has no event stream.' };
    });
    expect(within(table).getAllByRole('button', { name: 'Terminate' }).length).toBeGreaterThan(0);
    await user.click(screen.getByRole('button', { name: 'Terminate all sessions' }));
    const dialog = await screen.findByRole('dialog', { name: /Terminate all/ });
    // An admin key is no session: nothing to keep.
    expect(within(dialog).queryByRole('checkbox', { name: 'Keep my own session' })).not.toBeInTheDocument();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    const status = screen.getByRole('group', { name: 'Sync status' });
    await waitFor(() => expect(within(status).getByText(/checking every 45 s/)).toBeInTheDocument());
    expect(within(status).queryByText('Live')).not.toBeInTheDocument();
    expect(screen.getByTestId('role-hint')).toHaveTextContent(/admin API grants every action/);

    await user.click(screen.getByRole('tab', { name: 'Devices' }));
    const devices = await screen.findByRole('table', { name: 'Devices' });
    await within(devices).findByText('Chrome on macOS #2');
    expect(screen.queryByRole('button', { name: 'Revoke trust' })).not.toBeInTheDocument();
    expect(screen.getByRole('note')).toHaveTextContent('Ory Kratos has no device trust');
  });

  it('Terminate all counts every active session, shows "Ending sessions… N of M" while it runs, then the result', async () => {
    const { user } = await renderKratos();
    const active = fake.sessions.filter((r) => r.status === 'active').length;
    await user.click(screen.getByRole('button', { name: 'Terminate all sessions' }));
    const dialog = await screen.findByRole('dialog', { name: /Terminate all/ });
    // No own session to keep: all of them end, not one fewer.
    expect(dialog).toHaveTextContent(`This ends ${count(active)} active sessions`);
    let finish: () => void = () => {};
    api.terminateAllSessions.mockImplementationOnce(
      () => new Promise((resolve) => (finish = () => resolve({ terminated: active }))),
    );
    const typed = within(dialog).queryByRole('textbox', { name: /short name/ });
    if (typed) await user.type(typed, 'kratos.example');
    await user.click(within(dialog).getByRole('button', { name: 'Terminate all sessions' }));
    await waitFor(() => expect(api.terminateAllSessions).toHaveBeenCalled());
    api.emit('sessions:terminate-progress', { done: 3, total: active });
    const bar = await within(dialog).findByRole('progressbar', { name: 'Ending sessions' });
    expect(bar).toHaveAttribute('value', '3');
    expect(within(dialog).getByRole('status')).toHaveTextContent(`Ending sessions… 3 of ${count(active)}`);
    finish();
    expect(await screen.findByText(`Terminated ${count(active)} sessions.`)).toBeInTheDocument();
    expect(screen.queryByText(/your own session stays signed in/)).not.toBeInTheDocument();
  });

  it('names Ory Kratos, not the platform, when it cannot be reached', async () => {
    await renderKratos(() => {
      fake.offline = true;
      fake.snapshotAt = new Date(Date.now() - 5 * 60_000).toISOString();
      fake.sync = { ...fake.sync, online: false };
    });
    const banner = await screen.findByText(/Ory Kratos cannot be reached/);
    expect(banner.closest('#offline-banner')).not.toHaveTextContent('platform');
    expect(screen.getAllByRole('button', { name: 'Terminate' })[0]).toHaveAttribute('title', 'Unavailable while offline: Ory Kratos cannot be reached.');
  });

  it('an audit event of the workstation names its actor once, by e-mail', async () => {
    const { user } = await renderKratos(() => {
      fake.audit = [
        {
          id: 'w1',
          at: new Date().toISOString(),
          actor: { id: 'sec@example.test', name: 'sec@example.test', email: 'sec@example.test' },
          action: 'session.terminate',
          target_id: 's1',
          target_label: 'Chrome on macOS',
          count: 1,
          reason: 'lost laptop',
        } as (typeof fake.audit)[number],
      ];
    });
    await user.click(screen.getByRole('tab', { name: 'Audit log' }));
    const log = await screen.findByRole('table', { name: 'Actions taken from this workstation' });
    await user.click(await within(log).findByRole('button', { name: /lost laptop/ }));
    const panel = screen.getByRole('complementary', { name: 'Audit event' });
    expect(within(log).getAllByText('sec@example.test')).toHaveLength(1);
    expect(panel.textContent!.split('sec@example.test')).toHaveLength(2);
  });

  it('the Audit log tab shows "Actions taken from this workstation"', async () => {
    const { user } = await renderKratos();
    await user.click(screen.getByRole('tab', { name: 'Audit log' }));
    expect(await screen.findByRole('heading', { name: 'Actions taken from this workstation' })).toBeInTheDocument();
    expect(screen.getByRole('table', { name: 'Actions taken from this workstation' })).toBeInTheDocument();
    expect(screen.getByRole('note')).toHaveTextContent('keeps no audit log');
  });

  it('a platformd profile shows neither sentence and keeps "Revoke trust"', async () => {
    resetFake({ auth: signedIn() });
    const user = userEvent.setup();
    render(App);
    await screen.findByRole('table', { name: 'Sessions' });
    await user.click(screen.getByRole('tab', { name: 'Devices' }));
    const devices = await screen.findByRole('table', { name: 'Devices' });
    await within(devices).findByText('Chrome on macOS #2');
    expect(within(devices).getAllByRole('button', { name: 'Revoke trust' }).length).toBeGreaterThan(0);
    expect(screen.queryByRole('note')).not.toBeInTheDocument();
    await user.click(screen.getByRole('tab', { name: 'Audit log' }));
    expect(await screen.findByRole('table', { name: 'Audit log' })).toBeInTheDocument();
    expect(screen.queryByText('Actions taken from this workstation')).not.toBeInTheDocument();
  });
});
