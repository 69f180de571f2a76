// The real app on an Ory Kratos profile, end to end: a real Kratos v1.3.1
// (kratosserve: the Go tests' binary and config), identities through its
// admin API and sessions through its native login flow, the app signed in
// from its own form with provider "Ory Kratos", on a private D-Bus where a
// recorder counts the notifications. With SESSIONDESK_SCREENSHOTS=<dir> it
// writes the Kratos profile's tabs there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, startKratos, startNotificationBus, signInToKratosThroughUI } from './harness.mjs';

const shots = process.env.SESSIONDESK_SCREENSHOTS;
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const EDGE_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';

let workDir;
let bus;
let kratos;
let app;
let page;
const s = {}; // the sessions signed in through Kratos' flow

async function screenshot(name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(shots, `kratos-${name}.png`) });
}

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'sessiondesk-kratos-'));
  bus = await startNotificationBus(workDir);
  kratos = await startKratos(workDir);
  await kratos.createIdentity('alice@example.test', 'Alice Ng');
  await kratos.createIdentity('bob@example.test', 'Bob Stone');
  s.aliceFirefox = await kratos.login('alice@example.test', { userAgent: FIREFOX_WINDOWS, ip: '203.0.113.7', city: 'Berlin', country: 'DE' });
  s.aliceChrome = await kratos.login('alice@example.test', { userAgent: CHROME_MAC, ip: '198.51.100.20', city: 'Oslo', country: 'NO' });
  s.bobChrome = await kratos.login('bob@example.test', { userAgent: CHROME_MAC, ip: '192.0.2.10' });
  app = await startApp({
    // -server fills the form's address; the provider is chosen in the form.
    args: ['-server', kratos.adminURL, '-demo-new-device-every', '0', '-sync-interval', '2s'],
    env: { DBUS_SESSION_BUS_ADDRESS: bus.addr },
  });
  page = app.page;
  await signInToKratosThroughUI(page, { adminURL: kratos.adminURL, email: 'sec@example.test' });
  await page.getByRole('tab', { name: /^Sessions/ }).waitFor({ timeout: 30_000 });
  await page.getByRole('tab', { name: /^Sessions/ }).click();
});

after(async () => {
  await app?.stop();
  await kratos?.stop();
  await bus?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const sessionsTable = () => page.getByRole('table', { name: 'Sessions' });
const rowOf = (text) => sessionsTable().getByRole('row').filter({ hasText: text });

test('lists Kratos sessions with people and places; polls ("checking every 2 s", not "Live")', async () => {
  const firefox = rowOf('Firefox 133 on Windows');
  await firefox.first().waitFor({ timeout: 30_000 });
  const text = await firefox.first().textContent();
  for (const want of ['Alice Ng', 'alice@example.test', '203.0.113.7', 'Berlin, DE']) assert.ok(text.includes(want), `row lacks ${want}: ${text}`);
  assert.ok((await rowOf('Bob Stone').count()) === 1);
  const status = page.getByRole('group', { name: 'Sync status' });
  assert.match(await status.textContent(), /checking every 2 s/);
  assert.equal(await status.getByText('Live', { exact: true }).count(), 0);
  await page.getByRole('button', { name: 'Terminate all sessions' }).waitFor();
  await screenshot('sessions');

  await page.getByRole('tab', { name: 'Overview' }).click();
  await page.waitForTimeout(500);
  await screenshot('overview');

  await page.getByRole('tab', { name: 'Devices' }).click();
  const devices = page.getByRole('table', { name: 'Devices' });
  await devices.getByRole('row').filter({ hasText: 'alice@example.test' }).first().waitFor({ timeout: 10_000 });
  assert.match(await page.getByRole('note').textContent(), /Ory Kratos has no device trust/);
  assert.equal(await page.getByRole('button', { name: 'Revoke trust' }).count(), 0);
  // No device trust: no Trusted column, no trust filter, no actions column.
  assert.equal(await devices.getByRole('columnheader', { name: /Trusted|Actions/ }).count(), 0);
  assert.equal(await page.getByRole('combobox', { name: 'Show' }).count(), 0);
  await screenshot('devices');
  await page.getByRole('tab', { name: /^Sessions/ }).click();
});

test('a new session appears by itself and raises exactly one notification', async () => {
  const before = bus.notes.length;
  s.bobEdge = await kratos.login('bob@example.test', { userAgent: EDGE_WINDOWS, ip: '192.0.2.44', city: 'Lyon', country: 'FR' });
  await rowOf('Edge 131 on Windows').first().waitFor({ timeout: 15_000 });
  const deadline = Date.now() + 5_000;
  while (bus.notes.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 5_000)); // two more polls: no second bubble
  assert.equal(bus.notes.length - before, 1, JSON.stringify(bus.notes.slice(before)));
  assert.match(`${bus.notes[before].summary} ${bus.notes[before].body}`, /Edge on Windows/);
});

test('Terminate ends one session: its token then fails /sessions/whoami', async () => {
  assert.equal(await kratos.whoami(s.aliceChrome.token), true);
  const row = rowOf('Chrome 131 on macOS').filter({ hasText: 'alice@example.test' });
  await row.getByRole('button', { name: 'Terminate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Terminate this session?' });
  await dialog.waitFor();
  await dialog.getByRole('textbox', { name: /Reason/ }).fill('lost laptop');
  await dialog.getByRole('button', { name: 'Terminate' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await kratos.whoami(s.aliceChrome.token), false);
  assert.equal(await kratos.whoami(s.aliceFirefox.token), true);
  assert.equal(await kratos.whoami(s.bobChrome.token), true);
});

test('Sign out everywhere ends a person’s sessions and nobody else’s', async () => {
  await page.getByRole('searchbox', { name: 'Search sessions' }).fill('bob@example.test');
  await sessionsTable().getByRole('button', { name: 'Bob Stone', exact: true }).first().click();
  await page.getByRole('heading', { level: 2, name: 'Bob Stone' }).waitFor();
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  const dialog = page.getByRole('dialog', { name: 'Sign Bob Stone out everywhere?' });
  await dialog.waitFor();
  await dialog.getByRole('textbox', { name: /Reason/ }).fill('phished');
  await dialog.getByRole('button', { name: 'Sign out everywhere' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await kratos.whoami(s.bobChrome.token), false);
  assert.equal(await kratos.whoami(s.bobEdge.token), false);
  assert.equal(await kratos.whoami(s.aliceFirefox.token), true);
  await page.getByRole('button', { name: '← Back' }).click();
  await page.getByRole('searchbox', { name: 'Search sessions' }).fill('');

  await page.getByRole('tab', { name: 'Audit log' }).click();
  await page.getByRole('heading', { name: 'Actions taken from this workstation' }).waitFor();
  const log = page.getByRole('table', { name: 'Actions taken from this workstation' });
  await log.getByRole('row').filter({ hasText: 'phished' }).waitFor({ timeout: 10_000 });
  await log.getByRole('row').filter({ hasText: 'lost laptop' }).waitFor({ timeout: 10_000 });
  assert.ok((await log.textContent()).includes('sec@example.test'));
  await screenshot('audit');
  await page.getByRole('tab', { name: /^Sessions/ }).click();
});

test('Terminate all ends every session one by one, showing how far it got', async () => {
  for (const ip of ['192.0.2.61', '192.0.2.62', '192.0.2.63']) {
    s[ip] = await kratos.login('alice@example.test', { userAgent: FIREFOX_WINDOWS, ip });
  }
  await rowOf('192.0.2.63').first().waitFor({ timeout: 15_000 });
  const active = Number((await page.getByRole('tab', { name: /^Sessions/ }).textContent()).replace(/\D/g, ''));
  assert.ok(active >= 4, `active sessions: ${active}`);
  await page.getByRole('button', { name: 'Terminate all sessions' }).click();
  const dialog = page.getByRole('dialog', { name: 'Terminate all sessions?' });
  await dialog.waitFor();
  // An admin key is no session: every active one ends, none is kept.
  assert.match(await dialog.textContent(), new RegExp(`This ends ${active} active sessions`));
  assert.equal(await dialog.getByRole('checkbox', { name: 'Keep my own session' }).count(), 0);
  // The progress shows while the sessions end and is gone when the dialog
  // closes: a recorder keeps every text it showed.
  await page.evaluate(() => {
    window.__progress = [];
    new MutationObserver(() => {
      const bar = document.querySelector('progress[aria-label="Ending sessions"]');
      const text = bar?.parentElement?.textContent?.trim();
      if (text && window.__progress.at(-1) !== text) window.__progress.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await dialog.getByRole('button', { name: 'Terminate all sessions' }).click();
  await dialog.waitFor({ state: 'detached', timeout: 30_000 });
  // Every text counts up towards the whole; the last report may arrive
  // with the result, so the dialog can close before it is drawn.
  const seen = await page.evaluate(() => window.__progress);
  const done = seen.map((t) => Number(t.match(new RegExp(`^Ending sessions… (\\d+) of ${active}$`))?.[1] ?? NaN));
  assert.ok(seen.length > 0 && done.every((d, i) => d <= active && (i === 0 || d >= done[i - 1])), JSON.stringify(seen));
  await page.getByRole('status').filter({ hasText: new RegExp(`Terminated ${active} sessions\\.`) }).waitFor();
  for (const ip of ['192.0.2.61', '192.0.2.62', '192.0.2.63']) assert.equal(await kratos.whoami(s[ip].token), false);
  assert.equal(await kratos.whoami(s.aliceFirefox.token), false);
});

test('offline review after Kratos is stopped', async () => {
  s.late = await kratos.login('alice@example.test', { userAgent: FIREFOX_WINDOWS, ip: '203.0.113.70', city: 'Berlin', country: 'DE' });
  await rowOf('203.0.113.70').first().waitFor({ timeout: 15_000 });
  await kratos.stop();
  const banner = page.getByRole('status').filter({ hasText: /Offline —/ });
  await banner.waitFor({ timeout: 30_000 });
  assert.match(await banner.textContent(), /Ory Kratos cannot be reached/);
  assert.doesNotMatch(await banner.textContent(), /platform/);
  await rowOf('Firefox 133 on Windows').first().waitFor();
  assert.ok((await rowOf('Berlin, DE').count()) >= 1);
  const terminate = sessionsTable().getByRole('button', { name: 'Terminate' }).first();
  assert.equal(await terminate.isDisabled(), true);
  await page.getByRole('tab', { name: 'Audit log' }).click();
  await page.getByRole('table', { name: 'Actions taken from this workstation' }).getByRole('row').filter({ hasText: 'phished' }).waitFor();
  await page.getByRole('tab', { name: /^Sessions/ }).click();
  await screenshot('offline');
});
