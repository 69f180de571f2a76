// Holds the test double to the real module at check time (svelte-check reads
// every file under src/): each function api.ts exports must exist in
// fakeApi.ts and take and return the same types, which api.ts derives from
// the Go types. A changed binding or Go type then breaks the fake too, instead
// of leaving component tests green against a shape the app no longer has.
import type * as real from '../lib/api';
import type * as fake from './fakeApi';

type Functions<M> = { [K in keyof M as M[K] extends (...args: never[]) => unknown ? K : never]: M[K] };

export const fakeMatchesApi: Functions<typeof real> = {} as Pick<typeof fake, keyof Functions<typeof real>>;
