// A stand-in for src/lib/api.ts in component tests: same exports, backed by
// in-memory lists, with vi.fn() spies on every action and an `emit` to play
// the Go side's events. Tests use it with
//   vi.mock('../lib/api', () => import('../test/fakeApi'));
// The subject of those tests is the UI; the real bindings are covered end to
// end by e2e/.
import { vi } from 'vitest';
import {
  UIError,
  PERM_REVOKE_TRUST,
  PERM_TERMINATE_ORG,
  PERM_VIEW,
  type AppInfo,
  type AuditEvent,
  type AuditFacets,
  type AuditPage,
  type AuditQuery,
  type AuthState,
  type Capabilities,
  type Overview,
  type Person,
  type SelectedResult,
  type SelectionSummary,
  type SessionDetails,
  type CacheInfo,
  type Device,
  type DevicePage,
  type DeviceQuery,
  type EndedSession,
  type EventName,
  type EventPayloads,
  type Me,
  type Profile,
  type Session,
  type SessionPage,
  type SessionQuery,
  type Settings,
  type SignInRequest,
  type SyncStatus,
  type TerminateAllResult,
} from '../lib/model';

export * from '../lib/model';

const NOW = Date.now();
const iso = (minsAgo: number) => new Date(NOW - minsAgo * 60_000).toISOString();

export function makeMe(permissions: string[], email = 'admin@acme.test', name = 'Ada Admin'): Me {
  return {
    user: { id: 'u-me', email, name },
    org: { id: 'o1', slug: 'acme', name: 'Acme Health' },
    permissions,
    session_id: 's-me',
  };
}

export const ADMIN = [PERM_VIEW, PERM_TERMINATE_ORG, PERM_REVOKE_TRUST];
export const AUDITOR = [PERM_VIEW];

/** What the platformd provider can do: everything, live, with its own audit log. */
export const PLATFORMD: Capabilities = {
  endSession: true,
  endSelected: true,
  endPerson: true,
  endAll: true,
  revokeDeviceTrust: true,
  audit: 'platform',
  updates: 'live',
};

/** What the Ory Kratos provider can do: every end, no device trust, the workstation's own log, polling. */
export const KRATOS: Capabilities = {
  endSession: true,
  endSelected: true,
  endPerson: true,
  endAll: true,
  revokeDeviceTrust: false,
  audit: 'workstation',
  updates: 'polling',
};

/** Signed in to a Kratos profile as the Go side reports it (every permission). */
export function signedInKratos(): AuthState {
  const s = signedIn(ADMIN, KRATOS);
  return {
    ...s,
    // An admin key is no Kratos session: no own session to keep or mark.
    me: { ...s.me!, session_id: '' },
    profile: { id: 'pk', serverUrl: 'http://127.0.0.1:4434', org: '', email: 'sec@example.test', provider: 'kratos' },
  };
}

export function signedIn(permissions = ADMIN, capabilities: Capabilities = PLATFORMD): AuthState {
  return {
    signedIn: true,
    demo: false,
    profile: { id: 'p1', serverUrl: 'http://127.0.0.1:8443', org: 'acme', email: 'admin@acme.test' },
    me: makeMe(permissions),
    capabilities,
    keychainAvailable: true,
    keychainMessage: '',
    message: '',
    notice: '',
    defaultServer: '',
    sharedWorkstation: false,
  };
}

export function signedOut(): AuthState {
  return { ...signedIn(), signedIn: false, profile: null, me: null };
}

function session(i: number, over: Partial<Session> = {}): Session {
  return {
    id: `s-${i}`,
    user: { id: `u-${i}`, email: `user${i}@acme.test`, name: `User ${i}` },
    device_id: `d-${i}`,
    ip: `203.0.113.${i % 250}`,
    user_agent: 'Mozilla/5.0',
    client: 'Firefox 133 on Windows',
    location: i % 3 ? 'Berlin, DE' : '',
    created_at: iso(600 + i),
    last_active_at: iso(i),
    expires_at: new Date(NOW + 3_600_000 * 8).toISOString(),
    updated_at: iso(i),
    status: 'active',
    terminated_at: null,
    terminated_by: null,
    mfa: i % 2 === 0,
    current: false,
    ...over,
  };
}

function device(i: number, over: Partial<Device> = {}): Device {
  return {
    id: `d-${i}`,
    user: { id: `u-${i}`, email: `user${i}@acme.test`, name: `User ${i}` },
    name: `Chrome on macOS #${i}`,
    platform: 'macOS',
    trusted: i % 2 === 0,
    trusted_at: i % 2 === 0 ? iso(5000) : null,
    first_seen_at: iso(9000 + i),
    last_seen_at: iso(i),
    last_ip: `198.51.100.${i % 250}`,
    updated_at: iso(i),
    ...over,
  };
}

export interface FakeState {
  auth: AuthState;
  profiles: Profile[];
  sessions: Session[];
  devices: Device[];
  audit: AuditEvent[];
  offline: boolean;
  /** Terminate selected: the platform stops answering after this many IDs (0: never), as after a first batch. */
  selectedFailAfter: number;
  snapshotAt: string | null;
  sync: SyncStatus;
  settings: Settings;
}

export const fake: FakeState = {} as FakeState;
const listeners = new Map<string, Set<(p: unknown) => void>>();

/** Resets the fake to a signed-in admin with `n` sessions and devices. */
export function resetFake(opts: { auth?: AuthState; sessions?: number; devices?: number } = {}) {
  const n = opts.sessions ?? 5;
  fake.auth = opts.auth ?? signedIn();
  fake.profiles = [];
  fake.sessions = Array.from({ length: n }, (_, i) => session(i + 1));
  fake.sessions.unshift(
    session(0, {
      id: 's-me',
      user: { id: 'u-me', email: 'admin@acme.test', name: 'Ada Admin' },
      client: 'Sessions Desk on Linux',
      current: true,
    }),
  );
  fake.devices = Array.from({ length: opts.devices ?? 4 }, (_, i) => device(i));
  fake.audit = [];
  fake.offline = false;
  fake.selectedFailAfter = 0;
  fake.snapshotAt = iso(0);
  fake.sync = { online: true, syncing: false, lastSyncAt: new Date(Date.now() - 60_000).toISOString(), lastError: '', phase: '', done: 0, total: 0, live: false, lastEventAt: null, liveNote: '', clockOffsetMs: 0, intervalSeconds: 30 };
  fake.settings = {
    retentionDays: 14,
    syncIntervalSeconds: 30,
    notifications: true,
    sharedWorkstation: false,
    timeStyle: 'relative',
    timeZone: 'local',
  };
  listeners.clear();
  for (const f of spies) f.mockClear();
}

/** Plays an event as the Go side would emit it. */
export function emit<E extends EventName>(name: E, payload?: EventPayloads[E]) {
  for (const cb of listeners.get(name) ?? []) cb(payload);
}

const offlineError = () => new UIError('offline', 'The platform cannot be reached.');

function filterSessions(q: SessionQuery): Session[] {
  const s = q.search.toLowerCase();
  const country = (loc: string) => (loc.includes(', ') ? loc.slice(loc.lastIndexOf(', ') + 2) : '-');
  const platform = (c: string) => (c.includes(' on ') ? c.slice(c.lastIndexOf(' on ') + 4) : '-');
  let rows = fake.sessions.filter(
    (r) =>
      (q.status === 'all' || r.status === (q.status || 'active')) &&
      (!s || [r.user.email, r.user.name, r.ip, r.client].some((v) => v.toLowerCase().includes(s))) &&
      (!q.userId || r.user.id === q.userId) &&
      (!q.mfa || r.mfa === (q.mfa === 'yes')) &&
      (!q.country || country(r.location) === q.country) &&
      (!q.platform || platform(r.client) === q.platform),
  );
  const key = (r: Session): string | number | boolean =>
    q.sort === 'user' ? r.user.email : ((r as unknown as Record<string, string>)[q.sort] ?? r.last_active_at);
  rows = [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  if (q.desc) rows.reverse();
  return rows;
}

export const appInfo = vi.fn(
  async (): Promise<AppInfo> => ({
    name: 'Sessions Desk',
    version: 'test',
    goVersion: 'go1.24',
    platform: 'linux/amd64',
    pid: 4242,
    startedAt: iso(0),
  }),
);
export const getAuthState = vi.fn(async (): Promise<AuthState> => fake.auth);
export const listProfiles = vi.fn(async (): Promise<Profile[]> => fake.profiles);
export const signIn = vi.fn(async (req: SignInRequest): Promise<AuthState> => {
  void req;
  fake.auth = signedIn();
  return fake.auth;
});
export const signOut = vi.fn(async (purge = false): Promise<void> => {
  void purge;
  fake.auth = signedOut();
});

// As the Go side: the notice goes and auth:changed says so.
export const dismissNotice = vi.fn(async (): Promise<void> => {
  fake.auth = { ...fake.auth, notice: '' };
  emit('auth:changed', fake.auth);
});

export const listSessions = vi.fn(async (q: SessionQuery): Promise<SessionPage> => {
  const rows = filterSessions(q);
  return {
    items: structuredClone(rows.slice(q.offset, q.offset + q.limit)),
    total: rows.length,
    activeCount: fake.sessions.filter((r) => r.status === 'active').length,
    offline: fake.offline,
    snapshotAt: fake.snapshotAt,
  };
});
export const terminateSession = vi.fn(async (id: string, reason: string): Promise<Session> => {
  void reason;
  if (fake.offline) throw offlineError();
  const s = fake.sessions.find((r) => r.id === id);
  if (!s) throw new UIError('not_found', 'No such session.');
  s.status = 'terminated';
  return s;
});
export const terminateAllSessions = vi.fn(async (keep: boolean, reason: string): Promise<TerminateAllResult> => {
  void reason;
  if (fake.offline) throw offlineError();
  let n = 0;
  for (const s of fake.sessions) {
    if (s.status === 'active' && !(keep && s.id === 's-me')) {
      s.status = 'terminated';
      n++;
    }
  }
  return { terminated: n };
});
export const exportSessionsCSV = vi.fn(async (q: SessionQuery): Promise<string> => {
  void q;
  return '/home/test/sessions.csv';
});

export const listDevices = vi.fn(async (q: DeviceQuery): Promise<DevicePage> => {
  const s = q.search.toLowerCase();
  const rows = fake.devices.filter(
    (d) =>
      (q.trusted === 'all' || String(d.trusted) === q.trusted) &&
      (!s || [d.name, d.user.email, d.user.name, d.last_ip].some((v) => v.toLowerCase().includes(s))),
  );
  return {
    items: structuredClone(rows.slice(q.offset, q.offset + q.limit)),
    total: rows.length,
    trustedCount: fake.devices.filter((d) => d.trusted).length,
    offline: fake.offline,
    snapshotAt: fake.snapshotAt,
  };
});
export const revokeDeviceTrust = vi.fn(async (id: string, reason: string): Promise<Device> => {
  void reason;
  if (fake.offline) throw offlineError();
  const d = fake.devices.find((r) => r.id === id);
  if (!d) throw new UIError('not_found', 'No such device.');
  d.trusted = false;
  return d;
});
export const exportDevicesCSV = vi.fn(async (q: DeviceQuery): Promise<string> => {
  void q;
  return '/home/test/devices.csv';
});

export const listAudit = vi.fn(
  async (offset: number, limit: number): Promise<AuditPage> => ({
    items: structuredClone(fake.audit.slice(offset, offset + limit)),
    total: fake.audit.length,
    offline: fake.offline,
    snapshotAt: fake.snapshotAt,
  }),
);

// ---- v1.1 -------------------------------------------------------------------

export const findAudit = vi.fn(async (q: AuditQuery): Promise<AuditPage> => {
  const s = q.search.toLowerCase();
  const rows = fake.audit.filter(
    (e) =>
      (!q.action || e.action === q.action) &&
      (!q.actorId || e.actor.id === q.actorId) &&
      (!q.targetUserId || e.target_user?.id === q.targetUserId) &&
      (!s || [e.reason, e.actor.email, e.actor.name, e.target_label ?? '', e.target_user?.name ?? ''].some((v) => v.toLowerCase().includes(s))),
  );
  return { items: structuredClone(rows.slice(q.offset, q.offset + q.limit)), total: rows.length, offline: fake.offline, snapshotAt: fake.snapshotAt };
});
export const auditFacets = vi.fn(
  async (): Promise<AuditFacets> => ({
    actions: [...new Set(fake.audit.map((e) => e.action))],
    actors: [...new Map(fake.audit.map((e) => [e.actor.id, e.actor])).values()],
    targets: [...new Map(fake.audit.filter((e) => e.target_user).map((e) => [e.target_user!.id, e.target_user!])).values()],
  }),
);
// As Go's desk.EndedSessions: the event's target_ids, named from the cached sessions.
export const endedSessions = vi.fn(async (eventId: string): Promise<EndedSession[]> => {
  const e = fake.audit.find((a) => a.id === eventId);
  if (!e) throw new UIError('not_found', 'This audit event is not in the cached data.');
  return (e.target_ids ?? []).map((id) => {
    const s = fake.sessions.find((r) => r.id === id);
    return s ? { id, known: true, client: s.client, ip: s.ip, user: s.user } : { id, known: false, client: '', ip: '', user: null };
  });
});
export const exportAuditCSV = vi.fn(async (q: AuditQuery): Promise<string> => {
  void q;
  return '/home/test/audit.csv';
});
// As Go's SessionIDs: the window offset…offset+limit-1 of the list q, at most 10,000 rows.
export const sessionRangeIds = vi.fn(async (q: SessionQuery): Promise<string[]> => {
  if (q.limit <= 0 || q.limit > 10_000) throw new UIError('invalid_argument', 'A range selects 1 to 10,000 sessions; use “Select all matching” for more.');
  return filterSessions(q)
    .slice(q.offset, q.offset + q.limit)
    .map((r) => r.id);
});
/** The ids "all matching" stands for now, as Go resolves {query, except}. */
function matchingIds(q: SessionQuery, except: string[]): string[] {
  return filterSessions(q)
    .map((r) => r.id)
    .filter((id) => !except.includes(id));
}
export const summarizeSelection = vi.fn(async (ids: string[]): Promise<SelectionSummary> => summarize(ids));
function summarize(ids: string[]): SelectionSummary {
  const rows = fake.sessions.filter((r) => ids.includes(r.id) && r.status === 'active' && r.id !== 's-me');
  const people = [...new Map(rows.map((r) => [r.user.id, r.user])).values()];
  return { count: new Set(ids).size, active: rows.length, people: people.slice(0, 5), morePeople: Math.max(0, people.length - 5), includesMe: ids.includes('s-me') };
}
export const summarizeMatching = vi.fn(async (q: SessionQuery, except: string[]): Promise<SelectionSummary> => summarize(matchingIds(q, except)));
export const terminateSelected = vi.fn(async (ids: string[], reason: string): Promise<SelectedResult> => endIds(ids, reason));
// As Go's TerminateMatching: the query resolved now, then ended as ids; the rest of a failed run is counted, not listed.
export const terminateMatching = vi.fn(async (q: SessionQuery, except: string[], reason: string): Promise<SelectedResult> => {
  const res = await endIds(matchingIds(q, except), reason);
  return { ...res, notEnded: [] };
});
async function endIds(ids: string[], reason: string): Promise<SelectedResult> {
  void reason;
  if (fake.offline) throw offlineError();
  const cut = fake.selectedFailAfter > 0 && ids.length > fake.selectedFailAfter ? fake.selectedFailAfter : ids.length;
  const sent = ids.slice(0, cut);
  let n = 0;
  for (const r of fake.sessions) {
    if (sent.includes(r.id) && r.status === 'active' && r.id !== 's-me') {
      r.status = 'terminated';
      n++;
    }
  }
  emit('sessions:terminate-progress', { done: sent.length, total: ids.length });
  const notEnded = ids.slice(cut);
  // Go's wording for the rest of a run (desk.restOfBatches).
  const failure = notEnded.length > 0 ? { code: 'offline', message: 'The platform cannot be reached. Try them again when you are back online.' } : undefined;
  return { terminated: n, notFound: 0, skippedMe: ids.includes('s-me'), batches: 1, notEnded, notEndedCount: notEnded.length, failure };
}
export const sessionDetails = vi.fn(async (id: string): Promise<SessionDetails> => {
  const s = fake.sessions.find((r) => r.id === id);
  if (!s) throw new UIError('not_found', 'This session is not in the cached data.');
  const ended = fake.audit.find((e) => e.target_id === id) ?? null;
  return { session: structuredClone(s), device: fake.devices.find((d) => d.id === s.device_id) ?? null, ended };
});
export const getPerson = vi.fn(async (userId: string): Promise<Person> => {
  const rows = fake.sessions.filter((r) => r.user.id === userId);
  const devs = fake.devices.filter((d) => d.user.id === userId);
  const user = rows[0]?.user ?? devs[0]?.user;
  if (!user) throw new UIError('not_found', 'This person is not in the cached data.');
  return {
    user,
    isMe: userId === fake.auth.me?.user.id,
    activeSessions: rows.filter((r) => r.status === 'active').length,
    sessions: rows.length,
    devices: devs.length,
  };
});
export const signOutEverywhere = vi.fn(async (userId: string, keep: boolean, reason: string): Promise<TerminateAllResult> => {
  void reason;
  if (fake.offline) throw offlineError();
  let n = 0;
  for (const r of fake.sessions) {
    if (r.user.id === userId && r.status === 'active' && !(keep && r.id === 's-me')) {
      r.status = 'terminated';
      n++;
    }
  }
  return { terminated: n };
});
export const getOverview = vi.fn(async (): Promise<Overview> => {
  const active = fake.sessions.filter((r) => r.status === 'active');
  const count = (key: (r: Session) => string) => {
    const m = new Map<string, number>();
    for (const r of active) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
    return [...m].map(([k, n]) => ({ key: k, count: n })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  };
  const start = Math.floor(NOW / 3_600_000) * 3_600_000 - 167 * 3_600_000;
  return {
    at: iso(0),
    activeSessions: active.length,
    withoutMfa: active.filter((r) => !r.mfa).length,
    shareWithoutMfa: active.length ? active.filter((r) => !r.mfa).length / active.length : 0,
    newDevices24h: 1,
    newDevices7d: 2,
    signIns: Array.from({ length: 168 }, (_, i) => ({ start: new Date(start + i * 3_600_000).toISOString(), count: i % 5 })),
    byCountry: count((r) => (r.location.includes(', ') ? r.location.slice(r.location.lastIndexOf(', ') + 2) : '')),
    byPlatform: count((r) => (r.client.includes(' on ') ? r.client.slice(r.client.lastIndexOf(' on ') + 4) : '')),
  };
});
export const copyText = vi.fn(async (text: string): Promise<void> => {
  void text;
});

export const syncStatus = vi.fn(async (): Promise<SyncStatus> => fake.sync);
export const syncNow = vi.fn(async (): Promise<SyncStatus> => fake.sync);

export const getSettings = vi.fn(async (): Promise<Settings> => structuredClone(fake.settings));
export const saveSettings = vi.fn(async (v: Settings): Promise<Settings> => {
  // Go's rule and words (settings.Validate), with the field it names.
  if (v.retentionDays < 1 || v.retentionDays > 30) {
    throw new UIError('invalid_argument', 'Keep cached data between 1 and 30 days.', 'retentionDays');
  }
  if (v.syncIntervalSeconds < 10 || v.syncIntervalSeconds > 3600) {
    throw new UIError('invalid_argument', 'Sync every 10 seconds to 60 minutes.', 'syncIntervalSeconds');
  }
  fake.settings = structuredClone(v);
  return structuredClone(v);
});
export const cacheInfo = vi.fn(
  async (): Promise<CacheInfo> => ({
    folder: '/home/test/.cache/sessiondesk',
    file: '/home/test/.cache/sessiondesk/p1.db',
    bytes: 2_400_000,
    oldest: iso(60 * 24 * 3),
    encrypted: true,
    keyInKeychain: true,
    retentionDays: fake.settings.retentionDays,
    settingsFile: '/home/test/.config/sessiondesk/settings.json',
    profilesFile: '/home/test/.config/sessiondesk/profiles.json',
    keychainNotice: '',
  }),
);
export const forgetCachedData = vi.fn(async (): Promise<void> => {});
export const removeProfile = vi.fn(async (id: string): Promise<void> => {
  fake.profiles = fake.profiles.filter((p) => p.id !== id);
});

export function onEvent<E extends EventName>(name: E, cb: (payload: EventPayloads[E]) => void): () => void {
  const set = listeners.get(name) ?? new Set();
  listeners.set(name, set);
  const f = cb as (p: unknown) => void;
  set.add(f);
  return () => set.delete(f);
}

const spies = [
  appInfo,
  getAuthState,
  listProfiles,
  signIn,
  signOut,
  dismissNotice,
  listSessions,
  terminateSession,
  terminateAllSessions,
  exportSessionsCSV,
  listDevices,
  revokeDeviceTrust,
  exportDevicesCSV,
  listAudit,
  syncStatus,
  syncNow,
  findAudit,
  auditFacets,
  endedSessions,
  exportAuditCSV,
  sessionRangeIds,
  summarizeSelection,
  summarizeMatching,
  terminateSelected,
  terminateMatching,
  sessionDetails,
  getPerson,
  signOutEverywhere,
  getOverview,
  copyText,
  getSettings,
  saveSettings,
  cacheInfo,
  forgetCachedData,
  removeProfile,
];
