// The workstation's settings as the UI sees them: one reactive store, loaded
// from the Go side (which keeps them in settings.json) and saved back there.
// Every component that shows a time asks `timeText` here, so the time
// display setting (relative or exact, local or UTC) is read in one place.
import { getSettings, saveSettings, type Settings } from './api';
import { DATE_PARTS, EXACT_PARTS, exactTime, relativeTime, toMillis } from './format';

export const DEFAULT_SETTINGS: Settings = {
  retentionDays: 14,
  syncIntervalSeconds: 30,
  notifications: true,
  sharedWorkstation: false,
  timeStyle: 'relative',
  timeZone: 'local',
};

class SettingsStore {
  current: Settings = $state({ ...DEFAULT_SETTINGS });
  loaded = $state(false);

  async load(): Promise<Settings> {
    const s = await getSettings();
    this.current = s;
    this.loaded = true;
    return s;
  }

  async save(next: Settings): Promise<Settings> {
    const s = await saveSettings(next);
    this.current = s;
    return s;
  }
}

export const settings = new SettingsStore();

const utcExact = new Intl.DateTimeFormat(undefined, { ...EXACT_PARTS, timeZone: 'UTC' });
const utcDate = new Intl.DateTimeFormat(undefined, { ...DATE_PARTS, timeZone: 'UTC' });

/** The exact time in the chosen zone (for titles and the "exact" style). */
export function exactText(t: string | null | undefined): string {
  if (settings.current.timeZone === 'utc') {
    const ms = toMillis(t);
    return ms === null ? '' : utcExact.format(ms);
  }
  return exactTime(t);
}

/** The relative style in the chosen zone: beyond a month a time reads as its date there. */
export function relativeText(t: string | null | undefined, now: number, kind: 'past' | 'any' = 'past'): string {
  return relativeTime(t, now, kind, settings.current.timeZone === 'utc' ? utcDate : undefined);
}

/** A time as the settings say: "5 min ago" or the exact time. */
export function timeText(t: string | null | undefined, now: number, kind: 'past' | 'any' = 'past'): string {
  if (settings.current.timeStyle === 'exact') return exactText(t) || '—';
  return relativeText(t, now, kind);
}
