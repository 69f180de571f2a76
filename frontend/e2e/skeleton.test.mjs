import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { descendants, startApp } from './harness.mjs';

let app;
// The app's process id, as its About dialog shows it (found by the test of the bindings).
let appPid = 0;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.stop();
});

test('the window shows the Overview, Sessions and Devices tabs, switchable by click and keyboard', async () => {
  const { page } = app;
  const overview = page.getByRole('tab', { name: 'Overview' });
  const sessions = page.getByRole('tab', { name: /^Sessions/ });
  const devices = page.getByRole('tab', { name: /^Devices/ });
  await sessions.waitFor();
  assert.equal(await sessions.getAttribute('aria-selected'), 'true');

  await devices.click();
  assert.equal(await devices.getAttribute('aria-selected'), 'true');
  assert.equal(await page.getByRole('tabpanel', { name: /^Devices/ }).isVisible(), true);

  await page.getByRole('tab').last().focus();
  await page.keyboard.press('ArrowRight'); // wraps from the last tab to the first: Overview
  assert.equal(await overview.getAttribute('aria-selected'), 'true');
  await page.keyboard.press('ArrowRight');
  assert.equal(await sessions.getAttribute('aria-selected'), 'true');
  await page.keyboard.press('End');
  assert.equal(await page.getByRole('tab').last().getAttribute('aria-selected'), 'true');
  await page.keyboard.press('Home');
  assert.equal(await overview.getAttribute('aria-selected'), 'true');
});

test('a value only the Go side knows reaches the page through the bindings', async () => {
  const { page } = app;
  const info = page.getByTestId('app-info');
  await info.waitFor();
  // The footer shows the version only; build details live in About.
  assert.doesNotMatch(await info.textContent(), /pid|go1\./);
  await page.getByRole('button', { name: 'About' }).click();
  const about = page.getByRole('dialog', { name: 'About Sessions Desk' });
  await about.waitFor();
  // The Go runtime version and the app process id cannot come from the browser.
  assert.match(await about.getByTestId('about-go').textContent(), /go1\.\d+/);
  const pid = Number(await about.getByTestId('about-pid').textContent());
  assert.ok(pid > 1, `no pid in the About dialog`);
  // And it is the pid of a live sessiondesk-dev process.
  assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /sessiondesk-dev/);
  appPid = pid;
  await about.getByRole('button', { name: 'Close' }).click();
  await about.waitFor({ state: 'detached' });
});

test('the app process loads no OpenGL driver: its window draws without one (webview.go)', async () => {
  assert.ok(appPid > 1, 'the About test did not find the app process');
  // WebKit looks for a GPU to name to a web process as it starts one: the
  // last of the three places that loaded Mesa. Wait for the window's.
  const webProcess = () =>
    descendants(appPid).some((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('WebKitWebProces');
      } catch {
        return false; // gone meanwhile
      }
    });
  const end = Date.now() + 30_000;
  while (!webProcess()) {
    assert.ok(Date.now() < end, 'the app started no web process');
    await new Promise((r) => setTimeout(r, 100));
  }
  const loaded = readFileSync(`/proc/${appPid}/maps`, 'utf8')
    .split('\n')
    .map((l) => l.split(/\s+/)[5])
    .filter((f) => f && /libLLVM|\/dri\/|libEGL_mesa|libGLX_mesa/.test(f));
  assert.deepEqual([...new Set(loaded)], []);
});
