// What a keystroke in the search box repaints in the app's own window
// (WebKitGTK, driven with xdotool; playwright cannot drive it): the rows
// above the table, never the table, when the table shows what it showed
// before. The X server reports every rectangle the window draws (the DAMAGE
// extension, harness.mjs recordDamage). Each repaint of the table is the
// web process painting every cell of every row in view in software, and
// the app's process copying it to the window: when each keystroke did
// that, typing cost the web process a quarter to a half more CPU
// (docs/bench.md, "A keystroke repaints the rows above the table, not the
// table"; layout.css .tab).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appPid, appWindow, freePort, recordDamage, signInThroughUI, startApp, startPlatform, windowSearchBox } from './harness.mjs';

let platform;
let app;
const debugAddr = `127.0.0.1:${await freePort()}`;
before(async () => {
  platform = await startPlatform();
  app = await startApp({
    args: ['-server', platform.url, '-demo-new-device-every', '0'],
    env: { SESSIONDESK_DEBUG_ADDR: debugAddr },
  });
});
after(async () => {
  await app?.stop();
  await platform?.cleanup();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const meets = (a, b) => a.x < b.right && a.x + a.width > b.left && a.y < b.bottom && a.y + a.height > b.top;
// Script expressions for the window's page: the Sessions table's scroller,
// its rows, and whether the search's chip shows search s.
const tableEl = `document.querySelector('[role=region][aria-label="Sessions table"]')`;
const rowsSel = 'table[aria-label="Sessions"] tr.row';
const chipOf = (s) => `[...document.querySelectorAll('.chip')].some((c) => c.textContent.includes(${JSON.stringify(`“${s}”`)}))`;
// The styles of the text the page draws: size, weight, style and family.
// WebKitGTK sets up a font for each the first time a layout needs it, ~8 ms
// each; the first search of a session used to pay for two (docs/bench.md,
// "Two fonts set up on the first search").
const textStyles = `return [...new Set([...document.querySelectorAll('body *')]
  .filter((e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden' && [...e.childNodes].some((n) => n.nodeType === 3 && n.data.trim()))
  .map((e) => { const s = getComputedStyle(e); return [s.fontSize, s.fontWeight, s.fontStyle, s.fontFamily].join(' '); }))]`;
// The text styles of the Sessions tab as first shown, before any search.
let stylesAtLoad;

test("a keystroke that leaves the table as it was repaints none of the table in the app's own window", async () => {
  const { page } = app;
  await signInThroughUI(page, { server: platform.url, email: 'admin@acme.test' });
  await page.getByRole('table', { name: 'Sessions' }).getByRole('button', { name: 'Terminate' }).first().waitFor({ timeout: 30_000 });
  const win = await appWindow(await appPid(page), debugAddr);
  const box = windowSearchBox('Search sessions');
  await win.until(
    `const t = [...document.querySelectorAll('[role=tab]')].find((e) => /^Sessions/.test(e.textContent)); t?.click(); return !!(${box})`,
    'the Sessions tab',
  );
  await win.until(`return document.querySelectorAll('${rowsSel}').length > 0`, 'the rows');
  stylesAtLoad = new Set(await win.run(textStyles));
  await win.run(`(${box}).focus(); return true;`);
  // A search nothing matches: the table then holds its note alone, and the
  // next letter matches nothing either.
  const shows = (search) =>
    `return (${box}).value === ${JSON.stringify(search)} && ${tableEl}?.textContent.includes('No sessions match your search.')`;
  win.xdotool('type', '--delay', '60', 'qqzx');
  await win.until(shows('qqzx'), 'no sessions for "qqzx"');
  const [table, input] = await win.run(`
    const rect = (e) => { const r = e.getBoundingClientRect(); return { left: r.left, top: r.top, right: r.right, bottom: r.bottom }; };
    return [rect(${tableEl}), rect(${box})];`);

  // Wait for a second in which nothing was drawn over the table: the
  // overlay scrollbar of the rows just gone fades for ~2 s. (The caret
  // blinks on: it is drawn in the search box.)
  const drawn = await recordDamage(win);
  for (let quiet = false, end = Date.now() + 20_000; !quiet; ) {
    assert.ok(Date.now() < end, `the table never stopped being drawn: ${JSON.stringify(drawn.rects().slice(-5))}`);
    drawn.clear();
    await sleep(1000);
    quiet = !drawn.rects().some((r) => meets(r, table));
  }
  drawn.clear();
  win.xdotool('key', 'q');
  await win.until(`return ${chipOf('qqzxq')}`, 'the chip of "qqzxq"');
  await win.until(shows('qqzxq'), 'no sessions for "qqzxq"');
  await sleep(1000);
  const rects = await drawn.stop();

  // The recorder saw the keystroke: the letter was drawn in the box.
  assert.ok(
    rects.some((r) => meets(r, input)),
    `nothing drawn over the search box ${JSON.stringify(input)}: ${JSON.stringify(rects)}`,
  );
  assert.deepEqual(
    rects.filter((r) => meets(r, table)),
    [],
    `the keystroke repainted the table ${JSON.stringify(table)}`,
  );
});

// A first letter typed or a first row selected brings actions on some
// sessions (Terminate the N matching, Terminate selected) and a note. In
// the toolbar and on a new line they moved the table down 68 px at 1280
// wide, and the whole window below the header was repainted on the first
// keystroke of every search. They are in a bar that is always there and
// one button high (SessionsTab.svelte, .scope-bar). Their text is in
// styles the tab drew from the start, so no font is set up for them.
test("a search begun, a row selected, or both, leave the table where it was, in text styles already drawn, in the app's own window", async () => {
  const { page } = app;
  const win = await appWindow(await appPid(page), debugAddr);
  const box = windowSearchBox('Search sessions');
  const tableTop = `return ${tableEl}.getBoundingClientRect().top`;
  const noChip = `return (${box}).value === '' && document.querySelectorAll('.chip').length === 0`;
  const selectFirst = `document.querySelector('${rowsSel} input[type=checkbox]').click(); return true`;
  const selectedShown = `return [...document.querySelectorAll('button')].some((b) => b.textContent.trim() === 'Terminate selected')`;
  const matchingShown = `return [...document.querySelectorAll('button')].some((b) => /^Terminate the \\d+ matching$/.test(b.textContent.trim()))`;
  await win.run(`(${box}).focus(); return true;`);
  win.xdotool('key', 'ctrl+a', 'BackSpace');
  await win.until(noChip, 'the search cleared');
  const before = await win.run(tableTop);

  win.xdotool('key', 'a');
  await win.until(`return ${chipOf('a')}`, 'the chip of "a"');
  await win.until(matchingShown, 'Terminate the N matching');
  assert.equal(await win.run(tableTop), before, 'the table moved when a search began');
  const newStyles = async () => (await win.run(textStyles)).filter((st) => !stylesAtLoad.has(st));
  assert.deepEqual(await newStyles(), [], 'a search begun drew text in a style the tab had not drawn');

  win.xdotool('key', 'BackSpace');
  await win.until(noChip, 'the search cleared');
  await win.run(selectFirst);
  await win.until(selectedShown, 'Terminate selected');
  assert.equal(await win.run(tableTop), before, 'the table moved when a row was selected');
  assert.deepEqual(await newStyles(), [], 'a row selected drew text in a style the tab had not drawn');

  const clearSelection = `[...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Clear selection').click(); return true`;
  await win.run(clearSelection);

  // Both: a row selected during a search. The bar holds four buttons and
  // the note, which is cut short rather than wrapped to a second line.
  win.xdotool('key', 'a');
  await win.until(matchingShown, 'Terminate the N matching');
  await win.run(selectFirst);
  await win.until(selectedShown, 'Terminate selected during a search');
  assert.equal(await win.run(tableTop), before, 'the table moved when a row was selected during a search');
  await win.run(clearSelection);
  win.xdotool('key', 'BackSpace');
  await win.until(noChip, 'the search cleared');
});
