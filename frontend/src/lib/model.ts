// Types and pure helpers shared by api.ts and its test double. Components
// import them through api.ts (which re-exports this module); this file holds
// nothing that touches the Go side at run time (the generated models are
// imported for their types only), so tests can load it as it is.

import type { bind, domain, overview } from './wailsjs/go/models';

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

export type SignInField = 'provider' | 'server' | 'caFile' | 'apiKey' | 'org' | 'email' | 'password' | 'totp';
/** A Settings field Go names when it refuses a value (settings.FieldError). */
export type SettingsField = keyof Settings;
/** The form field an error concerns: the sign-in form's, or a setting's. */
export type FormField = SignInField | SettingsField;

/** What a failed call rejects with, whatever the Go side or the transport sent. */
export class UIError extends Error {
  readonly code: ErrorCode;
  readonly field?: FormField;
  constructor(code: ErrorCode, message: string, field?: FormField) {
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
      const field = typeof o.field === 'string' && o.field ? (o.field as FormField) : undefined;
      return new UIError(o.code, message, field);
    }
    if (v instanceof Error) return new UIError('internal', v.message || String(v));
    if (typeof o.message === 'string') return new UIError('internal', o.message);
  }
  return new UIError('internal', typeof v === 'string' && v ? v : 'Something went wrong.');
}

// ---- the Go types, as the page sees them ---------------------------------
//
// Every type the bound services take or return comes from the models Wails
// generates from the Go structs (src/lib/wailsjs/go/models.ts, written by
// `wails generate module`; see README). Nothing here restates a field: a
// renamed json tag on the Go side renames the field here, and svelte-check
// fails wherever the page or the test double still uses the old name.

/**
 * The JSON a generated model describes: its fields without the class's
 * methods (the bindings hand back plain objects, never class instances).
 * Wails types time.Time as `any`, and every `any` in the models is a time,
 * so `any` becomes the RFC 3339 string the Go side sends. Pointer fields are
 * optional in the models and arrive as null.
 */
export type Wire<T> = 0 extends 1 & T
  ? string
  : T extends readonly (infer E)[]
    ? Wire<E>[]
    : T extends object
      ? {
          [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: {} extends Pick<T, K>
            ? Wire<Exclude<T[K], undefined>> | null
            : Wire<T[K]>;
        }
      : T;

/**
 * T with some fields narrowed to what the UI knows about them (a union of the
 * strings the Go side accepts). Each narrowed field must exist on T and fit its
 * Go type, so a rename on the Go side still fails the check here.
 */
type Narrow<T, R extends { [K in keyof R]: K extends keyof T ? T[K] : never }> = Omit<T, keyof R> & R;

/** A request where the Go side takes a missing field as its zero value ("do not filter"). */
type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

// app/domain: the app's own objects, whichever identity system a profile
// is signed in to (their snake_case names are the ones the UI always had).
// A person is a User here: the page's word for whom a session belongs to.
export type User = Wire<domain.Person>;
export type Org = Wire<domain.Org>;
export type Me = Wire<domain.Me>;
export type Session = Wire<domain.Session>;
export type Device = Wire<domain.Device>;
export type AuditEvent = Wire<domain.AuditEvent>;
/** What the signed-in identity system can do (see domain.Capabilities). */
export type Capabilities = Wire<domain.Capabilities>;

export type SessionStatus = 'active' | 'expired' | 'terminated';

/** The audit actions the UI names; others are shown as they come. */
export type AuditAction =
  | 'session.terminate'
  | 'sessions.terminate_all'
  | 'device.untrust'
  | 'user.sessions.terminate'
  | 'sessions.terminate_selected'
  | (string & {});

export const PERM_VIEW = 'platform.sessions.view';
export const PERM_TERMINATE_ORG = 'pf.sessions.terminate_org';
export const PERM_REVOKE_TRUST = 'pf.devices.revoke_trust';

// app/bind: the bound services' own types (camelCase).
export type AppInfo = Wire<bind.AppInfo>;
export type Profile = Wire<bind.Profile>;
export type SignInRequest = Wire<bind.SignInRequest>;
export type AuthState = Wire<bind.AuthState>;

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

type SessionFilterKey = 'userId' | 'mfa' | 'country' | 'platform' | 'browser' | 'createdFrom' | 'createdTo';

/**
 * A sessions query. The v1.1 filters may be left out (empty: "do not filter");
 * country and platform take "-" for "not known"; createdFrom/To are Unix ms,
 * [from, to).
 */
export type SessionQuery = Optional<
  Narrow<
    Wire<bind.SessionQuery>,
    { status: 'active' | 'all' | 'expired' | 'terminated'; sort: SessionSortKey; mfa: '' | 'yes' | 'no' }
  >,
  SessionFilterKey
>;

/** The v1.1 filters of the sessions list. */
export type SessionFilters = Pick<SessionQuery, SessionFilterKey>;

/** A session query without its window: what the toolbar and headers set. */
export type SessionFilter = Omit<SessionQuery, 'offset' | 'limit'>;

export type SessionPage = Wire<bind.SessionPage>;
export type TerminateAllResult = Wire<bind.TerminateAllResult>;

export type DeviceSortKey = 'name' | 'user' | 'platform' | 'first_seen_at' | 'last_seen_at' | 'last_ip' | 'trusted';

/** A devices query; firstSeenHours: first seen in the last so many hours (24: "new today"). */
export type DeviceQuery = Optional<
  Narrow<Wire<bind.DeviceQuery>, { trusted: 'all' | 'true' | 'false'; sort: DeviceSortKey }>,
  'deviceId' | 'userId' | 'platform' | 'firstSeenHours'
>;

export type DeviceFilter = Omit<DeviceQuery, 'offset' | 'limit'>;

export type DevicePage = Wire<bind.DevicePage>;
export type AuditPage = Wire<bind.AuditPage>;
export type AuditQuery = Wire<bind.AuditQuery>;
export type AuditFilter = Omit<AuditQuery, 'offset' | 'limit'>;
export type AuditFacets = Wire<bind.AuditFacets>;
export type EndedSession = Wire<bind.EndedSession>;
export type SelectionSummary = Wire<bind.SelectionSummary>;
export type SelectedResult = Wire<bind.SelectedResult>;
export type SessionDetails = Wire<bind.SessionDetails>;
export type Person = Wire<bind.Person>;
export type KeyCount = Wire<overview.KeyCount>;
export type Overview = Wire<overview.Overview>;
export type SyncStatus = Wire<bind.SyncStatus>;

// ---- settings (app/bind SettingsService) ------------------------------------

export type TimeStyle = 'relative' | 'exact';
export type TimeZoneChoice = 'local' | 'utc';

export type Settings = Narrow<Wire<bind.Settings>, { timeStyle: TimeStyle; timeZone: TimeZoneChoice }>;

/** The Go side stores the two choices as strings; anything else reads as the default. */
export function normalizeSettings(s: Wire<bind.Settings>): Settings {
  return {
    ...s,
    timeStyle: s.timeStyle === 'exact' ? 'exact' : 'relative',
    timeZone: s.timeZone === 'utc' ? 'utc' : 'local',
  };
}

export type CacheInfo = Wire<bind.CacheInfo>;

// ---- events ----------------------------------------------------------------------------------

/**
 * The payload of 'sessions:terminate-progress' (bind.TerminateProgress). Wails
 * generates models only for what bound methods take and return, not for event
 * payloads, so this one is spelled here.
 */
export interface TerminateProgress {
  done: number;
  total: number;
}

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

/**
 * Whether the signed-in identity system can take an action (its provider's
 * capabilities). The UI offers an action only when this and the permission
 * both hold; unknown capabilities offer nothing.
 */
export function canDo(s: AuthState | null, what: CapabilityAction): boolean {
  return s?.capabilities?.[what] === true;
}

/** The capabilities that are actions (the others say where data comes from). */
export type CapabilityAction = 'endSession' | 'endSelected' | 'endPerson' | 'endAll' | 'revokeDeviceTrust';

/** The identity systems a profile can be on (profile.provider; '' is platformd). */
export const PROVIDER_PLATFORMD = '';
export const PROVIDER_KRATOS = 'kratos';

/** Whether the signed-in profile is on Ory Kratos. */
export function onKratos(s: AuthState | null): boolean {
  return s?.profile?.provider === PROVIDER_KRATOS;
}

/**
 * Why the Devices tab offers no "Revoke trust" although the role may: the
 * system has no device trust (one sentence, shown on the tab).
 */
export function noTrustReason(s: AuthState | null): string {
  if (!s?.capabilities || s.capabilities.revokeDeviceTrust) return '';
  return onKratos(s)
    ? 'Ory Kratos has no device trust: a device here is a browser and system seen in a person’s sessions, so there is no trust to revoke.'
    : 'This identity system has no device trust, so there is no trust to revoke.';
}

export function hasPermission(s: AuthState | null, perm: string): boolean {
  return !!s?.me?.permissions?.includes(perm);
}
