// The one Node API a test uses (theme.test.ts reads app.css as text: Vitest
// hands CSS imports to tests empty). Declared here rather than pulling all
// of @types/node into a browser project's type check.
declare module 'node:fs' {
  export function readFileSync(path: string, encoding: 'utf8'): string;
}
