// Times as people read them in a table: relative, with the exact time kept
// for the title attribute.

/** How an exact time reads, in whichever zone (settings.svelte.ts adds UTC). */
export const EXACT_PARTS: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
};

const exactFormat = new Intl.DateTimeFormat(undefined, EXACT_PARTS);

/** How a time beyond a month reads in the relative style: its date. */
export const DATE_PARTS: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric' };

// Built once, as exactFormat: building a formatter costs WebKitGTK ~0.2 ms
// (75 of them took 16 ms in the app's window, formatting with one built
// 0.2 ms), and a table shows a time beyond a month in most rows of the
// Devices tab (first seen), one new formatter a cell on every scroll.
const localDate = new Intl.DateTimeFormat(undefined, DATE_PARTS);

export function toMillis(t: string | null | undefined): number | null {
  if (!t) return null;
  const ms = Date.parse(t);
  // Go's zero time marshals as 0001-01-01: treat it as "never".
  if (Number.isNaN(ms) || ms < 86_400_000) return null;
  return ms;
}

export function exactTime(t: string | null | undefined): string {
  const ms = toMillis(t);
  return ms === null ? '' : exactFormat.format(ms);
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/**
 * "just now", "5 min ago", "in 3 h", "2 d ago", or a date beyond a month
 * (in date's zone: the workstation's unless given). Times that can only be
 * in the past (kind "past", the default) never read as future because of
 * clock skew or a clock that ticks every 30 s.
 */
export function relativeTime(
  t: string | null | undefined,
  now: number,
  kind: 'past' | 'any' = 'past',
  date: Intl.DateTimeFormat = localDate,
): string {
  const ms = toMillis(t);
  if (ms === null) return '—';
  const diff = kind === 'past' ? Math.min(0, ms - now) : ms - now;
  const abs = Math.abs(diff);
  const say = (n: number, unit: string) => (diff <= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`);
  if (abs < 45_000) return diff <= 0 ? 'just now' : 'in under a minute';
  if (abs < HOUR) return say(Math.max(1, Math.round(abs / MIN)), 'min');
  if (abs < DAY) return say(Math.round(abs / HOUR), 'h');
  if (abs < 30 * DAY) return say(Math.round(abs / DAY), 'd');
  return date.format(ms);
}

/** The age of cached data for the offline banner: "12 min ago". */
export function cacheAge(t: string | null | undefined, now: number): string {
  const ms = toMillis(t);
  if (ms === null) return 'at an unknown time';
  const mins = Math.max(0, Math.floor((now - ms) / MIN));
  if (mins < 1) return 'under 1 min ago';
  if (mins < 60) return `${mins} min ago`;
  const h = Math.floor(mins / 60);
  if (h < 48) return `${h} h ${mins % 60} min ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/**
 * The number format of counts for locale (the page's when undefined). Under
 * the C/POSIX locale (LANG=C.UTF-8: servers, containers, CI, remote
 * desktops) the web view's locale is en-US-POSIX, which groups no digits: at
 * a million sessions the window read "1000001 sessions" and "Syncing
 * sessions… 814000". A locale that leaves a million ungrouped gets English
 * grouping instead; every other locale keeps its own ("1.000.001").
 */
export function countFormat(locale?: string): Intl.NumberFormat {
  const own = new Intl.NumberFormat(locale);
  return /^\d+$/.test(own.format(1_000_000)) ? new Intl.NumberFormat('en') : own;
}

const counts = countFormat();

/** A count as every view shows it: "1,000,001". */
export function count(n: number): string {
  return counts.format(n);
}

export function plural(n: number, one: string, many = one + 's'): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** A session's status as every view shows it: "active" reads "Active". */
export function statusLabel(status: string): string {
  return status ? status[0].toUpperCase() + status.slice(1) : '';
}
