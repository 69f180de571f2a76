// `sessiondesk -server URL`: the sign-in form starts with that address, so
// a user who was given the command only types who they are.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, startPlatform, DEMO_PASSWORD } from './harness.mjs';

let platform;
let app;
before(async () => {
  platform = await startPlatform();
  // The trailing slash is how people paste addresses; the form shows it as accounts keep it.
  app = await startApp({ args: ['-server', `${platform.url}/`, '-demo-new-device-every', '0'] });
});
after(async () => {
  await app?.stop();
  await platform?.cleanup();
});

test('-server fills the Server URL field, and signing in needs only who you are', async () => {
  const { page } = app;
  const server = page.getByRole('textbox', { name: 'Server URL' });
  await server.waitFor({ timeout: 30_000 });
  assert.equal(await server.inputValue(), platform.url);
  await page.getByRole('textbox', { name: 'Organization' }).fill('acme');
  await page.getByRole('textbox', { name: 'Email' }).fill('admin@acme.test');
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('table', { name: 'Sessions' }).getByRole('button', { name: 'Terminate' }).first().waitFor({ timeout: 30_000 });
});
