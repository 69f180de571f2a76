// A load whose failure the component shows as a sentence: the value goes to
// ok, the error's message (as the Go side phrased it) to fail.
import { toUIError } from './model';

export function settle<T>(p: Promise<T>, ok: (v: T) => void, fail: (message: string) => void): void {
  p.then(ok, (e) => fail(toUIError(e).message));
}
