// The v1.1 investigation workflows end to end: the real app (real Go
// bindings, real cache) against a real platformd with the demo seed, driven
// by role and name. Effects are checked on the platform with the affected
// sessions' own tokens. With SESSIONDESK_SCREENSHOTS=<dir> it also writes
// the overview, a person's page and the details panel at 1280×800 and
// 1024×768.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, startPlatform, platformCall, platformLogin, signInThroughUI } from './harness.mjs';
import { checkA11y } from './a11y.mjs';

let platform;
let app;
let page;
let adminToken; // a second session of the signed-in admin, held by the test
const shots = process.env.SESSIONDESK_SCREENSHOTS;

before(async () => {
  platform = await startPlatform();
  app = await startApp({ args: ['-server', platform.url, '-demo-new-device-every', '0'] });
  page = app.page;
  await signInThroughUI(page, { server: platform.url, email: 'admin@acme.test' });
  await page.getByRole('tab', { name: /^Sessions/ }).waitFor({ timeout: 30_000 });
  adminToken = (await platformLogin(platform.url, { email: 'admin@acme.test' })).token;
});

after(async () => {
  await app?.stop();
  await platform?.cleanup();
});

async function screenshot(name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  for (const [w, h] of [
    [1280, 800],
    [1024, 768],
  ]) {
    await page.setViewportSize({ width: w, height: h });
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(shots, `${name}-${w}x${h}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function syncNow() {
  await page.getByRole('button', { name: 'Sync now' }).click();
  await page.waitForFunction(() => {
    const b = [...document.querySelectorAll('button')].find((x) => x.textContent.trim() === 'Sync now');
    return b && !b.disabled;
  });
}

const sessionsTable = () => page.getByRole('table', { name: 'Sessions' });

/** A session opened by the test (it holds the token), told apart by its Firefox version. */
async function openSession(email, version) {
  const userAgent = `Mozilla/5.0 (X11; Linux x86_64; rv:${version}.0) Gecko/20100101 Firefox/${version}.0`;
  return platformLogin(platform.url, { email, device: { name: `e2e-${version}` }, userAgent });
}

async function status(token) {
  return (await platformCall(platform.url, '/me', { token })).status;
}

test('a person page from the sessions list, Sign out everywhere, and Back to where you were', async () => {
  const a = await openSession('auditor@acme.test', 61);
  const b = await openSession('auditor@acme.test', 62);
  const name = a.user.name;
  await page.getByRole('tab', { name: /^Sessions/ }).click();
  await syncNow();
  const search = page.getByRole('searchbox', { name: 'Search sessions' });
  await search.fill('auditor@acme.test');
  await sessionsTable().getByRole('button', { name, exact: true }).first().click();

  const heading = page.getByRole('heading', { level: 2, name });
  await heading.waitFor();
  // The name and the e-mail under it begin at one left edge (the header's
  // global .who once centred the name over the e-mail).
  const [nameX, emailX] = await heading.evaluate((e) => [e.getBoundingClientRect().x, e.nextElementSibling.getBoundingClientRect().x]);
  assert.ok(Math.abs(nameX - emailX) < 1, `the name begins at ${nameX}px, its e-mail at ${emailX}px`);
  await page.getByRole('table', { name: `Sessions of ${name}` }).getByRole('row').filter({ hasText: 'Firefox 61 on Linux' }).waitFor();
  await page.getByRole('table', { name: `Devices of ${name}` }).getByRole('row').nth(1).waitFor();
  await screenshot('person');
  await checkA11y(page, 'a person page');

  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  const dialog = page.getByRole('dialog', { name: `Sign ${name} out everywhere?` });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), new RegExp(`This ends \\d+ active sessions? of ${name}`));
  await checkA11y(page, 'the Sign out everywhere dialog');
  assert.equal(await dialog.getByRole('checkbox', { name: 'Keep my own session' }).count(), 0, 'not offered for someone else');
  await dialog.getByRole('textbox', { name: /Reason/ }).fill('account phished');
  await dialog.getByRole('button', { name: 'Sign out everywhere' }).click();
  await dialog.waitFor({ state: 'detached' });

  // The person's tokens are dead on their next request; mine are not.
  assert.equal(await status(a.token), 401);
  assert.equal(await status(b.token), 401);
  assert.equal(await status(adminToken), 200);
  await page.getByRole('button', { name: 'Sign out everywhere' }).and(page.locator(':disabled')).waitFor();

  // Back returns to the list with the search kept.
  await page.getByRole('button', { name: '← Back' }).click();
  await heading.waitFor({ state: 'detached' });
  assert.equal(await search.inputValue(), 'auditor@acme.test');

  // On my own page, the dialog offers to keep my own session.
  await search.fill('admin@acme.test');
  await sessionsTable().getByRole('button', { name: 'Ada Admin', exact: false }).first().click();
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  const own = page.getByRole('dialog', { name: /out everywhere\?$/ });
  assert.equal(await own.getByRole('checkbox', { name: 'Keep my own session' }).isChecked(), true);
  await own.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: '← Back' }).click();
  await search.fill('');
});

test('Back from a person page keeps the list scrolled where it was', async () => {
  await page.getByRole('tab', { name: /^Sessions/ }).click();
  const scroller = page.getByRole('region', { name: 'Sessions table' });
  await sessionsTable().getByRole('row').nth(5).waitFor();
  await scroller.evaluate((el) => (el.scrollTop = 2000));
  await page.waitForTimeout(300);
  const row = sessionsTable().getByRole('row').filter({ has: page.getByRole('checkbox') }).nth(8);
  const person = row.getByRole('button').first();
  const name = (await person.textContent()).trim();
  await person.click();
  await page.getByRole('heading', { level: 2, name }).waitFor();
  await page.getByRole('button', { name: '← Back' }).click();
  await page.getByRole('heading', { level: 2, name }).waitFor({ state: 'detached' });
  assert.equal(await scroller.evaluate((el) => el.scrollTop), 2000);
  await scroller.evaluate((el) => (el.scrollTop = 0));
});

test('the details panel shows every field in full and who ended a session, by keyboard', async () => {
  const v = await openSession('member@acme.test', 63);
  await platformCall(platform.url, `/sessions/${v.session.id}/terminate`, {
    method: 'POST',
    token: adminToken,
    body: { reason: 'laptop reported stolen at the front desk' },
  });
  await page.getByRole('tab', { name: /^Sessions/ }).click();
  await syncNow();
  await page.getByRole('combobox', { name: 'Show' }).selectOption('all');
  await page.getByRole('searchbox', { name: 'Search sessions' }).fill('Firefox 63');
  const row = sessionsTable().getByRole('row').filter({ hasText: 'Firefox 63 on Linux' });
  await row.getByRole('button', { name: /^Details of the session/ }).focus();
  await page.keyboard.press('Enter');

  const panel = page.getByRole('complementary', { name: 'Session details' });
  await panel.waitFor();
  // The panel opens at once and fills in when Go has answered ("Loading…").
  await panel.getByText('Loading…').waitFor({ state: 'detached' });
  const text = await panel.textContent();
  assert.ok(text.includes(v.session.user_agent), 'the full user agent');
  assert.ok(text.includes(v.session.id), 'the session id');
  assert.ok(text.includes(v.session.ip), 'the IP');
  assert.ok(text.includes('laptop reported stolen at the front desk'), 'why it ended, from the audit log');
  assert.match(text, /Ended.*by\s*Ada Admin/s);
  assert.match(text, /\d{4}.*\d\d:\d\d:\d\d [A-Z]{2,}/, 'exact times with their zone');
  await panel.getByRole('button', { name: 'Copy IP address' }).waitFor();
  await panel.getByRole('button', { name: `e2e-63` }).waitFor(); // the device, a link
  await screenshot('details');
  await checkA11y(page, 'the session details panel');
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'detached' });
  await page.getByRole('combobox', { name: 'Show' }).selectOption('active');
  await page.getByRole('searchbox', { name: 'Search sessions' }).fill('');
});

test('a filter, a selection and Terminate selected, checked against the platform', async () => {
  const victims = [];
  for (const v of [71, 72, 73]) victims.push(await openSession('member@acme.test', v));
  const bystander = await openSession('member@acme.test', 74);
  await page.getByRole('tab', { name: /^Sessions/ }).click();
  await syncNow();
  // Active sessions only, whatever an earlier test that failed left behind.
  await page.getByRole('combobox', { name: 'Show' }).selectOption('active');
  await page.getByRole('combobox', { name: 'MFA' }).selectOption('no');
  await page.getByRole('combobox', { name: 'Platform' }).selectOption('Linux');
  await page.getByRole('searchbox', { name: 'Search sessions' }).fill('Firefox 7');
  await page.getByRole('list', { name: 'Active filters' }).getByText('MFA not used').waitFor();
  const rows = sessionsTable().getByRole('row').filter({ hasText: /Firefox 7[1-4] on Linux/ });
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Sessions"] tbody tr.row').length === 4);
  // The toolbar says that Terminate all ignores the filter.
  await page.getByText('“Terminate all sessions” ignores the filters').waitFor();

  const box = (v) => page.getByRole('checkbox', { name: new RegExp(`on Firefox ${v} on Linux`) });
  await box(71).check();
  await box(73).click({ modifiers: ['Shift'] }); // the range 71…73, in the list's order
  assert.equal(await rows.count(), 4);
  // Newest activity first: 74, 73, 72, 71 — the range 71…73 holds the three.
  await page.getByText('3 sessions selected.').waitFor();
  for (const v of [71, 72, 73]) assert.equal(await box(v).isChecked(), true, `Firefox ${v} selected`);
  assert.equal(await box(74).isChecked(), false);
  await page.getByRole('button', { name: 'Select all 4 matching' }).waitFor();

  await page.getByRole('button', { name: 'Terminate selected' }).click();
  const dialog = page.getByRole('dialog', { name: 'Terminate selected sessions?' });
  await dialog.getByText(/This ends 3 active sessions of/).waitFor();
  assert.match(await dialog.textContent(), new RegExp(victims[0].user.name));
  await checkA11y(page, 'the Terminate selected dialog');
  await dialog.getByRole('button', { name: 'Terminate selected' }).click();
  await dialog.waitFor({ state: 'detached' });

  for (const v of victims) assert.equal(await status(v.token), 401, `${v.session.client} ended on the platform`);
  assert.equal(await status(bystander.token), 200, 'the unselected session lives');
  assert.equal(await status(adminToken), 200);
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Sessions"] tbody tr.row').length === 1);

  // "Terminate the N matching" ends what the filter shows.
  await page.getByRole('button', { name: 'Terminate the 1 matching' }).click();
  const d2 = page.getByRole('dialog', { name: 'Terminate selected sessions?' });
  await d2.getByText(/This ends 1 active session of/).waitFor();
  await d2.getByRole('button', { name: 'Terminate selected' }).click();
  await d2.waitFor({ state: 'detached' });
  assert.equal(await status(bystander.token), 401);
  await page.getByRole('button', { name: 'Clear filters' }).click();
});

// "Select all N matching" is a selection by query: the page keeps the filter
// and the rows unticked, and the Go side finds the sessions when it counts
// and when it ends them.
test('"Select all N matching" with a row unticked ends the others, checked against the platform', async () => {
  const chosen = [];
  for (const v of [91, 93]) chosen.push(await openSession('member@acme.test', v));
  const unticked = await openSession('member@acme.test', 92);
  await page.getByRole('tab', { name: /^Sessions/ }).click();
  await syncNow();
  await page.getByRole('combobox', { name: 'Show' }).selectOption('active');
  await page.getByRole('combobox', { name: 'MFA' }).selectOption('no');
  await page.getByRole('combobox', { name: 'Platform' }).selectOption('Linux');
  await page.getByRole('searchbox', { name: 'Search sessions' }).fill('Firefox 9');
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Sessions"] tbody tr.row').length === 3);

  const box = (v) => page.getByRole('checkbox', { name: new RegExp(`on Firefox ${v} on Linux`) });
  await box(91).check();
  await page.getByRole('button', { name: 'Select all 3 matching' }).click();
  await page.getByText('3 sessions selected.').waitFor();
  for (const v of [91, 92, 93]) assert.equal(await box(v).isChecked(), true, `Firefox ${v} selected`);
  await box(92).uncheck();
  await page.getByText('2 sessions selected.').waitFor();
  await page.getByRole('button', { name: 'Select all 3 matching' }).waitFor();

  await page.getByRole('button', { name: 'Terminate selected' }).click();
  const dialog = page.getByRole('dialog', { name: 'Terminate selected sessions?' });
  await dialog.getByText(/This ends 2 active sessions of/).waitFor();
  await dialog.getByRole('button', { name: 'Terminate selected' }).click();
  await dialog.waitFor({ state: 'detached' });

  for (const v of chosen) assert.equal(await status(v.token), 401, `${v.session.client} ended on the platform`);
  assert.equal(await status(unticked.token), 200, 'the unticked session lives');
  assert.equal(await status(adminToken), 200);
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Sessions"] tbody tr.row').length === 1);
  assert.equal(await page.getByText(/sessions? selected\./).count(), 0, 'the selection is gone');
  await page.getByRole('button', { name: 'Clear filters' }).click();
});

test('the audit log names people, filters by action, and opens a person', async () => {
  await page.getByRole('tab', { name: 'Audit log' }).click();
  await syncNow();
  await page.getByRole('combobox', { name: 'Action' }).selectOption({ label: 'Signed out everywhere' });
  const table = page.getByRole('table', { name: 'Audit log' });
  const row = table.getByRole('row').filter({ hasText: 'account phished' });
  await row.waitFor();
  // The filter applies asynchronously (the row above was there before it):
  // wait until no row of another action is left, rather than count once.
  await table.getByRole('row').filter({ hasText: 'Terminated selected sessions' }).first().waitFor({ state: 'detached', timeout: 10_000 });
  assert.equal(await table.getByRole('row').filter({ hasText: 'Terminated selected sessions' }).count(), 0, 'filtered');
  const auditor = (await platformLogin(platform.url, { email: 'auditor@acme.test' })).user;
  await row.getByRole('button', { name: auditor.name, exact: true }).waitFor();
  await row.getByRole('button', { name: 'Ada Admin', exact: true }).waitFor();
  // The full reason, and a click through to the person.
  await row.getByRole('button', { name: /Read the event in full/ }).click();
  await page.getByRole('complementary', { name: 'Audit event' }).getByText('account phished').waitFor();
  await checkA11y(page, 'the audit log with filters and an event panel');
  await row.getByRole('button', { name: auditor.name, exact: true }).click();
  await page.getByRole('heading', { level: 2, name: auditor.name }).waitFor();
  await page.getByRole('button', { name: '← Back' }).click();
  await page.getByRole('combobox', { name: 'Action' }).selectOption('');
});

test('the overview: a bar opens the filtered Sessions view', async () => {
  await page.getByRole('tab', { name: 'Overview' }).click();
  const bar = page.getByRole('link', { name: /^DE: \d[\d,]* sessions — show these sessions$/ });
  await bar.waitFor();
  await page.getByRole('link', { name: /sign-ins — show the sessions started in this hour$/ }).first().waitFor();
  await page.getByRole('table', { name: 'Active sessions by country' }).waitFor({ state: 'attached' });
  await screenshot('overview');
  await checkA11y(page, 'the Overview tab');
  // A chart's "Show as table" is a small link: smaller than its title
  // (button.link's own size outranked .small's, and drew it at 15.4px).
  const [toggle, title] = await page
    .getByRole('button', { name: 'Show as table' })
    .first()
    .evaluate((b) => [b, b.closest('figcaption').querySelector('span')].map((e) => parseFloat(getComputedStyle(e).fontSize)));
  assert.ok(toggle < title, `"Show as table" is ${toggle}px, its chart's title ${title}px`);
  const n = Number((await bar.getAttribute('aria-label')).match(/^DE: ([\d,]+)/)[1].replace(/,/g, ''));
  await bar.click();
  assert.equal(await page.getByRole('tab', { name: /^Sessions/ }).getAttribute('aria-selected'), 'true');
  await page.getByRole('list', { name: 'Active filters' }).getByText('Country: DE').waitFor();
  await page.getByText(new RegExp(`^${n.toLocaleString('en-US')} sessions?$`)).waitFor();
  await page.getByRole('button', { name: 'Clear filters' }).click();
});
