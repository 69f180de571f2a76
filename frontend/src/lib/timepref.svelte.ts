// How times are shown (v1.1 "Time" setting): relative ("5 min ago") or
// exact, in the local zone or UTC, with the zone always written out. One
// shared, reactive preference, kept in localStorage so it survives a restart;
// it holds no personal data.
import { relativeTime, toMillis } from './format';

export type TimeMode = 'relative' | 'exact';
export type TimeZoneChoice = 'local' | 'utc';

const KEY = 'sessiondesk.time';

function load(): { mode: TimeMode; zone: TimeZoneChoice } {
  try {
    const v = JSON.parse(globalThis.localStorage?.getItem(KEY) ?? '{}');
    return { mode: v.mode === 'exact' ? 'exact' : 'relative', zone: v.zone === 'utc' ? 'utc' : 'local' };
  } catch {
    return { mode: 'relative', zone: 'local' };
  }
}

class TimePref {
  mode: TimeMode = $state('relative');
  zone: TimeZoneChoice = $state('local');

  constructor() {
    const v = load();
    this.mode = v.mode;
    this.zone = v.zone;
  }

  save() {
    try {
      globalThis.localStorage?.setItem(KEY, JSON.stringify({ mode: this.mode, zone: this.zone }));
    } catch {
      /* a private window without storage: the choice lasts this run */
    }
  }
}

export const timePref = new TimePref();

/** The local zone's IANA name, e.g. "Europe/Berlin". */
export function localZoneName(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
}

/** The chosen zone written out: "UTC" or "Europe/Berlin (UTC+01:00)". */
export function zoneLabel(zone: TimeZoneChoice = timePref.zone, at = Date.now()): string {
  if (zone === 'utc') return 'UTC';
  if (localZoneName() === 'UTC' || localZoneName() === 'Etc/UTC') return 'UTC';
  const off = -new Date(at).getTimezoneOffset();
  const sign = off >= 0 ? '+' : '−';
  const a = Math.abs(off);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  return `${localZoneName()} (UTC${sign}${hh}:${mm})`;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: TimeZoneChoice): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZone: zone === 'utc' ? 'UTC' : undefined,
    });
    formats.set(zone, f);
  }
  return f;
}

/** "2026-12-01 10:42:07 UTC": the exact time in the chosen zone, zone named. */
export function exactIn(t: string | null | undefined, zone: TimeZoneChoice = timePref.zone): string {
  const ms = toMillis(t);
  if (ms === null) return '—';
  const text = formatter(zone).format(ms).replace(',', '');
  return `${text} ${zone === 'utc' ? 'UTC' : localZoneName()}`;
}

/** A time as the preference says: relative, or exact with its zone. */
export function showTime(t: string | null | undefined, now: number, kind: 'past' | 'any' = 'past'): string {
  return timePref.mode === 'exact' ? exactIn(t) : relativeTime(t, now, kind);
}
