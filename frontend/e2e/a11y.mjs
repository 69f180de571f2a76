// axe-core in the real pages: every end-to-end file can call checkA11y on
// the screen it reached. It runs axe in light and in dark (the page's
// prefers-color-scheme emulated) and fails on any serious or critical
// violation, naming the rule, the scheme and the elements.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * @param {import('playwright-core').Page} page
 * @param {string} screen what is on screen, for the failure message
 * @param {{schemes?: ('light'|'dark')[]}} [opts]
 */
export async function checkA11y(page, screen, opts = {}) {
  const problems = [];
  for (const scheme of opts.schemes ?? ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    // Styles follow the media query on the next frame.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
    const found = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ')}`),
        }));
    });
    for (const v of found) problems.push(`[${scheme}] ${v.id} (${v.impact}): ${v.help}\n      ${v.nodes.join('\n      ')}`);
  }
  await page.emulateMedia({ colorScheme: null });
  if (problems.length > 0) throw new Error(`axe found serious or critical problems on ${screen}:\n  ${problems.join('\n  ')}`);
}
