// HTTPS with an organization's own certificate authority, end to end: a real
// platformd serves HTTPS with a certificate from a test CA; signing in through
// the real app's form without the CA file says the certificate is not
// trusted (on the CA file field); with the CA file it signs in and lists the
// organization's sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, startPlatform, signInThroughUI } from './harness.mjs';

let platform;
before(async () => {
  platform = await startPlatform({ tls: true });
});
after(async () => {
  await platform?.cleanup();
});

test('signs in over HTTPS only with the organization CA file, and says so without it', async () => {
  assert.match(platform.url, /^https:\/\/127\.0\.0\.1:/);
  const app = await startApp({ args: ['-server', platform.url, '-demo-new-device-every', '0'] });
  try {
    const { page } = app;
    await signInThroughUI(page, { server: platform.url, email: 'admin@acme.test' });
    const caBox = page.getByRole('textbox', { name: 'CA certificate file (optional)' });
    await page.getByText(/signed by an authority this computer does not trust/).waitFor({ timeout: 20_000 });
    assert.equal(await caBox.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByRole('table', { name: 'Sessions' }).count(), 0);

    await caBox.fill(platform.caFile);
    await page.getByLabel('Password').fill('demo-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const sessions = page.getByRole('table', { name: 'Sessions' });
    await sessions.waitFor({ timeout: 30_000 });
    await sessions.getByRole('row').filter({ hasText: '@acme.test' }).first().waitFor({ timeout: 15_000 });
  } finally {
    await app.stop();
  }
});
