import { tick } from 'svelte';

/**
 * What a list does when its confirm dialog closes. After a confirmed action
 * the row (and the button) that had focus may be gone: focus goes to the
 * table, and the outcome is announced by the desk's status message. A cancel
 * (msg null) leaves focus where the dialog found it.
 */
export function afterDialog(msg: string | null, notify: (m: string) => void, table: () => { focus: () => void } | undefined): void {
  if (!msg) return;
  notify(msg);
  tick().then(() => table()?.focus());
}
