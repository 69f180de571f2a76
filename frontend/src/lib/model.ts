// Types and pure helpers shared by api.ts and its test double. Components
// import them through api.ts (which re-exports this module); this file holds
// nothing that touches the Go side, so tests can load it as it is.

// ---- errors -------------------------------------------------------------

export type ErrorCode =
  | 'mfa_required'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'invalid_argument'
  | 'rate_limited'
  | 'offline'
  | 'no_keychain'
  | 'untrusted_certificate'
  | 'unavailable'
  | 'internal'
  | (string & {});

export type SignInField = 'server' | 'caFile' | 'org' | 'email' | 'password' | 'totp';

/** What a failed call rejects with, whatever the Go side or the transport sent. */
export class UIError extends Error {
  readonly code: ErrorCode;
  readonly field?: SignInField;
  constructor(code: ErrorCode, message: string, field?: SignInField) {
    super(message);
    this.name = 'UIError';
    this.code = code;
    if (field) this.field = field;
  }
}

/** Normalizes any rejected value (object, JSON string, Error, string) into a UIError. */
export function toUIError(value: unknown): UIError {
  if (value instanceof UIError) return value;
  let v: unknown = value;
  if (typeof v === 'string') {
    const s = v.trim();
    if (s.startsWith('{')) {
      try {
        v = JSON.parse(s);
      } catch {
        /* a plain message that happens to start with a brace */
      }
    }
  }
  if (v && typeof v === 'object') {
    const o = v as { code?: unknown; message?: unknown; field?: unknown };
    if (typeof o.code === 'string') {
      const message = typeof o.message === 'string' && o.message ? o.message : o.code;
      const field = typeof o.field === 'string' && o.field ? (o.field as SignInField) : undefined;
      return new UIError(o.code, message, field);
    }
    if (v instanceof Error) return new UIError('internal', v.message || String(v));
    if (typeof o.message === 'string') return new UIError('internal', o.message);
  }
  return new UIError('internal', typeof v === 'string' && v ? v : 'Something went wrong.');
}

// ---- platform objects (backend/api, snake_case wire names) ---------------

export interface User {
  id: string;
  email: string;
  name: string;
}

export interface Org {
  id: string;
  slug: string;
  name: string;
}

export interface Me {
  user: User;
  org: Org;
  permissions: string[];
  session_id: string;
}

export type SessionStatus = 'active' | 'expired' | 'terminated';

export interface Session {
  id: string;
  user: User;
  device_id: string | null;
  ip: string;
  user_agent: string;
  client: string;
  location: string;
  created_at: string;
  last_active_at: string;
  expires_at: string;
  updated_at: string;
  status: SessionStatus | (string & {});
  terminated_at: string | null;
  terminated_by: User | null;
  mfa: boolean;
  current: boolean;
}

export interface Device {
  id: string;
  user: User;
  name: string;
  platform: string;
  trusted: boolean;
  trusted_at: string | null;
  first_seen_at: string;
  last_seen_at: string;
  last_ip: string;
  updated_at: string;
}

export interface AuditEvent {
  id: string;
  at: string;
  actor: User;
  action:
    | 'session.terminate'
    | 'sessions.terminate_all'
    | 'device.untrust'
    | 'user.sessions.terminate'
    | 'sessions.terminate_selected'
    | (string & {});
  target_id: string | null;
  /** v1.1: whose session, device or account it was (null: several people). */
  target_user?: User | null;
  /** v1.1: "Chrome 131 on Windows, 203.0.113.10", a device name, or "". */
  target_label?: string;
  count: number;
  reason: string;
}

export const PERM_VIEW = 'platform.sessions.view';
export const PERM_TERMINATE_ORG = 'pf.sessions.terminate_org';
export const PERM_REVOKE_TRUST = 'pf.devices.revoke_trust';

// ---- bound DTOs (app/bind, camelCase) -------------------------------------

export interface AppInfo {
  name: string;
  version: string;
  goVersion: string;
  platform: string;
  pid: number;
  startedAt: string;
}

export interface Profile {
  id: string;
  serverUrl: string;
  org: string;
  email: string;
  /** PEM file of the organization's own certificate authority, if any. */
  caFile?: string;
}

export interface SignInRequest {
  serverUrl: string;
  org: string;
  email: string;
  password: string;
  totp: string;
  trustDevice: boolean;
  /** PEM file of the organization's own certificate authority (optional). */
  caFile?: string;
}

export interface AuthState {
  signedIn: boolean;
  demo: boolean;
  profile: Profile | null;
  me: Me | null;
  keychainAvailable: boolean;
  keychainMessage: string;
  /** Not in the spec; shown on the sign-in screen if the Go side ever sends it. */
  message?: string;
  /** What cached data was lost and why; shown until dismissed. */
  notice?: string;
}

export type SessionSortKey =
  | 'user'
  | 'client'
  | 'ip'
  | 'location'
  | 'created_at'
  | 'last_active_at'
  | 'expires_at'
  | 'mfa'
  | 'status';

/** The v1.1 filters of the sessions list; empty means "do not filter". */
export interface SessionFilters {
  userId?: string;
  mfa?: '' | 'yes' | 'no';
  /** Country code ("DE"); "-" selects sessions without a known place. */
  country?: string;
  /** OS part of the client ("Windows"); "-" selects unknown ones. */
  platform?: string;
  browser?: string;
  /** Unix ms: sessions created in [createdFrom, createdTo). */
  createdFrom?: number;
  createdTo?: number;
}

export interface SessionQuery extends SessionFilters {
  search: string;
  status: 'active' | 'all' | 'expired' | 'terminated';
  sort: SessionSortKey;
  desc: boolean;
  offset: number;
  limit: number;
}

/** A session query without its window: what the toolbar and headers set. */
export type SessionFilter = Omit<SessionQuery, 'offset' | 'limit'>;

export interface SessionPage {
  items: Session[];
  total: number;
  activeCount: number;
  offline: boolean;
  snapshotAt: string | null;
}

export interface TerminateAllResult {
  terminated: number;
}

export type DeviceSortKey =
  | 'name'
  | 'user'
  | 'platform'
  | 'first_seen_at'
  | 'last_seen_at'
  | 'last_ip'
  | 'trusted';

export interface DeviceQuery {
  search: string;
  trusted: 'all' | 'true' | 'false';
  sort: DeviceSortKey;
  desc: boolean;
  offset: number;
  limit: number;
  deviceId?: string;
  userId?: string;
  platform?: string;
  /** Devices first seen in the last so many hours (24: "new today"). */
  firstSeenHours?: number;
}

export type DeviceFilter = Omit<DeviceQuery, 'offset' | 'limit'>;

export interface DevicePage {
  items: Device[];
  total: number;
  trustedCount: number;
  offline: boolean;
  snapshotAt: string | null;
}

export interface AuditPage {
  items: AuditEvent[];
  total: number;
  offline: boolean;
  snapshotAt: string | null;
}

export interface AuditQuery {
  search: string;
  action: string;
  actorId: string;
  targetUserId: string;
  offset: number;
  limit: number;
}

export type AuditFilter = Omit<AuditQuery, 'offset' | 'limit'>;

export interface AuditFacets {
  actions: string[];
  actors: User[];
  targets: User[];
}

export interface SelectionSummary {
  count: number;
  active: number;
  people: User[];
  morePeople: number;
  includesMe: boolean;
}

export interface SelectedResult {
  terminated: number;
  notFound: number;
  skippedMe: boolean;
  batches: number;
}

export interface SessionDetails {
  session: Session;
  device: Device | null;
  ended: AuditEvent | null;
}

export interface Person {
  user: User;
  isMe: boolean;
  activeSessions: number;
  sessions: number;
  devices: number;
}

export interface KeyCount {
  key: string;
  count: number;
}

export interface Overview {
  at: string;
  activeSessions: number;
  withoutMfa: number;
  shareWithoutMfa: number;
  newDevices24h: number;
  newDevices7d: number;
  signIns: { start: string; count: number }[];
  byCountry: KeyCount[];
  byPlatform: KeyCount[];
}

export interface TerminateProgress {
  done: number;
  total: number;
}

export interface SyncStatus {
  online: boolean;
  syncing: boolean;
  lastSyncAt: string | null;
  lastError: string;
  phase: string;
  done: number;
  total: number;
  /** The platform's event stream is held: changes arrive as they happen. */
  live: boolean;
  /** When the stream's last change arrived. */
  lastEventAt: string | null;
  /** Why changes are polled instead of streamed ('' when live or unknown). */
  liveNote: string;
  /** The platform asked to wait (429/503 Retry-After) until then. */
  retryAt?: string | null;
  /** The platform's clock minus this computer's (from its Date headers). */
  clockOffsetMs?: number;
}

// ---- settings (app/bind SettingsService) ------------------------------------

export type TimeStyle = 'relative' | 'exact';
export type TimeZoneChoice = 'local' | 'utc';

export interface Settings {
  retentionDays: number;
  syncIntervalSeconds: number;
  notifications: boolean;
  sharedWorkstation: boolean;
  timeStyle: TimeStyle;
  timeZone: TimeZoneChoice;
}

export interface CacheInfo {
  folder: string;
  /** "" when the cache is kept in memory only (no keychain). */
  file: string;
  bytes: number;
  oldest: string | null;
  encrypted: boolean;
  keyInKeychain: boolean;
  retentionDays: number;
  settingsFile: string;
  profilesFile: string;
  keychainNotice: string;
}

// ---- events ----------------------------------------------------------------------------------

export interface EventPayloads {
  'sessions:changed': undefined;
  'devices:changed': undefined;
  'audit:changed': undefined;
  'sync:status': SyncStatus;
  'auth:changed': AuthState;
  'sessions:terminate-progress': TerminateProgress;
}

export type EventName = keyof EventPayloads;

/** Go's nil permission slice arrives as null; the UI always wants an array. */
export function normalizeAuthState(s: AuthState): AuthState {
  if (s.me) s = { ...s, me: { ...s.me, permissions: s.me.permissions ?? [] } };
  return s;
}

export function hasPermission(s: AuthState | null, perm: string): boolean {
  return !!s?.me?.permissions?.includes(perm);
}
