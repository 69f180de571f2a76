// Rendering the whole app on the fake api (src/test/fakeApi.ts) for the
// component tests that go through the desk. The test file itself mocks
// '../lib/api' with the fake (vi.mock is per file); App, imported here,
// then sees the fake too.
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from '../App.svelte';
import { settings, DEFAULT_SETTINGS } from '../lib/settings.svelte';
import { resetFake } from './fakeApi';

/** Renders the app signed in and waits for the Sessions table to show `shown`. */
export async function renderDesk(shown = 'user1@acme.test') {
  const user = userEvent.setup();
  render(App);
  const table = await screen.findByRole('table', { name: 'Sessions' });
  await within(table).findByText(shown);
  return { user, table };
}

/** The row of `table` holding `text`. */
export function rowOf(table: HTMLElement, text: string): HTMLElement {
  return within(table).getByText(text).closest('tr') as HTMLElement;
}

/** Resets the fake platform and the saved settings, before each test. */
export function resetDesk() {
  resetFake();
  settings.current = { ...DEFAULT_SETTINGS };
}
