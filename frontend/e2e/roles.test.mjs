// Who sees what, end to end against a real platformd with the demo seed:
// the auditor reviews but cannot sweep or revoke, a member without
// platform.sessions.view gets "No access", and a TOTP-enrolled user signs in
// with the second step and trusts the device, after which that same device
// skips the code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, startPlatform, signInThroughUI, totpCode } from './harness.mjs';

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

test('auditor@acme.test sees the lists but no "Terminate all sessions" nor "Revoke trust"', async () => {
  await withApp(async (page) => {
    await signInThroughUI(page, { server: platform.url, email: 'auditor@acme.test' });
    const sessions = page.getByRole('table', { name: 'Sessions' });
    await sessions.waitFor({ timeout: 30_000 });
    // Rows of the organization are listed, with a Terminate on active ones
    // (platform.sessions.view grants single termination).
    await sessions.getByRole('row').filter({ hasText: '@acme.test' }).first().waitFor({ timeout: 15_000 });
    assert.ok((await sessions.getByRole('button', { name: 'Terminate' }).count()) > 0);
    assert.equal(await page.getByRole('button', { name: 'Terminate all sessions' }).count(), 0);

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
