// v1.2: who may do what, as the UI offers it (the Go side refuses the same,
// and the platform enforces it), and the sessions a bulk action ended in the
// audit log's detail. (The shared workstation's sign-in is in App.test.ts,
// its sign-out in AppDetails.test.ts.)
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/svelte';
import * as api from '../test/fakeApi';
import { ADMIN, AUDITOR, fake, signedIn } from '../test/fakeApi';
import { renderDesk, resetDesk, rowOf } from '../test/desk';

vi.mock('../lib/api', () => import('../test/fakeApi'));

beforeEach(resetDesk);

describe('a view-only role (the auditor)', () => {
  it('is offered no bulk action: no row checkboxes, no Terminate selected, no select all, no Terminate the N matching', async () => {
    fake.auth = signedIn(AUDITOR);
    const { user, table } = await renderDesk();
    expect(within(table).queryAllByRole('checkbox')).toHaveLength(0);
    expect(within(table).queryByRole('columnheader', { name: 'Select' })).toBeNull();
    // A click on a row opens its details and chooses nothing.
    await user.click(within(rowOf(table, 'user1@acme.test')).getByText('203.0.113.1'));
    await screen.findByRole('complementary', { name: 'Session details' });
    expect(screen.queryByRole('button', { name: 'Terminate selected' })).toBeNull();
    expect(screen.queryByText(/selected\./)).toBeNull();
    await user.keyboard('{Shift>}');
    await user.click(within(rowOf(table, 'user3@acme.test')).getByText('203.0.113.3'));
    await user.keyboard('{/Shift}');
    expect(screen.queryByRole('button', { name: 'Terminate selected' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Select all/ })).toBeNull();
    // A filter narrows the list, and still no bulk action appears.
    await user.type(screen.getByRole('searchbox', { name: 'Search sessions' }), 'user');
    await user.click(screen.getByRole('button', { name: /MFA/ }).closest('button')!);
    expect(screen.queryByRole('button', { name: /^Terminate the .* matching$/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Terminate all sessions' })).toBeNull();
    expect(api.sessionRangeIds).not.toHaveBeenCalled();
    expect(api.summarizeMatching).not.toHaveBeenCalled();
  });

  it('ends one session with Terminate on its row', async () => {
    fake.auth = signedIn(AUDITOR);
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'user2@acme.test')).getByRole('button', { name: 'Terminate' }));
    const dialog = screen.getByRole('dialog', { name: 'Terminate this session?' });
    await user.click(within(dialog).getByRole('button', { name: 'Terminate' }));
    expect(api.terminateSession).toHaveBeenCalledWith('s-2', '');
    expect(await screen.findByText(/Terminated the session of User 2/)).toBeInTheDocument();
  });

  it('signs only themselves out everywhere: not offered on another person’s page', async () => {
    fake.auth = signedIn(AUDITOR);
    fake.sessions.push({ ...fake.sessions[0], id: 's-me-2', current: false, client: 'Firefox 133 on Linux' });
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('button', { name: 'User 1' }));
    await screen.findByRole('heading', { name: 'User 1' });
    await screen.findByText(/1 active session/);
    expect(screen.queryByRole('button', { name: 'Sign out everywhere' })).toBeNull();
    // The role hint stays in view on the page and says why.
    expect(screen.getByTestId('role-hint')).toHaveTextContent(/Sign out everywhere for someone else/);
    await user.click(screen.getByRole('button', { name: '← Back' }));

    await user.click(within(rowOf(table, 'Sessions Desk on Linux')).getByRole('button', { name: 'Ada Admin' }));
    await user.click(await screen.findByRole('button', { name: 'Sign out everywhere' }));
    const dialog = await screen.findByRole('dialog', { name: 'Sign Ada Admin out everywhere?' });
    await user.click(within(dialog).getByRole('button', { name: 'Sign out everywhere' }));
    await waitFor(() => expect(api.signOutEverywhere).toHaveBeenCalledWith('u-me', true, ''));
  });

  it('reads in one sentence what the role may do and why the bulk actions are missing', async () => {
    fake.auth = signedIn(AUDITOR);
    await renderDesk();
    const hint = screen.getByTestId('role-hint').textContent ?? '';
    expect(hint).toBe(
      'Your role can review everything, end one session at a time and sign yourself out of your other devices; ' +
        'the bulk actions (Terminate selected, Sign out everywhere for someone else, Terminate all sessions) need ' +
        'pf.sessions.terminate_org, and Revoke trust needs pf.devices.revoke_trust.',
    );
    expect(hint.split('. ')).toHaveLength(1); // one sentence
  });
});

describe('a role with pf.sessions.terminate_org', () => {
  it('chooses rows and has the bulk actions, and Sign out everywhere on anyone’s page', async () => {
    fake.auth = signedIn(ADMIN);
    const { user, table } = await renderDesk();
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('checkbox'));
    expect(screen.getByRole('button', { name: 'Terminate selected' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: /^Select all \d+ matching$/ })).toBeInTheDocument();
    await user.click(within(rowOf(table, 'user1@acme.test')).getByRole('button', { name: 'User 1' }));
    expect(await screen.findByRole('button', { name: 'Sign out everywhere' })).toBeInTheDocument();
  });
});

describe('the audit log’s detail of a bulk action', () => {
  const admin = { id: 'u-me', email: 'admin@acme.test', name: 'Ada Admin' };

  it('lists the sessions it ended: client, IP and person when cached, else the id', async () => {
    fake.audit = [
      { id: 'a1', at: new Date().toISOString(), actor: admin, action: 'sessions.terminate_selected', target_id: null,
        target_user: null, target_label: '', target_ids: ['s-1', 's-gone', 's-3'], count: 3, reason: 'sweep' },
    ];
    const { user } = await renderDesk();
    await user.click(screen.getByRole('tab', { name: 'Audit log' }));
    const table = await screen.findByRole('table', { name: 'Audit log' });
    await user.click(await within(table).findByRole('button', { name: /Read the event in full: sweep/ }));
    const panel = screen.getByRole('complementary', { name: 'Audit event' });
    const list = await within(panel).findByRole('list', { name: 'Ended' });
    const items = within(list).getAllByRole('listitem').map((li) => li.textContent?.replace(/\s+/g, ' ').trim());
    expect(items).toEqual([
      'Firefox 133 on Windows, 203.0.113.1 · User 1',
      's-gone (no longer cached)',
      'Firefox 133 on Windows, 203.0.113.3 · User 3',
    ]);
    expect(api.endedSessions).toHaveBeenCalledWith('a1');
    expect(within(panel).queryByText(/The first/)).toBeNull();
    await user.click(within(list).getByRole('button', { name: 'User 3' }));
    expect(await screen.findByRole('heading', { name: 'User 3' })).toBeInTheDocument();
  });

  it('says when only the first of more ended sessions are listed, and lists nothing for a single action', async () => {
    fake.audit = [
      { id: 'a1', at: new Date().toISOString(), actor: admin, action: 'sessions.terminate_all', target_id: null,
        target_user: null, target_label: '', target_ids: ['s-1', 's-2'], count: 5, reason: 'incident' },
      { id: 'a2', at: new Date().toISOString(), actor: admin, action: 'session.terminate', target_id: 's-4',
        target_user: fake.sessions[4].user, target_label: 'Firefox, 203.0.113.4', target_ids: [], count: 1, reason: 'one' },
    ];
    const { user } = await renderDesk();
    await user.click(screen.getByRole('tab', { name: 'Audit log' }));
    const table = await screen.findByRole('table', { name: 'Audit log' });
    await user.click(await within(table).findByRole('button', { name: /Read the event in full: incident/ }));
    let panel = screen.getByRole('complementary', { name: 'Audit event' });
    await within(panel).findByRole('list', { name: 'Ended' });
    expect(panel).toHaveTextContent('The first 2 of 5 sessions.');
    await user.click(within(table).getByRole('button', { name: /Read the event in full: one/ }));
    panel = screen.getByRole('complementary', { name: 'Audit event' });
    await waitFor(() => expect(panel).toHaveTextContent('Firefox, 203.0.113.4'));
    expect(within(panel).queryByRole('list', { name: 'Ended' })).toBeNull();
  });
});
