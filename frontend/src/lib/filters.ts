// The sessions list's filters as people read them: one chip per active
// filter. Pure, so the toolbar, the chips and the tests share one reading.
import type { SessionFilter, SessionFilters } from './model';

export type FilterKey = keyof SessionFilters | 'status' | 'search';

export interface ActiveFilter {
  key: FilterKey;
  label: string;
}

const UNKNOWN = '-';

function place(v: string, what: string): string {
  return v === UNKNOWN ? `Unknown ${what}` : v;
}

/**
 * A country or platform key of the overview's counts as a filter value
 * ('' — not known — travels as '-') and as people read it.
 */
export const keyValue = (k: string): string => (k === '' ? UNKNOWN : k);
export const keyLabel = (k: string, what: string): string => (k === '' ? `Unknown ${what}` : k);

/** The filters that narrow q, search and a status other than "active" included. */
export function activeFilters(q: SessionFilter, personName = ''): ActiveFilter[] {
  const out: ActiveFilter[] = [];
  if (q.search.trim()) out.push({ key: 'search', label: `Search: “${q.search.trim()}”` });
  if (q.status && q.status !== 'active') out.push({ key: 'status', label: `Status: ${q.status}` });
  if (q.userId) out.push({ key: 'userId', label: `Person: ${personName || q.userId}` });
  if (q.mfa) out.push({ key: 'mfa', label: q.mfa === 'yes' ? 'MFA used' : 'MFA not used' });
  if (q.country) out.push({ key: 'country', label: `Country: ${place(q.country, 'country')}` });
  if (q.platform) out.push({ key: 'platform', label: `Platform: ${place(q.platform, 'platform')}` });
  if (q.browser) out.push({ key: 'browser', label: `Browser: ${q.browser}` });
  if (q.createdFrom || q.createdTo) {
    const f = q.createdFrom ? new Date(q.createdFrom) : null;
    const t = q.createdTo ? new Date(q.createdTo) : null;
    const fmt = (d: Date) => d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    out.push({ key: 'createdFrom', label: `Signed in ${f ? 'from ' + fmt(f) : ''}${t ? ' to ' + fmt(t) : ''}`.trim() });
  }
  return out;
}

/** q without one filter. */
export function withoutFilter(q: SessionFilter, key: FilterKey): SessionFilter {
  const next = { ...q };
  switch (key) {
    case 'search':
      next.search = '';
      break;
    case 'status':
      next.status = 'active';
      break;
    case 'createdFrom':
    case 'createdTo':
      next.createdFrom = 0;
      next.createdTo = 0;
      break;
    default:
      (next as Record<string, unknown>)[key] = '';
  }
  return next;
}

/** q with every filter (search and status included) back to the default. */
export function clearFilters(q: SessionFilter): SessionFilter {
  return { ...q, search: '', status: 'active', userId: '', mfa: '', country: '', platform: '', browser: '', createdFrom: 0, createdTo: 0 };
}
