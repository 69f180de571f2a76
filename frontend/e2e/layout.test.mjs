// No view scrolls sideways at the window sizes we support: on each tab
// (Overview, Sessions, Devices, Audit log) and in Settings, at 1280×800 (the
// window's default) and 1024×768 (its minimum width), every scrolling
// container — the page itself and each element with overflow auto/scroll —
// is no wider inside than it is on screen. Chromium keeps its classic
// scrollbars here (showScrollbars), so a layout that leaves no room for the
// vertical scrollbar fails as it would in the real window. The window itself
// never scrolls (each view scrolls inside), and no row button or badge
// (Terminate, Details, Revoke trust, a person's name, "You") runs past its
// cell, where the cell's ellipsis would hide it. With a session's details
// panel open, the Sessions table still fits beside it: nothing scrolls
// sideways and each row's Details and Terminate are whole and in view.
// A column header too long for its column ends in "…", never cut bare.
// With SESSIONDESK_SCREENSHOTS=<dir> the panel check writes
// details-open-<w>x<h>.png there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startApp, startPlatform, signInThroughUI } from './harness.mjs';

let platform;
let app;
before(async () => {
  platform = await startPlatform();
  app = await startApp({
    args: ['-server', platform.url, '-demo-new-device-every', '0'],
    showScrollbars: true,
  });
});
after(async () => {
  await app?.stop();
  await platform?.cleanup();
});

/** The scrolling containers wider inside than on screen, described. Runs in the page. */
function overflowing() {
  const name = (el) =>
    el.tagName.toLowerCase() +
    (el.id ? `#${el.id}` : '') +
    [...el.classList].filter((c) => !c.startsWith('svelte-')).map((c) => `.${c}`).join('') +
    (el.getAttribute('aria-label') ? `[aria-label="${el.getAttribute('aria-label')}"]` : '');
  const out = [];
  const page = document.scrollingElement;
  for (const el of [page, ...document.querySelectorAll('body *')]) {
    if (el !== page) {
      const cs = getComputedStyle(el);
      // overflow hidden or clip does not scroll for the user; visible never scrolls.
      if (!/auto|scroll/.test(`${cs.overflowX} ${cs.overflowY}`)) continue;
      if (el.getClientRects().length === 0) continue; // not rendered
    }
    if (el.scrollWidth > el.clientWidth) out.push(`${name(el)}: scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`);
  }
  return out;
}

/** Waits for the layout to settle (charts size themselves after a resize), then asserts no overflow. */
async function assertNoSidewaysScroll(page, where) {
  let found = [];
  const deadline = Date.now() + 3000;
  do {
    await page.waitForTimeout(200);
    found = await page.evaluate(overflowing);
  } while (found.length > 0 && Date.now() < deadline);
  assert.deepEqual(found, [], `${where} scrolls sideways`);
}

/**
 * The window itself never scrolls: each view scrolls inside its own
 * container, so a second scrollbar on the page is a leak (an absolutely
 * placed element, such as visually hidden text, escaping its scroller).
 */
async function assertPageDoesNotScroll(page, where) {
  const sizes = await page.evaluate(() => {
    const el = document.scrollingElement;
    return { scrollHeight: el.scrollHeight, clientHeight: el.clientHeight };
  });
  assert.ok(sizes.scrollHeight <= sizes.clientHeight, `${where}: the page itself scrolls (${sizes.scrollHeight} > ${sizes.clientHeight})`);
}

const views = [
  {
    name: 'Overview',
    async open(page) {
      await page.getByRole('tab', { name: 'Overview' }).click();
      await page.getByRole('list', { name: 'Key figures' }).waitFor({ timeout: 15_000 });
      await page.getByRole('link', { name: /sessions — show these sessions$/ }).first().waitFor();
    },
  },
  {
    name: 'Sessions',
    async open(page) {
      await page.getByRole('tab', { name: /^Sessions/ }).click();
      await page.getByRole('table', { name: 'Sessions' }).getByRole('button', { name: 'Terminate' }).first().waitFor({ timeout: 15_000 });
    },
  },
  {
    name: 'Devices',
    async open(page) {
      await page.getByRole('tab', { name: 'Devices' }).click();
      await page.getByRole('table', { name: 'Devices' }).getByRole('button', { name: 'Revoke trust' }).first().waitFor({ timeout: 15_000 });
    },
  },
  {
    name: 'Audit log',
    async open(page) {
      await page.getByRole('tab', { name: 'Audit log' }).click();
      await page.getByRole('table', { name: 'Audit log' }).getByRole('row').nth(1).waitFor({ timeout: 15_000 });
    },
  },
  {
    name: 'Settings',
    async open(page) {
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByTestId('cache-info').waitFor({ timeout: 15_000 });
    },
    async close(page) {
      await page.getByRole('button', { name: 'Close settings' }).click();
    },
  },
];

test('no tab or Settings scrolls sideways, nor the window itself, at 1280×800 and 1024×768', async () => {
  const { page } = app;
  await signInThroughUI(page, { server: platform.url, email: 'admin@acme.test' });
  await page.getByRole('table', { name: 'Sessions' }).getByRole('button', { name: 'Terminate' }).first().waitFor({ timeout: 30_000 });
  for (const [width, height] of [
    [1280, 800],
    [1024, 768],
  ]) {
    await page.setViewportSize({ width, height });
    for (const view of views) {
      await view.open(page);
      await assertNoSidewaysScroll(page, `${view.name} at ${width}×${height}`);
      await assertPageDoesNotScroll(page, `${view.name} at ${width}×${height}`);
      await view.close?.(page);
    }
  }
});

/** Table cells holding a button or a badge whose content is cut (the cell is wider inside than on screen), described. Runs in the page. */
function clippedButtonCells() {
  const out = [];
  for (const td of document.querySelectorAll('tbody td')) {
    if (td.getClientRects().length === 0 || !td.querySelector('button, .pill')) continue;
    // A button cut by the cell's ellipsis is drawn as "…": the user cannot see it.
    const table = td.closest('table')?.getAttribute('aria-label');
    if (td.scrollWidth > td.clientWidth) {
      const buttons = [...td.querySelectorAll('button')].map((b) => b.textContent.trim()).join(', ');
      out.push(`${table}: cell with [${buttons}] scrollWidth ${td.scrollWidth} > clientWidth ${td.clientWidth}`);
    }
    // A button or badge running past the cell's edge is cut mid-letter (a
    // long name) or dropped for "…" (the "You" badge): each must end inside
    // the cell, a long name shortened by its own ellipsis.
    const edge = td.getBoundingClientRect().right - parseFloat(getComputedStyle(td).paddingRight);
    for (const el of td.querySelectorAll('button, .pill')) {
      const right = el.getBoundingClientRect().right;
      if (right > edge + 0.5) out.push(`${table}: "${el.textContent.trim()}" ends at ${Math.round(right)}, past its cell's edge ${Math.round(edge)}`);
    }
  }
  return [...new Set(out)];
}

/** Column headers whose label is cut without "…" (bare, mid-letter), described. Runs in the page. */
function headersCutBare() {
  const out = [];
  for (const th of document.querySelectorAll('thead th')) {
    if (th.getClientRects().length === 0) continue;
    const table = th.closest('table')?.getAttribute('aria-label');
    const label = th.textContent.trim();
    // The element holding the label's text: where it is cut, if anywhere.
    for (const el of [th, ...th.querySelectorAll('*')]) {
      if (![...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
      const cs = getComputedStyle(el);
      const cut = el.scrollWidth > el.clientWidth || el.getBoundingClientRect().right > th.getBoundingClientRect().right + 0.5;
      if (cut && !(cs.textOverflow === 'ellipsis' && cs.overflowX !== 'visible')) out.push(`${table}: header "${label}" is cut without "…"`);
    }
  }
  return out;
}

test('every row button and badge is whole at 1024×768 and 1280×800: Terminate, Details, Revoke trust, a person\'s name, You', async () => {
  const { page } = app;
  // Signed in by the test above, or (run alone) here.
  if (await page.getByRole('textbox', { name: 'Server URL' }).isVisible()) {
    await signInThroughUI(page, { server: platform.url, email: 'admin@acme.test' });
  }
  await page.getByRole('button', { name: 'Close settings' }).click({ timeout: 2000 }).catch(() => {});
  for (const [width, height] of [
    [1024, 768],
    [1280, 800],
  ]) {
    // Fresh widths: nothing remembered from a resize.
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.setViewportSize({ width, height });
    for (const view of views.filter((v) => v.name === 'Sessions' || v.name === 'Devices')) {
      await view.open(page);
      await page.waitForTimeout(300);
      assert.deepEqual(await page.evaluate(clippedButtonCells), [], `${view.name} at ${width}×${height} cuts a row button`);
      assert.deepEqual(await page.evaluate(headersCutBare), [], `${view.name} at ${width}×${height}`);
    }
  }
});

/** Row buttons of the Sessions table not wholly inside the table's visible area, or covered by something else. Runs in the page. */
function rowButtonsOutOfView() {
  const scroller = document.querySelector('[aria-label="Sessions table"]');
  const box = scroller.getBoundingClientRect();
  const out = [];
  for (const b of scroller.querySelectorAll('tbody tr.row button')) {
    const r = b.getBoundingClientRect();
    if (r.bottom <= box.top || r.top >= box.bottom) continue; // scrolled out vertically: fine
    const label = b.getAttribute('aria-label') || b.textContent.trim();
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5) {
      out.push(`"${label}" spans ${Math.round(r.left)}–${Math.round(r.right)}, the table shows ${Math.round(box.left)}–${Math.round(box.right)}`);
      continue;
    }
    const top = document.elementFromPoint(r.left + r.width / 2, Math.min(r.top + r.height / 2, box.bottom - 1));
    if (top && !b.contains(top)) out.push(`"${label}" is covered by ${top.tagName.toLowerCase()}.${[...top.classList].join('.')}`);
  }
  return out;
}

test('with the details panel open the Sessions table fits beside it: no sideways scroll, Details and Terminate whole and in view', async () => {
  const { page } = app;
  if (await page.getByRole('textbox', { name: 'Server URL' }).isVisible()) {
    await signInThroughUI(page, { server: platform.url, email: 'admin@acme.test' });
  }
  await page.getByRole('button', { name: 'Close settings' }).click({ timeout: 2000 }).catch(() => {});
  for (const [width, height] of [
    [1280, 800],
    [1024, 768],
  ]) {
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.setViewportSize({ width, height });
    await views.find((v) => v.name === 'Sessions').open(page);
    const table = page.getByRole('table', { name: 'Sessions' });
    await table.getByRole('button', { name: /^Details of the session/ }).first().click();
    const panel = page.getByRole('complementary', { name: 'Session details' });
    await panel.getByRole('button', { name: 'Copy IP address' }).waitFor({ timeout: 15_000 });
    const where = `Sessions with the details panel at ${width}×${height}`;
    await assertNoSidewaysScroll(page, where);
    assert.deepEqual(await page.evaluate(rowButtonsOutOfView), [], `${where}: a row button is out of view`);
    assert.ok((await table.getByRole('button', { name: 'Terminate' }).count()) > 0, `${where}: no Terminate button`);
    assert.deepEqual(await page.evaluate(clippedButtonCells), [], `${where} cuts a row button`);
    assert.deepEqual(await page.evaluate(headersCutBare), [], where);
    if (process.env.SESSIONDESK_SCREENSHOTS) {
      await page.screenshot({ path: join(process.env.SESSIONDESK_SCREENSHOTS, `details-open-${width}x${height}.png`) });
    }
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
  }
});
