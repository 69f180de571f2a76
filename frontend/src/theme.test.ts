// Filled buttons put white text on the theme's colours: both schemes must
// give at least 4.5:1 (WCAG AA for text). axe checks the real pages end to
// end; this pins the palette itself, light and dark, without a browser.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';

// Read as a file: Vitest hands CSS imports to tests empty. It runs in frontend/.
const css = readFileSync('src/app.css', 'utf8');

function vars(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of block.matchAll(/(--[\w-]+):\s*([^;]+);/g)) out[m[1]] = m[2].trim();
  return out;
}

const light = vars(css.slice(css.indexOf(':root {'), css.indexOf('@media (prefers-color-scheme: dark)')));
const dark = { ...light, ...vars(css.slice(css.indexOf('@media (prefers-color-scheme: dark)'), css.indexOf('html,'))) };

function luminance(hex: string): number {
  const h = hex.replace('#', '');
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255).map((c) =>
    c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4,
  );
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

// The fill a rule paints, resolved through the scheme's variables.
function fill(selector: string, scheme: Record<string, string>): string {
  const rule = css.match(new RegExp(`${selector.replace('.', '\\.')} \\{([^}]*)\\}`));
  const bg = rule?.[1].match(/background:\s*([^;]+);/)?.[1].trim() ?? '';
  const v = bg.match(/var\((--[\w-]+)\)/);
  return v ? scheme[v[1]] : bg;
}

describe('theme contrast', () => {
  for (const [name, scheme] of [
    ['light', light],
    ['dark', dark],
  ] as const) {
    it(`white on the primary and danger buttons is at least 4.5:1 in ${name} mode`, () => {
      for (const sel of ['button.primary', 'button.danger']) {
        const bg = fill(sel, scheme);
        expect(bg, sel).toMatch(/^#[0-9a-f]{6}$/i);
        expect(contrast('#ffffff', bg), `${sel} ${bg}`).toBeGreaterThanOrEqual(4.5);
      }
    });
  }
});
