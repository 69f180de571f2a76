// Component tests of the v1.1 investigation views, through the whole desk
// against the fake api: Overview, the person page, the details panel, filter
// chips, selection and Terminate selected, Terminate all friction, the audit
// log and the time setting.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/svelte';
import * as api from '../test/fakeApi';
import { fake, resetFake } from '../test/fakeApi';
import { renderDesk, resetDesk, rowOf } from '../test/desk';

vi.mock('../lib/api', () => import('../test/fakeApi'));

beforeEach(resetDesk);

describe('Overview', () => {
  it('shows the figures and charts, each chart also as a table, and a bar opens the filtered list', async () => {
    const { user } = await renderDesk();
    await user.click(screen.getByRole('tab', { name: 'Overview' }));
    expect(await screen.findByText('active sessions')).toBeInTheDocument();
    const countries = screen.getByRole('table', { name: 'Active sessions by country' });
    expect(within(countries).getByRole('rowheader', { name: 'DE' })).toBeInTheDocument();
    // Headers start with a capital, as in every other table.
    expect(within(countries).getAllByRole('columnheader').map((h) => h.textContent)).toEqual(['Group', 'Sessions']);
    expect(screen.getByRole('table', { name: 'Active sessions by platform' })).toBeInTheDocument();
    const bar = screen.getByRole('link', { name: /^DE: 4 sessions — show these sessions$/ });
    await user.click(bar);
    expect(screen.getByRole('tab', { name: /^Sessions/ })).toHaveAttribute('aria-selected', 'true');
    expect(await screen.findByText('Country: DE')).toBeInTheDocument();
    await waitFor(() => expect(api.listSessions).toHaveBeenLastCalledWith(expect.objectContaining({ country: 'DE', status: 'active' })));
  });
});

describe('the person page', () => {
  it('opens from a name, signs the person out everywhere through a dialog naming them and the count, and Back keeps the search', async () => {
    const { user, table } = await renderDesk();
    const search = screen.getByRole('searchbox', { name: 'Search sessions' });
    await user.type(search, 'user1');
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('button', { name: 'User 1' }));
    expect(await screen.findByRole('heading', { name: 'User 1' })).toBeInTheDocument();
    await user.click(await screen.findByRole('button', { name: 'Sign out everywhere' }));
    const dialog = await screen.findByRole('dialog', { name: 'Sign User 1 out everywhere?' });
    expect(dialog).toHaveTextContent('This ends 1 active session of User 1');
    expect(within(dialog).queryByRole('checkbox', { name: 'Keep my own session' })).toBeNull();
    await user.type(within(dialog).getByRole('textbox'), 'phished');
    const personSessions = await screen.findByRole('table', { name: 'Sessions of User 1' });
    // Statuses read as in the Sessions table: "Active", not the wire's "active".
    expect((await within(personSessions).findAllByText('Active'))[0]).toHaveClass('pill');
    expect(within(personSessions).queryByText('active')).toBeNull();
    await user.click(within(dialog).getByRole('button', { name: 'Sign out everywhere' }));
    await waitFor(() => expect(api.signOutEverywhere).toHaveBeenCalledWith('u-1', true, 'phished'));
    // The button goes disabled with nothing left to end: focus lands on the person's sessions, not on nothing.
    await waitFor(() => expect(screen.getByRole('region', { name: 'Sessions of User 1 table' })).toHaveFocus());
    await user.click(screen.getByRole('button', { name: '← Back' }));
    await waitFor(() => expect(screen.queryByRole('heading', { name: 'User 1' })).toBeNull());
    expect(screen.getByRole('searchbox', { name: 'Search sessions' })).toHaveValue('user1');
  });

  it('offers "Keep my own session" on your own page', async () => {
    fake.sessions.push({ ...fake.sessions[0], id: 's-me-2', current: false, client: 'Firefox 133 on Linux' });
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'Sessions Desk on Linux')).getByRole('button', { name: 'Ada Admin' }));
    await user.click(await screen.findByRole('button', { name: 'Sign out everywhere' }));
    const dialog = await screen.findByRole('dialog', { name: 'Sign Ada Admin out everywhere?' });
    expect(within(dialog).getByRole('checkbox', { name: 'Keep my own session' })).toBeChecked();
    expect(dialog).toHaveTextContent('This ends 1 active session of Ada Admin');
  });
});

describe('the details panel', () => {
  it('shows every field in full with a copy button, and closes with Escape', async () => {
    fake.sessions[1].user_agent = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) a very long user agent that a table cuts';
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('button', { name: /^Details of the session of User 1/ }));
    const panel = await screen.findByRole('complementary', { name: 'Session details' });
    await within(panel).findByText(fake.sessions[1].user_agent);
    expect(panel).toHaveTextContent('s-1');
    expect(panel).toHaveTextContent(/\d{4}.*\d\d:\d\d:\d\d/);
    await user.click(within(panel).getByRole('button', { name: 'Copy IP address' }));
    expect(api.copyText).toHaveBeenCalledWith(fake.sessions[1].ip);
    within(panel).getByRole('heading', { name: 'Session details' }).focus();
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('complementary', { name: 'Session details' })).toBeNull());
  });
});

describe('Details', () => {
  it('opens the panel without selecting the row: no "Terminate selected" appears', async () => {
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'user2@acme.test')).getByRole('checkbox'));
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('button', { name: /^Details of the session of User 1/ }));
    await screen.findByRole('complementary', { name: 'Session details' });
    // The selection is what it was: user2's row only, not user1's.
    expect(screen.getByText((_, el) => el?.textContent === '1 session selected.')).toBeInTheDocument();
    expect(within(rowOf(table, 'user2@acme.test')).getByRole('checkbox')).toBeChecked();
    expect(within(rowOf(table, 'user1@acme.test')).getByRole('checkbox')).not.toBeChecked();
    await user.click(screen.getByRole('button', { name: 'Clear selection' }));
    await user.click(within(rowOf(table, 'user2@acme.test')).getByRole('button', { name: /^Details of the session of User 2/ }));
    expect(screen.queryByRole('button', { name: 'Terminate selected' })).toBeNull();
    expect(within(rowOf(table, 'user2@acme.test')).getByRole('checkbox')).not.toBeChecked();
  });
});

describe('the details panel of an ended session', () => {
  it('says when it ended and counts down to no expiry', async () => {
    const ended = { ...structuredClone(fake.sessions[1]), status: 'terminated', terminated_at: new Date(Date.now() - 60_000).toISOString() };
    api.sessionDetails.mockResolvedValueOnce({ session: ended, device: null, ended: null });
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('button', { name: /^Details of the session of User 1/ }));
    const panel = await screen.findByRole('complementary', { name: 'Session details' });
    await within(panel).findByText('Ended');
    expect(within(panel).queryByText('Expires')).toBeNull();
    // The status reads as in the Sessions table ("Terminated"), not the wire's "terminated".
    expect(within(panel).getByText('Terminated')).toHaveClass('pill');
  });
});

describe('filters and selection', () => {
  it('filter chips narrow the list and come off again; the toolbar says Terminate all ignores them', async () => {
    const { user } = await renderDesk();
    await user.selectOptions(screen.getByRole('combobox', { name: 'MFA' }), 'no');
    const chips = await screen.findByRole('list', { name: 'Active filters' });
    expect(within(chips).getByText('MFA not used')).toBeInTheDocument();
    await waitFor(() => expect(api.listSessions).toHaveBeenLastCalledWith(expect.objectContaining({ mfa: 'no' })));
    expect(screen.getByText(/“Terminate all sessions” ignores the filters/)).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: /^Terminate the \d+ matching$/ })).toBeInTheDocument();
    await user.click(within(chips).getByRole('button', { name: 'Remove filter MFA not used' }));
    await waitFor(() => expect(screen.queryByRole('list', { name: 'Active filters' })).toBeNull());
  });

  it('selects rows by checkbox and Terminate selected names the people', async () => {
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('checkbox'));
    await user.click(within(rowOf(table, 'user2@acme.test')).getByRole('checkbox'));
    expect(screen.getByText((_, el) => el?.textContent === '2 sessions selected.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Terminate selected' }));
    const dialog = await screen.findByRole('dialog', { name: 'Terminate selected sessions?' });
    await within(dialog).findByText(/This ends/);
    expect(dialog).toHaveTextContent(/This ends 2 active sessions of User \d and User \d/);
    await user.click(within(dialog).getByRole('button', { name: 'Terminate selected' }));
    await waitFor(() => expect(api.terminateSelected).toHaveBeenCalledWith(expect.arrayContaining(['s-1', 's-2']), ''));
    // "Terminate selected" leaves with the selection: focus goes to the table, as after Terminate.
    await waitFor(() => expect(screen.getByRole('region', { name: 'Sessions table' })).toHaveFocus());
  });

  it('a batch failing part-way says how many ended and how many not; those stay selected and end on retry', async () => {
    const { user, table } = await renderDesk();
    fake.selectedFailAfter = 2; // the platform stops answering after the first "batch"
    for (const who of ['user1', 'user2', 'user3', 'user4']) {
      await user.click(within(rowOf(table, `${who}@acme.test`)).getByRole('checkbox'));
    }
    await user.click(screen.getByRole('button', { name: 'Terminate selected' }));
    const dialog = await screen.findByRole('dialog', { name: 'Terminate selected sessions?' });
    await waitFor(() => expect(dialog).toHaveTextContent(/This ends 4 active sessions/));
    await user.click(within(dialog).getByRole('button', { name: 'Terminate selected' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'Terminated 2 sessions; 2 were not ended and stay selected. The platform cannot be reached. Try them again when you are back online.',
    );
    expect(screen.getByText((_, el) => el?.textContent === '2 sessions selected.')).toBeInTheDocument();
    expect(within(rowOf(table, 'user3@acme.test')).getByRole('checkbox')).toBeChecked();
    // The ended ones leave the list of active sessions.
    await waitFor(() => expect(within(table).queryByText('user1@acme.test')).toBeNull());
    await waitFor(() => expect(dialog).toHaveTextContent(/This ends 2 active sessions/));

    fake.selectedFailAfter = 0; // back online: confirming again ends the rest
    await user.click(within(dialog).getByRole('button', { name: 'Terminate selected' }));
    expect(api.terminateSelected).toHaveBeenLastCalledWith(['s-3', 's-4'], '');
    expect(await screen.findByText('Terminated 2 sessions.')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.queryByText(/sessions? selected\./)).toBeNull();
  });

  it('"Select all N matching" keeps the query, not the ids: unticking counts down, and Go resolves the rest', async () => {
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'user3@acme.test')).getByRole('checkbox'));
    await user.click(screen.getByRole('button', { name: 'Select all 6 matching' }));
    // At once, with no ids asked of the Go side.
    expect(screen.getByText((_, el) => el?.textContent === '6 sessions selected.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Select all 6 matching' })).toBeNull();
    expect(api.sessionRangeIds).not.toHaveBeenCalled();
    expect(within(rowOf(table, 'user1@acme.test')).getByRole('checkbox')).toBeChecked();
    // Unticking a row leaves it out, and the count says so.
    await user.click(within(rowOf(table, 'user2@acme.test')).getByRole('checkbox'));
    expect(within(rowOf(table, 'user2@acme.test')).getByRole('checkbox')).not.toBeChecked();
    expect(screen.getByText((_, el) => el?.textContent === '5 sessions selected.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Select all 6 matching' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Terminate selected' }));
    const dialog = await screen.findByRole('dialog', { name: 'Terminate selected sessions?' });
    // The own session is among the 5 and stays: 4 end.
    await waitFor(() => expect(dialog).toHaveTextContent(/This ends 4 active sessions/));
    expect(dialog).toHaveTextContent('Your own session is in the selection; it stays signed in.');
    expect(api.summarizeMatching).toHaveBeenCalledWith(expect.objectContaining({ status: 'active', search: '' }), ['s-2']);
    expect(api.summarizeSelection).not.toHaveBeenCalled();
    await user.click(within(dialog).getByRole('button', { name: 'Terminate selected' }));
    await waitFor(() => expect(api.terminateMatching).toHaveBeenCalledWith(expect.objectContaining({ status: 'active' }), ['s-2'], ''));
    expect(api.terminateSelected).not.toHaveBeenCalled();
    expect(await screen.findByText(/Terminated 4 sessions/)).toBeInTheDocument();
    // The unticked row and the own session stay; the selection is gone.
    await waitFor(() => expect(within(table).queryByText('user1@acme.test')).toBeNull());
    expect(within(table).getByText('user2@acme.test')).toBeInTheDocument();
    expect(screen.queryByText(/sessions? selected\./)).toBeNull();
  });

  it('a new search drops "all matching", as it drops a selection of rows', async () => {
    const { user } = await renderDesk();
    await user.click(screen.getByRole('checkbox', { name: /User 3/ }));
    await user.click(screen.getByRole('button', { name: 'Select all 6 matching' }));
    expect(screen.getByText((_, el) => el?.textContent === '6 sessions selected.')).toBeInTheDocument();
    await user.type(screen.getByRole('searchbox', { name: 'Search sessions' }), 'user');
    await waitFor(() => expect(screen.queryByText(/sessions? selected\./)).toBeNull());
    expect(screen.queryByRole('button', { name: 'Terminate selected' })).toBeNull();
  });

  it('"Terminate the N matching" sends the filter, and a batch failing part-way keeps the query selected', async () => {
    const { user } = await renderDesk();
    await user.selectOptions(screen.getByRole('combobox', { name: 'MFA' }), 'no');
    await waitFor(() => expect(api.listSessions).toHaveBeenLastCalledWith(expect.objectContaining({ mfa: 'no' })));
    const button = await screen.findByRole('button', { name: /^Terminate the \d+ matching$/ });
    const matching = Number(/(\d+)/.exec(button.textContent!)![1]);
    fake.selectedFailAfter = 1; // the platform stops answering after the first "batch"
    await user.click(button);
    const dialog = await screen.findByRole('dialog', { name: 'Terminate selected sessions?' });
    expect(api.summarizeMatching).toHaveBeenCalledWith(expect.objectContaining({ mfa: 'no', status: 'active' }), []);
    await within(dialog).findByText(/This ends/);
    await user.click(within(dialog).getByRole('button', { name: 'Terminate selected' }));
    expect(api.terminateMatching).toHaveBeenCalledWith(expect.objectContaining({ mfa: 'no' }), [], '');
    const left = matching - 1;
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      `Terminated 1 session; ${left} ${left === 1 ? 'was' : 'were'} not ended and ${left === 1 ? 'stays' : 'stay'} selected.`,
    );
    // Still "all matching": the rest, as the list now counts them.
    await waitFor(() => expect(screen.getByText((_, el) => el?.textContent === `${left} ${left === 1 ? 'session' : 'sessions'} selected.`)).toBeInTheDocument());
    fake.selectedFailAfter = 0;
    await user.click(within(dialog).getByRole('button', { name: 'Terminate selected' }));
    expect(await screen.findByText(new RegExp(`Terminated ${left} sessions?`))).toBeInTheDocument();
    expect(api.terminateSelected).not.toHaveBeenCalled();
  });

  it('a Shift-click range asks Go only for the rows of the range', async () => {
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('checkbox'));
    await user.keyboard('{Shift>}');
    await user.click(within(rowOf(table, 'user3@acme.test')).getByRole('checkbox'));
    await user.keyboard('{/Shift}');
    expect(screen.getByText((_, el) => el?.textContent === '3 sessions selected.')).toBeInTheDocument();
    // Every row was loaded: no call.
    expect(api.sessionRangeIds).not.toHaveBeenCalled();
  });
});

describe('Terminate all friction', () => {
  it('over 50 sessions, the button enables only once the organization slug is typed', async () => {
    resetFake({ sessions: 60 });
    const { user } = await renderDesk();
    await user.click(screen.getByRole('button', { name: 'Terminate all sessions' }));
    const dialog = await screen.findByRole('dialog', { name: 'Terminate all sessions?' });
    const confirm = within(dialog).getByRole('button', { name: 'Terminate all sessions' });
    expect(confirm).toBeDisabled();
    await user.type(within(dialog).getByRole('textbox', { name: /type the organization's short name/ }), 'acm');
    expect(confirm).toBeDisabled();
    await user.type(within(dialog).getByRole('textbox', { name: /type the organization's short name/ }), 'e');
    expect(confirm).toBeEnabled();
  });

  it('at 50 or fewer, no typing is asked', async () => {
    const { user } = await renderDesk();
    await user.click(screen.getByRole('button', { name: 'Terminate all sessions' }));
    const dialog = await screen.findByRole('dialog', { name: 'Terminate all sessions?' });
    expect(within(dialog).queryByRole('textbox', { name: /short name/ })).toBeNull();
    expect(within(dialog).getByRole('button', { name: 'Terminate all sessions' })).toBeEnabled();
  });
});

describe('the audit log', () => {
  it('names people and devices, filters by action, reads a reason in full and opens a person', async () => {
    const admin = { id: 'u-me', email: 'admin@acme.test', name: 'Ada Admin' };
    fake.audit = [
      { id: 'a1', at: new Date().toISOString(), actor: admin, action: 'user.sessions.terminate', target_id: 'u-1',
        target_user: fake.sessions[1].user, target_label: '', target_ids: [], count: 1, reason: 'phished '.repeat(40).trim() },
      { id: 'a2', at: new Date().toISOString(), actor: admin, action: 'device.untrust', target_id: 'd-2',
        target_user: fake.sessions[2].user, target_label: 'Chrome on macOS #2', target_ids: [], count: 1, reason: '' },
    ];
    const { user } = await renderDesk();
    await user.click(screen.getByRole('tab', { name: 'Audit log' }));
    const table = await screen.findByRole('table', { name: 'Audit log' });
    await within(table).findByText('Chrome on macOS #2');
    expect(within(table).getByRole('button', { name: 'User 2' })).toBeInTheDocument();
    // A cut action label reads whole on hover, not as the wire's code alone.
    expect(within(table).getByText('Revoked device trust')).toHaveAttribute('title', 'Revoked device trust (device.untrust)');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Action' }), 'user.sessions.terminate');
    await waitFor(() => expect(within(table).queryByText('Chrome on macOS #2')).toBeNull());
    await user.click(within(table).getByRole('button', { name: /Read the event in full/ }));
    const panel = screen.getByRole('complementary', { name: 'Audit event' });
    expect(panel).toHaveTextContent(fake.audit[0].reason);
    await user.click(within(table).getByRole('button', { name: 'User 1' }));
    expect(await screen.findByRole('heading', { name: 'User 1' })).toBeInTheDocument();
  });
});

describe('the time setting', () => {
  it('new views show exact times in UTC with the zone written out when the setting says so', async () => {
    fake.settings = { ...fake.settings, timeStyle: 'exact', timeZone: 'utc' };
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('button', { name: /^Details of the session of User 1/ }));
    const panel = await screen.findByRole('complementary', { name: 'Session details' });
    await waitFor(() => expect(panel).toHaveTextContent(/Signed in.*\d\d:\d\d:\d\d( [AP]M)? UTC/));
  });
});
