// UI half of the bench (build/scripts/bench.sh runs it through sdbench): the
// real dev app, signed in to a running platformd that holds a large
// organization, driven in Chromium. Prints one JSON object on stdout:
//   paintMs      Sessions tab clicked → its first window painted, per sample
//   loadMs       page (re)loaded → the Sessions table's first window painted
//   keystrokeMs  key pressed in the search box → the new result painted
//   listCallMs   each SessionsService.List round trip over the bindings
//   windowKeystrokeMs, windowListCallMs  the same search typed into the app's
//                own window (WebKitGTK) with xdotool, timed by the same probe
//                run in that page (typeInAppWindow)
//   goRssBytes   the app's Go process;  webRssBytes  its WebKit processes
//   goHeap       the Go heap after a GC (internal/devdebug's heap.json, served
//                by the dev build on SESSIONDESK_DEBUG_ADDR)
//   jsHeapBytes  the page's JS heap after a GC (CDP Runtime.getHeapUsage): the
//                Chromium page that runs the same frontend, not the WebKit one
// With UI_BENCH_SMAPS=DIR it also copies each process's /proc/PID/smaps
// there, for a breakdown of the RSS by mapping (docs/bench.md).
//
// "Painted" is the first task after the animation frame that follows the
// List answer for the new state: the browser paints between the two. The
// bound List method is wrapped to timestamp its answers; nothing else of
// the page is touched, and the keys and clicks are real input events.
import { readFileSync, writeFileSync } from 'node:fs';
import { appPid, appWindow, descendants, freePort, startApp, signInThroughUI, windowSearchBox } from '../e2e/harness.mjs';

const url = process.env.PLATFORM_URL;
const org = process.env.ORG ?? 'bigcorp';
const expect = Number(process.env.EXPECT_SESSIONS ?? '0');
const samples = Number(process.env.SAMPLES ?? '10');
if (!url) throw new Error('PLATFORM_URL is required');

function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// The probe, run in the page (Chromium's, and the app's own window): it
// timestamps the last key or click and each List answer once the frame
// after it is painted (the first task after the next animation frame).
function probe() {
  const svc = window.go.bind.SessionsService;
  const list = svc.List;
  window.__answers = [];
  window.__calls = [];
  svc.List = (q) => {
    const sent = performance.now();
    return list(q).then((r) => {
      window.__calls.push(performance.now() - sent);
      requestAnimationFrame(() =>
        setTimeout(() => window.__answers.push({ search: q.search, at: performance.now(), rows: r.items.length }), 0),
      );
      return r;
    });
  };
  window.__input = 0;
  for (const type of ['keydown', 'mousedown']) {
    document.addEventListener(type, () => (window.__input = performance.now()), true);
  }
  // ms from the last key or click to the painted answer for search s,
  // undefined until there is one: what both settle and measure on.
  window.__answered = (s) => {
    const a = window.__answers.find((x) => x.at > window.__input && x.search === s);
    return a && a.at - window.__input;
  };
}

// Search words typed one key at a time: user000000, user007919, … from
// the first'th on (both seeds name people user%06d).
const words = (first, keys) => {
  const out = [];
  for (let i = first, n = 0; n < keys; i++) {
    const w = `user${String((i * 7919) % 100000).padStart(6, '0')}`;
    out.push(w);
    n += w.length;
  }
  return out;
};

const debugAddr = `127.0.0.1:${await freePort()}`;
const app = await startApp({
  args: ['-server', url, '-demo-new-device-every', '0'],
  env: { SESSIONDESK_DEBUG_ADDR: debugAddr },
  // Chromium holds back a page's other tasks after a key press until the
  // frame that shows the key has been drawn (an input-latency policy of its
  // scheduler); the bound call's answer, which arrives over the dev server's
  // WebSocket, waited for it: ~11 of a keystroke's ~13 ms round trip at
  // 100,000 sessions, while List itself took 0.03-5 ms. The app's window
  // is WebKitGTK, which has no such policy and calls Go without a socket, so
  // the bench times the page without it (docs/bench.md, "The keystroke").
  browserArgs: ['--disable-features=DeferRendererTasksAfterInput'],
});
try {
  const { page } = app;
  await signInThroughUI(page, { server: url, org, email: `admin@${org}.test` });
  const sessionsTab = page.getByRole('tab', { name: /^Sessions/ });
  await sessionsTab.waitFor({ timeout: 120_000 });
  // Synced: the count in the tab reaches the organization's size.
  await page.waitForFunction(
    (want) => {
      const t = [...document.querySelectorAll('[role="tab"]')].find((e) => /^Sessions/.test(e.textContent ?? ''));
      return Number((t?.textContent ?? '').replace(/\D/g, '')) >= want;
    },
    expect,
    { timeout: 600_000, polling: 250 },
  );

  const installProbe = () => page.evaluate(probe);
  await installProbe();
  const settle = (search) =>
    page.waitForFunction(
      (s) => window.__answered(s) !== undefined,
      search,
      { timeout: 30_000, polling: 'raf' },
    );
  const elapsed = (search) => page.evaluate((s) => window.__answered(s), search);

  // Data ready → painted, twice over: switching back to the Sessions tab
  // (the rows are in the app; the table mounts and asks for its window), and
  // loading the page afresh (boot, auth state, first window, paint).
  const firstRowPainted = () =>
    new Promise((resolve) => {
      const check = () => {
        if (document.querySelector('table[aria-label="Sessions"] tr.row')) {
          requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
        } else {
          requestAnimationFrame(check);
        }
      };
      check();
    });
  const paintMs = [];
  const devicesTab = page.getByRole('tab', { name: /^Devices/ });
  for (let i = 0; i < samples; i++) {
    await devicesTab.click();
    await page.getByRole('table', { name: 'Devices' }).waitFor();
    paintMs.push(
      await page.evaluate(async (wait) => {
        const tab = [...document.querySelectorAll('[role="tab"]')].find((e) => /^Sessions/.test(e.textContent ?? ''));
        const t0 = performance.now();
        tab.click();
        return (await eval(wait)()) - t0;
      }, `(${firstRowPainted.toString()})`),
    );
  }
  const loadMs = [];
  for (let i = 0; i < Math.min(samples, 5); i++) {
    await page.reload();
    // From the start of navigation: performance.now() counts from it.
    loadMs.push(await page.evaluate(async (wait) => eval(wait)(), `(${firstRowPainted.toString()})`));
  }
  await installProbe();

  const keystrokeMs = [];
  const box = page.getByRole('searchbox', { name: 'Search sessions' });
  await box.click();
  for (const target of words(0, samples)) {
    if ((await box.inputValue()) !== '') {
      await box.fill('');
      await settle('');
    }
    let typed = '';
    for (const ch of target) {
      typed += ch;
      await page.keyboard.press(ch);
      await settle(typed);
      keystrokeMs.push(await elapsed(typed));
    }
  }

  const pid = await appPid(page);
  const web = descendants(pid).filter((p) => /WebKit/.test(readFileSync(`/proc/${p}/comm`, 'utf8')));
  if (process.env.UI_BENCH_SMAPS) {
    for (const p of [pid, ...web]) {
      const name = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      writeFileSync(`${process.env.UI_BENCH_SMAPS}/${name}-${p}.smaps`, readFileSync(`/proc/${p}/smaps`));
    }
  }
  // RSS first: the GCs below would move it.
  const goRssBytes = rssOf(pid);
  const webRssBytes = web.reduce((n, p) => n + rssOf(p), 0);
  // The probe's own records are the bench's, not the page's: drop them
  // before the page's heap is weighed.
  const listCallMs = await page.evaluate(() => window.__calls);
  await page.evaluate(() => {
    window.__answers = [];
    window.__calls = [];
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const goHeap = await (await fetch(`http://${debugAddr}/debug/heap.json?gc=1`)).json();
  const appWindow = await typeInAppWindow(pid, debugAddr, words(1000, keystrokeMs.length), keystrokeMs.length);
  const result = {
    paintMs,
    loadMs,
    keystrokeMs,
    windowKeystrokeMs: appWindow.keystrokeMs,
    windowListCallMs: appWindow.listCallMs,
    goRssBytes,
    webRssBytes,
    webProcesses: web.length,
    listCallMs,
    goHeap,
    jsHeapBytes: usedSize,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  process.stderr.write(`ui bench: paint p50 ${median(paintMs).toFixed(1)} ms, keystroke p50 ${median(keystrokeMs).toFixed(1)} ms\n`);
  // Each keystroke in the order typed: the p99 of a few dozen is their
  // slowest or next to it, and which key it was says why.
  const each = (ms) => ms.map((v) => v.toFixed(0)).join(' ');
  process.stderr.write(`ui bench: keystrokes in Chromium, ms: ${each(keystrokeMs)}\n`);
  process.stderr.write(`ui bench: keystrokes in the window, ms: ${each(appWindow.keystrokeMs)}\n`);
} finally {
  await app.stop();
}

// typeInAppWindow types targets into the search box of the app's own
// window (WebKitGTK, which playwright cannot drive): real key events from
// xdotool on the app's X display, the probe run in the page through the
// dev build's /debug/window/eval (internal/devdebug). Each keystroke is
// timed in the page from its keydown to the frame painted after the List
// answer for it, as in Chromium. The page is asked only after a key's
// answer should be in, so that the asking does not slow what it times.
async function typeInAppWindow(pid, debugAddr, targets, keys) {
  const win = await appWindow(pid, debugAddr);
  const box = windowSearchBox('Search sessions');
  await win.until(`return !!(${box})`, 'the search box');
  await win.run(`(${probe.toString()})(); return true;`);
  await win.run(`(${box}).focus(); return true;`);
  const keystrokeMs = [];
  typing: for (const target of targets) {
    if (await win.run(`return (${box}).value !== ''`)) {
      win.xdotool('key', 'ctrl+a', 'BackSpace');
      await win.until(`return window.__answered('') !== undefined`, 'the cleared search');
    }
    let typed = '';
    for (const ch of target) {
      typed += ch;
      win.xdotool('key', ch);
      await new Promise((r) => setTimeout(r, 150));
      const answered = `window.__answered(${JSON.stringify(typed)})`;
      await win.until(`return ${answered} !== undefined`, `the answer to "${typed}"`);
      keystrokeMs.push(await win.run(`return ${answered}`));
      if (keystrokeMs.length === keys) break typing;
    }
  }
  return { keystrokeMs, listCallMs: await win.run('return window.__calls') };
}
