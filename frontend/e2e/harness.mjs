// End-to-end harness: runs the REAL dev-tagged app binary under Xvfb, serving
// the built frontend, and drives it with Debian's Chromium through
// playwright-core. Bound Go calls travel over the Wails dev server's
// WebSocket, so every test exercises the real Go bindings.
//
// Every process started here runs in its own process group and is killed as a
// group on stop(), and on process exit, so a failing test leaves nothing
// behind.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
const binary = process.env.SESSIONDESK_DEV_BINARY ?? join(repoRoot, 'build', 'bin', 'sessiondesk-dev');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const live = new Set();
function killGroup(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}
process.on('exit', () => {
  for (const child of live) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function waitForHTTP(url, child, logPath, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`app exited with ${child.exitCode} before serving; see ${logPath}`);
    }
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`app did not serve ${url} within ${timeoutMs} ms; see ${logPath}`);
}

/**
 * Starts the app and a browser page on it.
 * @param {{args?: string[], env?: Record<string,string>}} [opts]
 */
export async function startApp(opts = {}) {
  if (!existsSync(binary)) {
    throw new Error(`missing ${binary}: build it with build/scripts/test.sh (go build -tags dev,webkit2_41)`);
  }
  const workDir = mkdtempSync(join(tmpdir(), 'sessiondesk-e2e-'));
  const port = await freePort();
  const logPath = join(workDir, 'app.log');
  const log = openSync(logPath, 'a');
  const child = spawn(
    'xvfb-run',
    ['-a', '-s', '-screen 0 1280x900x24', binary, '-data-dir', join(workDir, 'data'), ...(opts.args ?? [])],
    {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        // Wails dev builds take these from the environment; using it keeps the
        // app's own flag set free of Wails's.
        assetdir: join(repoRoot, 'frontend', 'dist'),
        devserver: `127.0.0.1:${port}`,
        ...(opts.env ?? {}),
      },
    },
  );
  live.add(child);
  const url = `http://127.0.0.1:${port}/`;
  let browser;
  try {
    await waitForHTTP(url, child, logPath, 60_000);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    return {
      page,
      browser,
      url,
      workDir,
      logPath,
      async stop() {
        await browser.close().catch(() => {});
        killGroup(child);
        await new Promise((r) => {
          if (child.exitCode !== null || child.signalCode !== null) return r();
          const t = setTimeout(() => {
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              /* gone */
            }
            r();
          }, 5000);
          child.once('exit', () => {
            clearTimeout(t);
            r();
          });
        });
        live.delete(child);
        rmSync(workDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await browser?.close().catch(() => {});
    killGroup(child);
    live.delete(child);
    throw err;
  }
}
