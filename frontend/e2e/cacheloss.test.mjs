// Cache loss, end to end: a damaged cache is rebuilt and the user is told in
// a notice that stays through syncs until dismissed; an offline start after
// the cache files were deleted outside the app tells that too (where, and
// that it was not the app), still shows who is signed in (the offline screen
// with Sign out), and the empty list says nothing is cached yet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, startPlatform, signInThroughUI } from './harness.mjs';

let platform;
let app;
const dataDir = mkdtempSync(join(tmpdir(), 'sessiondesk-cacheloss-'));
const shots = process.env.SESSIONDESK_SCREENSHOTS; // a folder to keep screenshots in, if set (as in investigate.test.mjs)

function args() {
  // -data-dir comes last, so it wins over the harness's own: the three app
  // runs share one profile file and cache folder (and the test keychain).
  return ['-server', platform.url, '-demo-new-device-every', '0', '-sync-interval', '1s', '-data-dir', dataDir];
}

function cacheFiles() {
  const dir = join(dataDir, 'cache');
  return readdirSync(dir).filter((f) => /^[0-9a-f]+\.db/.test(f)).map((f) => join(dir, f));
}

before(async () => {
  platform = await startPlatform();
});
after(async () => {
  await app?.stop();
  await platform?.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a damaged cache is told until dismissed; an offline start after losing it still knows who you are', async () => {
  app = await startApp({ args: args() });
  let { page } = app;
  await signInThroughUI(page, { server: platform.url, email: 'admin@acme.test' });
  const rows = page.getByRole('table', { name: 'Sessions' }).getByRole('row').filter({ hasText: '@acme.test' });
  await rows.first().waitFor({ timeout: 30_000 });
  // A first sign-in loses nothing, so it tells of no loss.
  assert.equal(await page.getByRole('alert').filter({ hasText: 'Cached data lost' }).count(), 0, 'no loss notice at a first sign-in');
  await app.stop();

  // Damage the file: the next start moves it aside, rebuilds and says so.
  const [db] = cacheFiles().filter((f) => f.endsWith('.db'));
  for (const f of cacheFiles()) if (f !== db) rmSync(f, { force: true });
  writeFileSync(db, 'not a database '.repeat(1000));
  app = await startApp({ args: args() });
  page = app.page;
  const notice = page.getByRole('alert').filter({ hasText: 'Cached data lost' });
  await notice.waitFor({ timeout: 30_000 });
  assert.match(await notice.textContent(), /damaged and could not be read.*rebuilt empty/);
  await page.getByRole('table', { name: 'Sessions' }).getByRole('row').filter({ hasText: '@acme.test' }).first().waitFor({ timeout: 30_000 });
  // Several syncs later (every second) the notice is still there.
  await page.waitForTimeout(3000);
  assert.equal(await notice.count(), 1, 'the notice survives syncs');
  if (shots) await page.screenshot({ path: join(shots, 'cache-notice.png') });
  await notice.getByRole('button', { name: 'Dismiss' }).click();
  await notice.waitFor({ state: 'detached', timeout: 10_000 });
  await app.stop();

  // The cache is gone and the platform is down: the offline screen, with
  // who you are and Sign out, not "Loading your account…".
  for (const f of cacheFiles()) rmSync(f, { force: true });
  await platform.stop();
  app = await startApp({ args: args() });
  page = app.page;
  await page.getByRole('status').filter({ hasText: /Offline —/ }).first().waitFor({ timeout: 30_000 });
  assert.equal(await page.getByText('Loading your account…').count(), 0);
  await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 10_000 });
  // The profile file knew a cache had been written for this account, so
  // its deletion outside the app is told, with where the file was, and the
  // notice outlasts the failing syncs (one a second).
  const gone = page.getByRole('alert').filter({ hasText: 'Cached data lost' });
  await gone.waitFor({ timeout: 10_000 });
  const said = await gone.textContent();
  assert.match(said, /offline cache of admin@acme\.test at acme was not found/);
  assert.match(said, /removed outside Sessions Desk/);
  assert.ok(said.includes(join(dataDir, 'cache')), `the notice names the cache folder: ${said}`);
  await page.waitForTimeout(2500);
  assert.equal(await gone.count(), 1, 'the notice survives syncs');
  await page.getByText('Nothing cached yet').waitFor({ timeout: 10_000 });
  await page.getByText('nothing is cached on this computer yet').waitFor({ timeout: 10_000 });
  if (shots) await page.screenshot({ path: join(shots, 'offline-lost-cache.png') });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('dialog', { name: 'Sign out of Sessions Desk?' }).getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 30_000 });
});
