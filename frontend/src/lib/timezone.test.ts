// The time zone of Settings reaches a time shown as its date too (the
// relative style beyond a month). The file runs in a zone 14 hours ahead
// of UTC, set before the modules build their formatters, where 23:30 UTC
// is already the next day.
import { afterAll, expect, it, vi } from 'vitest';

vi.stubEnv('TZ', 'Pacific/Kiritimati'); // Node takes a new TZ at once
const { settings, timeText } = await import('./settings.svelte');
afterAll(() => {
  vi.unstubAllEnvs();
});

const now = Date.parse('2026-12-07T12:00:00Z');
const old = '2026-10-28T23:30:00Z'; // 40 days before now

it("shows a time beyond a month as the workstation's date, or UTC's when Settings say UTC", () => {
  settings.current = { ...settings.current, timeStyle: 'relative', timeZone: 'local' };
  expect(timeText(old, now)).toBe('Oct 29, 2026');
  settings.current = { ...settings.current, timeZone: 'utc' };
  expect(timeText(old, now)).toBe('Oct 28, 2026');
});
