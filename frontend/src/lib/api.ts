// The one module that talks to the Go side. Every component imports from
// here, never from the generated Wails bindings, so that the bindings'
// shape is adapted in one place and tests can replace this module whole.
import * as AppService from './wailsjs/go/bind/AppService';

export interface AppInfo {
  name: string;
  version: string;
  goVersion: string;
  platform: string;
  pid: number;
  startedAt: string;
}

export function appInfo(): Promise<AppInfo> {
  return AppService.Info() as Promise<AppInfo>;
}
