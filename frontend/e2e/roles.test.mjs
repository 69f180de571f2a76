// Who sees what, end to end against a real platformd with the demo seed:
// the auditor reviews and ends one session at a time but is offered no bulk
// action (v1.2: no row selection, "Terminate selected", "select all" nor
// "Sign out everywhere" for someone else) and no "Revoke trust", a member
// without platform.sessions.view gets "No access", and a TOTP-enrolled user
// signs in with the second step and trusts the device, after which that
// same device skips the code. With SESSIONDESK_SCREENSHOTS=<dir> it writes
// the auditor's Sessions tab and another person's page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, startPlatform, platformCall, platformLogin, signInThroughUI, totpCode } from './harness.mjs';

const shots = process.env.SESSIONDESK_SCREENSHOTS;
async function screenshot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

const MFA_SECRET = 'JBSWY3DPEHPK3PXP';

let platform;
before(async () => {
  platform = await startPlatform();
});
after(async () => {
  await platform?.cleanup();
});

async function withApp(fn) {
  const app = await startApp({ args: ['-server', platform.url, '-demo-new-device-every', '0'] });
  try {
    await fn(app.page);
  } finally {
    await app.stop();
  }
}

test('auditor@acme.test reviews and ends one session, but is offered no bulk action nor "Revoke trust"', async () => {
  // A session the auditor will end, opened here so that its token can be tried.
  const victim = await platformLogin(platform.url, {
    email: 'member@acme.test',
    device: { name: 'e2e-roles' },
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:71.0) Gecko/20100101 Firefox/71.0',
  });
  const admin = (await platformLogin(platform.url, { email: 'admin@acme.test' })).user;
  await withApp(async (page) => {
    await signInThroughUI(page, { server: platform.url, email: 'auditor@acme.test' });
    const sessions = page.getByRole('table', { name: 'Sessions' });
    await sessions.waitFor({ timeout: 30_000 });
    // Rows of the organization are listed, with a Terminate on active ones
    // (platform.sessions.view grants single termination).
    const victimRow = sessions.getByRole('row').filter({ hasText: 'Firefox 71 on Linux' });
    await victimRow.waitFor({ timeout: 15_000 });
    assert.ok((await sessions.getByRole('button', { name: 'Terminate' }).count()) > 0);
    assert.match(await page.getByTestId('role-hint').textContent(), /end one session at a time and sign yourself out of your other devices; the bulk actions .* need pf\.sessions\.terminate_org/);

    // Nothing to choose rows for: no checkboxes, and a click on a row opens
    // its details without offering "Terminate selected" or "select all".
    assert.equal(await sessions.getByRole('checkbox').count(), 0);
    await victimRow.getByRole('cell').nth(2).click();
    await page.getByRole('complementary', { name: 'Session details' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Terminate selected' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /^Select all/ }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /^Terminate the .* matching$/ }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Terminate all sessions' }).count(), 0);
    await screenshot(page, 'auditor-sessions');

    // Another person's page: no "Sign out everywhere".
    await page.getByRole('searchbox', { name: 'Search sessions' }).fill('admin@acme.test');
    await sessions.getByRole('button', { name: admin.name, exact: true }).first().click();
    await page.getByRole('heading', { level: 2, name: admin.name }).waitFor();
    await page.getByRole('table', { name: `Sessions of ${admin.name}` }).getByRole('row').nth(1).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign out everywhere' }).count(), 0);
    await screenshot(page, 'auditor-person');
    await page.getByRole('button', { name: '← Back' }).click();

    // Their own page offers it (signing oneself out of other devices needs only view).
    await page.getByRole('searchbox', { name: 'Search sessions' }).fill('auditor@acme.test');
    const me = sessions.getByRole('row').filter({ hasText: 'You' });
    await me.getByRole('button', { name: 'Aude Auditor', exact: true }).click();
    await page.getByRole('heading', { level: 2, name: /Aude Auditor/ }).waitFor();
    await page.getByRole('button', { name: 'Sign out everywhere' }).waitFor();
    await page.getByRole('button', { name: '← Back' }).click();

    // Terminate on a row works: that session's token is dead at once.
    await page.getByRole('searchbox', { name: 'Search sessions' }).fill('');
    await victimRow.getByRole('button', { name: 'Terminate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Terminate this session?' });
    await dialog.getByRole('button', { name: 'Terminate' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 15_000 });
    assert.equal((await platformCall(platform.url, '/me', { token: victim.token })).status, 401);

    await page.getByRole('tab', { name: 'Devices' }).click();
    const devices = page.getByRole('table', { name: 'Devices' });
    await devices.getByRole('row').filter({ hasText: '@acme.test' }).first().waitFor({ timeout: 15_000 });
    await page.getByRole('combobox', { name: 'Show' }).selectOption('true');
    await devices.getByRole('row').filter({ hasText: 'Trusted' }).first().waitFor({ timeout: 15_000 });
    assert.equal(await page.getByRole('button', { name: 'Revoke trust' }).count(), 0);
  });
});

test('member@acme.test sees "No access" naming platform.sessions.view', async () => {
  await withApp(async (page) => {
    await signInThroughUI(page, { server: platform.url, email: 'member@acme.test' });
    const heading = page.getByRole('heading', { name: 'No access' });
    await heading.waitFor({ timeout: 30_000 });
    assert.match(await page.locator('section').filter({ has: heading }).textContent(), /platform\.sessions\.view/);
    assert.equal(await page.getByRole('tab').count(), 0);
    assert.equal(await page.getByRole('table').count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 1);
  });
});

test('mfa@acme.test signs in with the TOTP step and "Trust this device"; the trusted device then skips it', async () => {
  await withApp(async (page) => {
    await signInThroughUI(page, { server: platform.url, email: 'mfa@acme.test' });
    const code = page.getByRole('textbox', { name: 'Authentication code' });
    await code.waitFor({ timeout: 30_000 });
    // Do not start a code in the last seconds of its 30 s window.
    if (Date.now() % 30_000 > 25_000) await page.waitForTimeout(30_000 - (Date.now() % 30_000) + 500);
    await code.fill(await totpCode(MFA_SECRET));
    await page.getByRole('checkbox', { name: 'Trust this device' }).check();
    await page.getByRole('button', { name: 'Verify' }).click();
    // mfa@acme.test is a member: signed in, but without the view permission.
    await page.getByRole('heading', { name: 'No access' }).waitFor({ timeout: 30_000 });

    await page.getByRole('button', { name: 'Sign out' }).click();
    // Keep this workstation's copy (the default): the trusted-device secret stays.
    const ask = page.getByRole('dialog', { name: 'Sign out of Sessions Desk?' });
    assert.equal(await ask.getByRole('checkbox', { name: /Also forget/ }).isChecked(), false);
    await ask.getByRole('button', { name: 'Sign out' }).click();
    // The remembered profile fills the form; only the password is asked again.
    const email = page.getByRole('textbox', { name: 'Email' });
    await email.waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('input[name="email"]')?.value === 'mfa@acme.test', null, {
      timeout: 5_000,
    });
    await page.getByLabel('Password').fill('demo-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // No code this time: the device is trusted.
    await page.getByRole('heading', { name: 'No access' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByRole('textbox', { name: 'Authentication code' }).count(), 0);
  });
});
