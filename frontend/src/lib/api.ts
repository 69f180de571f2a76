// The one module that talks to the Go side. Every component imports from
// here, never from the generated Wails bindings, so that the bindings'
// shape is adapted in one place and tests can replace this module whole.
//
// The contract is the bound-services spec (app/bind): methods return
// (T, error); an error reaches JS as a rejected promise whose value is
// {code, message, field?}. Every wrapper below turns whatever was rejected
// into a UIError so components can branch on `code` without guessing.
import * as AppService from './wailsjs/go/bind/AppService';
import * as AuthService from './wailsjs/go/bind/AuthService';
import * as SessionsService from './wailsjs/go/bind/SessionsService';
import * as DevicesService from './wailsjs/go/bind/DevicesService';
import * as AuditService from './wailsjs/go/bind/AuditService';
import * as SyncService from './wailsjs/go/bind/SyncService';
import * as PeopleService from './wailsjs/go/bind/PeopleService';
import * as OverviewService from './wailsjs/go/bind/OverviewService';
import { ClipboardSetText, EventsOn } from './wailsjs/runtime/runtime';
import * as SettingsService from './wailsjs/go/bind/SettingsService';

export * from './model';
import type { bind } from './wailsjs/go/models';
import {
  normalizeAuthState,
  normalizeSettings,
  toUIError,
  type AppInfo,
  type AuditFacets,
  type AuditPage,
  type AuditQuery,
  type AuthState,
  type CacheInfo,
  type Device,
  type DevicePage,
  type DeviceQuery,
  type EndedSession,
  type Overview,
  type Person,
  type Profile,
  type SelectedResult,
  type SelectionSummary,
  type Session,
  type SessionDetails,
  type SessionPage,
  type SessionQuery,
  type Settings,
  type SignInRequest,
  type SyncStatus,
  type TerminateAllResult,
  type EventName,
  type EventPayloads,
  type Wire,
} from './model';

/**
 * Awaits a binding and types its result from the binding's own declaration:
 * the generated class's fields (Wire), since the bridge hands back plain JSON.
 * That is the one place the page trusts the Go side's shape, and the shape is
 * the one generated from the Go types.
 */
async function call<T>(p: Promise<T>): Promise<Wire<T>> {
  try {
    return (await p) as Wire<T>;
  } catch (e) {
    throw toUIError(e);
  }
}

/**
 * What a binding's parameter (a generated class) travels as: its fields. The
 * bridge sends JSON, so a plain object with the class's fields is what the Go
 * side decodes; fields left out decode as Go's zero value.
 */
function toGo<T>(fields: Partial<Wire<T>>): T {
  return fields as unknown as T;
}

// Go's nil slices arrive as null; the UI always wants arrays.
function pageItems<P extends { items: unknown[] | null }>(p: P): P {
  return { ...p, items: p.items ?? [] };
}

const authState = normalizeAuthState;

// ---- AppService -------------------------------------------------------------

export function appInfo(): Promise<AppInfo> {
  return call(AppService.Info());
}

// ---- AuthService --------------------------------------------------------------

export async function getAuthState(): Promise<AuthState> {
  return authState(await call(AuthService.State()));
}

export async function listProfiles(): Promise<Profile[]> {
  return (await call(AuthService.Profiles())) ?? [];
}

export async function signIn(req: SignInRequest): Promise<AuthState> {
  return authState(await call(AuthService.SignIn(toGo<bind.SignInRequest>(req))));
}

export function signOut(purgeCache = false): Promise<void> {
  return call(AuthService.SignOut(purgeCache));
}

export function dismissNotice(): Promise<void> {
  return call(AuthService.DismissNotice());
}

// ---- SessionsService -------------------------------------------------------------

export async function listSessions(q: SessionQuery): Promise<SessionPage> {
  return pageItems(await call(SessionsService.List(toGo<bind.SessionQuery>(q))));
}

export function terminateSession(id: string, reason: string): Promise<Session> {
  return call(SessionsService.Terminate(id, reason));
}

export function terminateAllSessions(keepCurrent: boolean, reason: string): Promise<TerminateAllResult> {
  return call(SessionsService.TerminateAll(keepCurrent, reason));
}

/** Opens the native save dialog; resolves to the written path, or "" if cancelled. */
export function exportSessionsCSV(q: SessionQuery): Promise<string> {
  return call(SessionsService.ExportCSV(toGo<bind.SessionQuery>(q)));
}

// ---- DevicesService --------------------------------------------------------------

export async function listDevices(q: DeviceQuery): Promise<DevicePage> {
  return pageItems(await call(DevicesService.List(toGo<bind.DeviceQuery>(q))));
}

export function revokeDeviceTrust(id: string, reason: string): Promise<Device> {
  return call(DevicesService.RevokeTrust(id, reason));
}

export function exportDevicesCSV(q: DeviceQuery): Promise<string> {
  return call(DevicesService.ExportCSV(toGo<bind.DeviceQuery>(q)));
}

// ---- AuditService ---------------------------------------------------------------------

export async function listAudit(offset: number, limit: number): Promise<AuditPage> {
  return pageItems(await call(AuditService.List(offset, limit)));
}

// ---- v1.1: investigation ---------------------------------------------------------------

/**
 * A Shift-click range reaching rows the page has not loaded: the IDs of the
 * rows q.offset to q.offset + q.limit - 1 of the list q (at most 10,000).
 */
export async function sessionRangeIds(q: SessionQuery): Promise<string[]> {
  return (await call(SessionsService.RangeIDs(toGo<bind.SessionQuery>(q)))) ?? [];
}

export async function summarizeSelection(ids: string[]): Promise<SelectionSummary> {
  const s = await call(SessionsService.Summarize(ids));
  return { ...s, people: s.people ?? [] };
}

/** "All matching": every session matching q (its window ignored) but the ids in except, as the Go side finds them now. */
export async function summarizeMatching(q: SessionQuery, except: string[]): Promise<SelectionSummary> {
  const s = await call(SessionsService.SummarizeMatching(toGo<bind.SessionQuery>(q), except));
  return { ...s, people: s.people ?? [] };
}

/** Ends the chosen sessions (in batches of 1,000; progress comes as 'sessions:terminate-progress'). */
export function terminateSelected(ids: string[], reason: string): Promise<SelectedResult> {
  return call(SessionsService.TerminateSelected(ids, reason));
}

/**
 * Ends "all matching": every session matching q but the ids in except,
 * resolved on the Go side as it runs, then as terminateSelected. A failed
 * batch leaves notEnded empty (notEndedCount counts them): the selection
 * stays the query, which still finds them.
 */
export function terminateMatching(q: SessionQuery, except: string[], reason: string): Promise<SelectedResult> {
  return call(SessionsService.TerminateMatching(toGo<bind.SessionQuery>(q), except, reason));
}

export function sessionDetails(id: string): Promise<SessionDetails> {
  return call(SessionsService.Details(id));
}

export function getPerson(userId: string): Promise<Person> {
  return call(PeopleService.Get(userId));
}

export function signOutEverywhere(userId: string, keepCurrent: boolean, reason: string): Promise<TerminateAllResult> {
  return call(PeopleService.SignOutEverywhere(userId, keepCurrent, reason));
}

export async function getOverview(): Promise<Overview> {
  const o = await call(OverviewService.Get());
  return { ...o, signIns: o.signIns ?? [], byCountry: o.byCountry ?? [], byPlatform: o.byPlatform ?? [] };
}

export async function findAudit(q: AuditQuery): Promise<AuditPage> {
  return pageItems(await call(AuditService.Find(toGo<bind.AuditQuery>(q))));
}

export async function auditFacets(): Promise<AuditFacets> {
  const f = await call(AuditService.Facets());
  return { actions: f.actions ?? [], actors: f.actors ?? [], targets: f.targets ?? [] };
}

/** The sessions a bulk action ended (its target_ids), each labelled from the cache when it is known there. */
export async function endedSessions(eventId: string): Promise<EndedSession[]> {
  return (await call(AuditService.EndedSessions(eventId))) ?? [];
}

export function exportAuditCSV(q: AuditQuery): Promise<string> {
  return call(AuditService.ExportCSV(toGo<bind.AuditQuery>(q)));
}

/** Copies text to the clipboard: the browser's API, else the window's own. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    if (!(await ClipboardSetText(text))) throw new Error('The clipboard is not available.');
  }
}

// ---- SyncService -------------------------------------------------------------------------

export function syncStatus(): Promise<SyncStatus> {
  return call(SyncService.Status());
}

export function syncNow(): Promise<SyncStatus> {
  return call(SyncService.SyncNow());
}

// ---- SettingsService ------------------------------------------------------------------------

export async function getSettings(): Promise<Settings> {
  return normalizeSettings(await call(SettingsService.Get()));
}

export async function saveSettings(s: Settings): Promise<Settings> {
  return normalizeSettings(await call(SettingsService.Save(toGo<bind.Settings>(s))));
}

export function cacheInfo(): Promise<CacheInfo> {
  return call(SettingsService.CacheInfo());
}

export function forgetCachedData(): Promise<void> {
  return call(SettingsService.ForgetCachedData());
}

/** Forgets a remembered account: keychain entries, cache and profile entry. */
export function removeProfile(id: string): Promise<void> {
  return call(SettingsService.RemoveProfile(id));
}

// ---- events ----------------------------------------------------------------------------------

/** Subscribes to an event the Go side emits; returns the unsubscribe function. */
export function onEvent<E extends EventName>(name: E, cb: (payload: EventPayloads[E]) => void): () => void {
  if (name === 'auth:changed') {
    return EventsOn(name, (s: AuthState) => cb(authState(s) as EventPayloads[E]));
  }
  return EventsOn(name, (payload: EventPayloads[E]) => cb(payload));
}
