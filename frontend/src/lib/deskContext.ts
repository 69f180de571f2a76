// What every part of the signed-in desk needs to know — who is signed in,
// what the identity system and the role allow, whether it is reachable, the
// clock — reaches the components through a Svelte context set by Desk, not
// through the same props passed down each level. The object's fields are
// getters over Desk's state, so readers stay reactive.
import { getContext, setContext } from 'svelte';
import { canDo, PERM_REVOKE_TRUST, PERM_TERMINATE_ORG, type AuthState, type Me, type Session, type User } from './model';

/** What the identity system and the role allow together. */
export interface DeskAbilities {
  /** Ending several sessions: all, selected, matching (pf.sessions.terminate_org). */
  readonly endBulk: boolean;
  /** Signing one person out everywhere. */
  readonly endPerson: boolean;
  /** Revoking a device's trust. */
  readonly revokeTrust: boolean;
  /** The identity system has device trust at all (the Trusted column, its filter). */
  readonly deviceTrust: boolean;
}

export function deskAbilities(auth: AuthState): DeskAbilities {
  const perms = new Set(auth.me?.permissions ?? []);
  return {
    endBulk: perms.has(PERM_TERMINATE_ORG) && canDo(auth, 'endAll') && canDo(auth, 'endSelected'),
    endPerson: perms.has(PERM_TERMINATE_ORG) && canDo(auth, 'endPerson'),
    revokeTrust: perms.has(PERM_REVOKE_TRUST) && canDo(auth, 'revokeDeviceTrust'),
    // Unknown capabilities (an offline start) hide nothing of platformd's.
    deviceTrust: auth.capabilities?.revokeDeviceTrust !== false,
  };
}

export interface DeskContext {
  readonly me: Me;
  /** The profile is on Ory Kratos (no device trust, a workstation audit log). */
  readonly kratos: boolean;
  /** What the identity system and the role allow together. */
  readonly can: DeskAbilities;
  /** Why the Devices tab offers no trust (one sentence), '' when it does. */
  readonly noTrust: string;
  readonly offline: boolean;
  /** Why an action is disabled while offline. */
  readonly offlineReason: string;
  /** Now on the platform's clock, ticking. */
  readonly now: number;
  /** The session whose details panel is open, null when none. */
  readonly detailsId: string | null;
  /** Announces an outcome in the desk's status line. */
  notify(msg: string): void;
  openPerson(u: User): void;
  openDetails(s: Session): void;
}

const KEY = Symbol('desk');

export function setDeskContext(ctx: DeskContext): void {
  setContext(KEY, ctx);
}

export function deskContext(): DeskContext {
  const ctx = getContext<DeskContext | undefined>(KEY);
  if (!ctx) throw new Error('deskContext: outside the desk');
  return ctx;
}
