/**
 * The aria-describedby of a form field: its hint's id, and `err-<name>` while
 * it has an error, so a screen reader reads the hint and the error with the
 * field. SignIn and Settings both render a field's error with that id.
 */
export function describedBy(name: string, hasError: boolean, hintId?: string): string | undefined {
  return [hintId, hasError && `err-${name}`].filter(Boolean).join(' ') || undefined;
}
