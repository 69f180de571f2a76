// The sentences the desk shows that are not tied to one component's markup:
// the sync's progress, why actions are unavailable offline, and the outcome
// of ending sessions. One place, so that a wording (and which identity
// system it names) is decided once. The platform's lists carry no total
// count, so a first sync says how many rows arrived so far, not "n of m",
// unless the Go side ever reports a total.
import { PROVIDER_KRATOS, type Profile, type SyncStatus } from './model';
import { count, plural } from './format';

/** Rows received per list during the sync shown (the status's `done` resets per phase). */
export interface SyncCounts {
  sessions: number;
  devices: number;
}

const n = count;

function soFar(done: number, total: number): string {
  return total > 0 ? `${n(done)} of ${n(total)}` : `${n(done)} so far`;
}

/** The header's line while a sync runs. */
export function syncLabel(s: SyncStatus): string {
  switch (s.phase) {
    case 'sessions':
      return `Syncing sessions… ${s.total > 0 ? soFar(s.done, s.total) : n(s.done)}`;
    case 'devices':
      return `Syncing devices… ${s.total > 0 ? soFar(s.done, s.total) : n(s.done)}`;
    case 'audit':
      return 'Syncing the audit log…';
    case 'saving':
      return 'Saving to the offline cache…';
    default:
      return 'Syncing…';
  }
}

/**
 * What an empty list shows before the first sync wrote anything: progress
 * while it runs, "nothing cached yet" when it cannot run. null once a sync
 * completed: then an empty list really is empty.
 */
export function firstSyncText(
  kind: keyof SyncCounts,
  s: SyncStatus | null,
  counts: SyncCounts,
  offline: boolean,
): string | null {
  if (s?.lastSyncAt) return null;
  const label = kind === 'sessions' ? 'sessions' : 'devices';
  if (s && !s.syncing && (offline || s.lastError)) {
    return `Nothing cached yet: ${label} appear after the first sync with the platform.`;
  }
  if (!s || !s.syncing) return `Loading ${label}…`;
  if (s.phase === kind) return `Loading ${label}… ${soFar(s.done, s.total)}`;
  const got = counts[kind];
  const order = ['sessions', 'devices', 'audit', 'saving'];
  if (order.indexOf(s.phase) < order.indexOf(kind)) return `Loading ${label}…`;
  return `Loading ${label}… ${n(got)} received; ${s.phase === 'saving' ? 'saving them to the offline cache' : 'reading the rest'}…`;
}

/** What the offline banner and disabled actions name as unreachable. */
function systemName(kratos: boolean): string {
  return kratos ? 'Ory Kratos' : 'the platform';
}

/** Why an action is disabled while offline (its button's title). */
export function offlineReason(kratos: boolean): string {
  return `Unavailable while offline: ${systemName(kratos)} cannot be reached.`;
}

/**
 * The offline banner's sentences after "Offline —"; cachedAge is what
 * cacheAge gives ("3 min ago"), null when nothing is cached. Kratos has no
 * device trust, so there only terminating is named.
 */
export function offlineBanner(kratos: boolean, cachedAge: string | null): string {
  const shown = cachedAge ? `showing data cached ${cachedAge}.` : 'nothing is cached on this computer yet.';
  const disabled = kratos
    ? `${systemName(kratos)} cannot be reached: terminating sessions is disabled until it is reachable again.`
    : `Terminate and revoke are disabled until ${systemName(kratos)} is reachable again.`;
  return `${shown} ${disabled}`;
}

/** What a running "Terminate all" or "Terminate selected" says of its progress. */
export function endingProgress(done: number, total: number): string {
  return `Ending sessions… ${n(done)} of ${n(total)}`;
}

/** The outcome of ending several sessions; kept says the caller's own session stayed signed in. */
export function endedMessage(terminated: number, kept: boolean, notFound = 0): string {
  let msg = `Terminated ${plural(terminated, 'session')}`;
  if (notFound > 0) msg += `; ${plural(notFound, 'session')} no longer exist`;
  if (kept) msg += '; your own session stays signed in';
  return msg + '.';
}

/** Where a remembered account lives: "acme · https://…", or "Ory Kratos · https://…" (a Kratos profile has no organization). */
export function accountPlace(p: Profile): string {
  return [p.provider === PROVIDER_KRATOS ? 'Ory Kratos' : p.org, p.serverUrl].filter(Boolean).join(' · ');
}

/** A remembered account named in a sentence: "sec@acme.test (acme)", without "()" when there is no organization. */
export function accountName(p: Profile): string {
  return p.org ? `${p.email} (${p.org})` : p.email;
}

/** What each list's toolbar says: its search box's name and hint, and what it counts ("3 sessions"). */
export const LIST_WORDS = {
  sessions: { label: 'Search sessions', placeholder: 'Search user, email, IP or device   ( / )', noun: 'session' },
  devices: { label: 'Search devices', placeholder: 'Search device, user, email or IP   ( / )', noun: 'device' },
  audit: { label: 'Search the audit log', placeholder: 'Search reason, person, device   ( / )', noun: 'event' },
} as const;
