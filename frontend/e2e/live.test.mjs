// Live changes end to end: the real app, on a private D-Bus where a small
// recorder (app/internal/testbus/notifyrecorder) owns
// org.freedesktop.Notifications, against a real platformd. Nobody clicks
// "Sync now": what changes on the platform must show up by itself, through
// GET /api/v1/events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, startPlatform, platformCall, platformLogin, signInThroughUI, startNotificationBus } from './harness.mjs';

let platform;
let app;
let page;
let bus; // the private D-Bus and its notification recorder
let workDir;
let notes = [];

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'sessiondesk-live-'));
  bus = await startNotificationBus(workDir);
  notes = bus.notes;
  platform = await startPlatform();
  app = await startApp({
    args: ['-server', platform.url, '-demo-new-device-every', '0'],
    env: { DBUS_SESSION_BUS_ADDRESS: bus.addr },
  });
  page = app.page;
  await signInThroughUI(page, { server: platform.url, email: 'admin@acme.test' });
  await page.getByRole('tab', { name: /^Sessions/ }).waitFor({ timeout: 30_000 });
  await page.getByRole('tab', { name: /^Sessions/ }).click();
  // The sync status says the stream is held.
  await page.getByTestId('live-status').waitFor({ timeout: 20_000 });
});

after(async () => {
  await app?.stop();
  await platform?.cleanup();
  await bus?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const sessionsTable = () => page.getByRole('table', { name: 'Sessions' });

test('a session terminated through the API leaves the table within 2 s, no click', async () => {
  const ua = 'Mozilla/5.0 (X11; Linux x86_64; rv:77.0) Gecko/20100101 Firefox/77.0';
  const victim = await platformLogin(platform.url, { email: 'member@acme.test', device: { name: 'e2e-live' }, userAgent: ua });
  const row = sessionsTable().getByRole('row').filter({ hasText: victim.session.client });
  // It arrives by itself too (the sign-in is a change).
  await row.first().waitFor({ timeout: 2_000 });

  const admin = await platformLogin(platform.url, { email: 'admin@acme.test', device: { name: 'e2e-admin' } });
  const began = Date.now();
  const res = await platformCall(platform.url, `/sessions/${victim.session.id}/terminate`, {
    method: 'POST',
    token: admin.token,
    body: { reason: 'live e2e' },
  });
  assert.equal(res.status, 200);
  await row.first().waitFor({ state: 'detached', timeout: 2_000 });
  console.log(`terminated session left the table after ${Date.now() - began} ms`);
});

test('a sign-in from a new device raises exactly one notification', async () => {
  const before = notes.length;
  const began = Date.now();
  await platformLogin(platform.url, { email: 'auditor@acme.test', device: { name: 'Brand-new laptop' } });
  const deadline = Date.now() + 2_000;
  while (notes.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(notes.length > before, 'no notification within 2 s');
  console.log(`notification after ${notes[before].at - began} ms: ${notes[before].summary} / ${notes[before].body}`);
  // Nothing more follows (no second bubble from a later sync).
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(notes.length - before, 1, JSON.stringify(notes.slice(before)));
});

test('rows change in place: the focused row keeps its focus, the scroll position stays', async () => {
  // Two sessions of our own at the top of the list (newest activity first):
  // one that will be ended, one below it whose button gets the focus.
  const ua = (v) => `Mozilla/5.0 (X11; Linux x86_64; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`;
  // The admin signs in first: a sign-in is itself a new row at the top.
  const admin = await platformLogin(platform.url, { email: 'admin@acme.test', device: { name: 'e2e-admin-2' } });
  const keep = await platformLogin(platform.url, { email: 'member@acme.test', device: { name: 'e2e-keep' }, userAgent: ua(63) });
  const gone = await platformLogin(platform.url, { email: 'member@acme.test', device: { name: 'e2e-gone' }, userAgent: ua(64) });
  const keepRow = sessionsTable().getByRole('row').filter({ hasText: keep.session.client });
  const goneRow = sessionsTable().getByRole('row').filter({ hasText: gone.session.client });
  await keepRow.first().waitFor({ timeout: 2_000 });
  await goneRow.first().waitFor({ timeout: 2_000 });

  const scroller = page.getByRole('region', { name: 'Sessions table' });
  await scroller.evaluate((el) => {
    el.scrollTop = 0;
  });
  await keepRow.first().getByRole('button', { name: 'Terminate' }).focus();
  const before = await scroller.evaluate((el) => el.scrollTop);
  await new Promise((r) => setTimeout(r, 500)); // no change in flight

  const res = await platformCall(platform.url, `/sessions/${gone.session.id}/terminate`, { method: 'POST', token: admin.token, body: {} });
  assert.equal(res.status, 200);
  await goneRow.first().waitFor({ state: 'detached', timeout: 2_000 });

  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    return { tag: el?.tagName, text: el?.textContent?.trim(), row: el?.closest('tr')?.textContent ?? '' };
  });
  assert.equal(focused.tag, 'BUTTON', 'the focus is still on a button');
  assert.equal(focused.text, 'Terminate');
  assert.ok(focused.row.includes(keep.session.client), `the focused button is still in the row of ${keep.session.client}: ${focused.row}`);
  assert.equal(await scroller.evaluate((el) => el.scrollTop), before, 'the scroll position stays');
});

test("the app's own session ended on the platform: the sign-in screen at once", async () => {
  const admin = await platformLogin(platform.url, { email: 'admin@acme.test', device: { name: 'e2e-admin-3' } });
  // The app's own session is the one whose client is the app (every other
  // sign-in of this test is a browser's).
  const list = await platformCall(platform.url, '/sessions?q=' + encodeURIComponent('Sessions Desk'), { token: admin.token });
  assert.equal(list.status, 200);
  const own = list.body.items.filter((s) => s.user.email === 'admin@acme.test' && s.status === 'active');
  assert.equal(own.length, 1, JSON.stringify(own.map((s) => s.client)));
  const began = Date.now();
  const res = await platformCall(platform.url, `/sessions/${own[0].id}/terminate`, { method: 'POST', token: admin.token, body: {} });
  assert.equal(res.status, 200);
  await page.getByRole('textbox', { name: 'Server URL' }).waitFor({ timeout: 2_000 });
  console.log(`sign-in screen ${Date.now() - began} ms after the session was ended`);
});
