// Settings through the real app: a setting saved in the window reaches the
// file on disk, "Forget cached data now" asks first and then answers, and
// removing the open account asks first (naming it) and leaves no file of it
// in the data folder. With SESSIONDESK_SCREENSHOTS=<dir> it also writes the
// two confirmation dialogs there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, startPlatform, signInThroughUI } from './harness.mjs';

let platform;
let app;
before(async () => {
  platform = await startPlatform();
  app = await startApp({ args: ['-server', platform.url, '-demo-new-device-every', '0'] });
});
after(async () => {
  await app?.stop();
  await platform?.cleanup();
});

const shots = process.env.SESSIONDESK_SCREENSHOTS;
async function screenshot(page, name) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
}

const dataDir = () => join(app.workDir, 'data');
const cacheFiles = () => (existsSync(join(dataDir(), 'cache')) ? readdirSync(join(dataDir(), 'cache')) : []);

test('settings are saved, the cache can be forgotten, and a removed account leaves no file behind', async () => {
  const { page } = app;
  await signInThroughUI(page, { server: platform.url, email: 'admin@acme.test' });
  await page.getByRole('table', { name: 'Sessions' }).getByRole('button', { name: 'Terminate' }).first().waitFor({ timeout: 30_000 });
  const before = cacheFiles().filter((f) => f.endsWith('.db'));
  assert.equal(before.length, 1, `cache files: ${cacheFiles()}`);
  const dbPath = join(dataDir(), 'cache', before[0]);

  await page.getByRole('button', { name: 'Settings' }).click();
  const view = page.getByRole('region', { name: 'Settings' });
  await view.getByTestId('cache-info').waitFor({ timeout: 15_000 });
  assert.match(await view.getByTestId('cache-info').textContent(), /key is kept in the OS keychain/);

  // Out of range: Go refuses it, and the field says why.
  const days = view.getByRole('spinbutton', { name: /Keep ended sessions/ });
  await days.fill('45');
  await view.getByRole('button', { name: 'Save settings' }).click();
  await view.getByText('Keep cached data between 1 and 30 days.').waitFor();
  assert.equal(await days.getAttribute('aria-invalid'), 'true');
  assert.match(await days.getAttribute('aria-describedby'), /err-retentionDays/);
  await days.fill('7');
  await view.getByRole('checkbox', { name: /This is a shared workstation/ }).check();
  await view.getByRole('radio', { name: 'UTC' }).check();
  await view.getByRole('button', { name: 'Save settings' }).click();
  await view.getByText('Settings saved.').waitFor();
  const saved = JSON.parse(readFileSync(join(dataDir(), 'settings.json'), 'utf8'));
  assert.equal(saved.retentionDays, 7);
  assert.equal(saved.sharedWorkstation, true);
  assert.equal(saved.timeZone, 'utc');
  assert.equal(statSync(join(dataDir(), 'settings.json')).mode & 0o777, 0o600);

  // Forgetting asks first: Cancel has focus and Escape leaves the cache as it was.
  await view.getByRole('button', { name: 'Forget cached data now' }).click();
  let ask = page.getByRole('dialog', { name: 'Forget the cached data?' });
  await ask.waitFor();
  assert.equal(await ask.getByRole('button', { name: 'Cancel' }).evaluate((b) => b === document.activeElement), true);
  await screenshot(page, 'settings-forget-dialog');
  await page.keyboard.press('Escape');
  await ask.waitFor({ state: 'detached' });
  assert.equal(await view.getByText(/cached data and its key were deleted/).count(), 0);
  await view.getByRole('button', { name: 'Forget cached data now' }).click();
  await ask.getByRole('button', { name: 'Forget cached data' }).click();
  await view.getByText(/cached data and its key were deleted/).waitFor({ timeout: 15_000 });
  // A new cache file, under a new key (the Go tests check the key itself).
  assert.ok(existsSync(dbPath));

  // On a shared workstation signing out always forgets this workstation's
  // copy (Go does it): the dialog says so rather than asking.
  await view.getByRole('button', { name: 'Close settings' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  ask = page.getByRole('dialog', { name: 'Sign out of Sessions Desk?' });
  await ask.getByText(/This is a shared workstation, so this workstation's copy is forgotten too/).waitFor();
  assert.equal(await ask.getByRole('checkbox', { name: /Also forget/ }).count(), 0);
  await ask.getByRole('button', { name: 'Cancel' }).click();

  await page.getByRole('button', { name: 'Settings' }).click();
  // Removing the open account asks first, naming it; Cancel keeps everything.
  await view.getByRole('button', { name: 'Remove and sign out admin@acme.test (acme)' }).click();
  ask = page.getByRole('dialog', { name: 'Remove admin@acme.test?' });
  await ask.getByText(/you are signed out of Sessions Desk/).waitFor();
  await screenshot(page, 'settings-remove-dialog');
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await ask.waitFor({ state: 'detached' });
  assert.deepEqual(cacheFiles().filter((f) => f.endsWith('.db')), before, 'Cancel removed the cache');
  await view.getByRole('button', { name: 'Remove and sign out admin@acme.test (acme)' }).click();
  await ask.getByRole('button', { name: 'Remove and sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
  assert.deepEqual(cacheFiles(), [], 'cache files remain after removing the account');
  const profiles = readFileSync(join(dataDir(), 'profiles.json'), 'utf8');
  assert.doesNotMatch(profiles, /admin@acme\.test/);
});
