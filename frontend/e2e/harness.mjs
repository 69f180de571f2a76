// End-to-end harness: runs the REAL dev-tagged app binary under Xvfb, serving
// the built frontend, and drives it with Debian's Chromium through
// playwright-core. Bound Go calls travel over the Wails dev server's
// WebSocket, so every test exercises the real Go bindings.
//
// Every process started here runs in its own process group and is killed as a
// group on stop(), and on process exit, so a failing test leaves nothing
// behind.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { homedir, tmpdir } from 'node:os';
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

// Every process below root (the app forks the WebKit web and network processes).
export function descendants(root) {
  const parent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      /* gone */
    }
  }
  const out = [];
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid); p; p = parent.get(p)) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/**
 * Starts the app and a browser page on it.
 * showScrollbars keeps Chromium's classic scrollbars, which headless mode
 * hides by default: they take room, as they do in the real window, so a
 * layout that only fits without them shows its overflow. browserArgs are
 * added to Chromium's command line.
 * @param {{args?: string[], env?: Record<string,string>, showScrollbars?: boolean, browserArgs?: string[]}} [opts]
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
      ignoreDefaultArgs: opts.showScrollbars ? ['--hide-scrollbars'] : undefined,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        ...(opts.browserArgs ?? []),
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

// ---- the app's own window --------------------------------------------------

/** The app's process id, which the About dialog shows (the footer shows only the version). */
export async function appPid(page) {
  await page.getByRole('button', { name: 'About' }).click();
  const pid = Number(await page.getByTestId('about-pid').textContent());
  await page.getByRole('button', { name: 'Close', exact: true }).click();
  return pid;
}

/**
 * The app's own window (WebKitGTK, which playwright cannot drive), of a dev
 * build started with SESSIONDESK_DEBUG_ADDR=debugAddr; pid is the app's
 * process (appPid).
 * - run(body) runs a function body in the window's page and returns what it
 *   returns (internal/devdebug's /debug/window/eval, loopback only);
 * - until(body, what) runs it every 50 ms until it returns something truthy,
 *   for up to 30 s;
 * - xdotool(...args) sends real X events (XTEST) to the app's display;
 * - id is the window's X id, focused on return.
 */
export async function appWindow(pid, debugAddr) {
  const run = async (body) => {
    const r = await fetch(`http://${debugAddr}/debug/window/eval`, { method: 'POST', body });
    const text = await r.text();
    if (!r.ok) throw new Error(`window eval: ${r.status} ${text}`);
    const out = JSON.parse(text);
    if (!out.ok) throw new Error(`window eval: ${out.error}`);
    return out.value;
  };
  const until = async (body, what) => {
    const end = Date.now() + 30_000;
    while (!(await run(body))) {
      if (Date.now() > end) {
        const shown = await run('return document.body.innerText.slice(0, 300)');
        throw new Error(`app window: timed out waiting for ${what}; it shows ${JSON.stringify(shown)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // xvfb-run's display and cookie, from the app's environment.
  const appEnv = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const fromApp = (name) => appEnv.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1) ?? '';
  const x11 = { ...process.env, DISPLAY: fromApp('DISPLAY'), XAUTHORITY: fromApp('XAUTHORITY') };
  const xdotool = (...args) => execFileSync('xdotool', args, { env: x11 }).toString().trim();
  const id = xdotool('search', '--onlyvisible', '--name', '^Sessions Desk$').split('\n')[0];
  xdotool('windowfocus', '--sync', id);
  return { run, until, xdotool, x11, id };
}

/** A script expression for a list's search box in the window's page, found by its label ("Search sessions"). */
export function windowSearchBox(label) {
  return `[...document.querySelectorAll('label')].find((l) => l.textContent.trim() === ${JSON.stringify(label)})?.querySelector('input[type=search]')`;
}

/**
 * Records what is drawn to the app's window: every X damage rectangle
 * ({x, y, width, height}, window pixels) from now on. rects() returns
 * those drawn since the start or the last clear(); stop() ends the
 * recording and returns them. The recorder (xdamage.c) is built with the
 * C compiler the Go build uses.
 */
export async function recordDamage(win) {
  const dir = mkdtempSync(join(tmpdir(), 'sessiondesk-xdamage-'));
  const bin = join(dir, 'xdamage');
  execFileSync('cc', ['-O2', '-o', bin, join(here, 'xdamage.c'), '-lX11', '-lXdamage']);
  const child = spawn(bin, [win.id], { detached: true, env: win.x11, stdio: ['ignore', 'pipe', 'inherit'] });
  live.add(child);
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  // It prints "ready" once it listens, so that nothing drawn before is missed.
  await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`xdamage exited with ${code}`)));
    child.stdout.on('data', () => out.includes('ready\n') && resolve());
  });
  const rects = () =>
    out
      .split('\n')
      .filter((l) => /^\d/.test(l))
      .map((l) => {
        const [x, y, width, height] = l.split(' ').map(Number);
        return { x, y, width, height };
      });
  return {
    rects,
    clear() {
      // Keeps a partial last line, which the next chunk completes.
      out = out.slice(out.lastIndexOf('\n') + 1);
    },
    async stop() {
      killGroup(child);
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
      live.delete(child);
      rmSync(dir, { recursive: true, force: true });
      return rects();
    },
  };
}

// ---- the platform ------------------------------------------------------------

const platformBinary = process.env.PLATFORMD_BINARY ?? join(repoRoot, 'build', 'bin', 'platformd');

/**
 * Makes a throwaway certificate authority (like an organization's internal
 * CA, which no system trusts) and a server certificate for 127.0.0.1 signed
 * by it, with openssl, in dir. Returns the PEM file paths.
 */
export function makeTestCA(dir) {
  const f = (name) => join(dir, name);
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  const steps = [
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'),
      '-days', '2', '-subj', '/CN=E2E Org Internal CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'],
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('key.pem'), '-out', f('req.csr'), '-subj', '/CN=127.0.0.1'],
    ['x509', '-req', '-in', f('req.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('cert.pem'), '-days', '2', '-extfile', f('ext.cnf')],
  ];
  for (const args of steps) {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.status} ${r.stderr}`);
  }
  return { caFile: f('ca.pem'), certFile: f('cert.pem'), keyFile: f('key.pem') };
}

/** GET url, trusting ca (PEM text) for https; resolves to the status. */
function getStatus(url, ca) {
  if (!url.startsWith('https:')) return fetch(url).then((res) => res.status);
  return new Promise((resolveStatus, reject) => {
    const req = httpsGet(url, { ca }, (res) => {
      res.resume();
      resolveStatus(res.statusCode);
    });
    req.on('error', reject);
  });
}

async function waitForHealthy(url, child, logPath, timeoutMs, ca) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`platformd exited with ${child.exitCode}; see ${logPath}`);
    try {
      if ((await getStatus(`${url}/healthz`, ca)) === 200) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`platformd did not answer ${url}/healthz within ${timeoutMs} ms; see ${logPath}`);
}

function waitExit(child, ms = 5000) {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      r();
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      r();
    });
  });
}

/**
 * Starts a real platformd with the demo seed on a free loopback port, in its
 * own temporary folder. stop() ends it (the database stays, so restart()
 * brings the same platform back on the same port); cleanup() stops it and
 * removes the folder.
 * With tls: true it serves HTTPS with a certificate from a fresh test CA
 * (makeTestCA); the returned caFile is that CA's PEM file.
 * @param {{seed?: string|null, args?: string[], tls?: boolean}} [opts]
 */
export async function startPlatform(opts = {}) {
  if (!existsSync(platformBinary)) {
    throw new Error(`missing ${platformBinary}: build it with go build -o build/bin/platformd ./backend/cmd/platformd`);
  }
  const workDir = mkdtempSync(join(tmpdir(), 'platformd-e2e-'));
  const db = join(workDir, 'p.db');
  const logPath = join(workDir, 'platformd.log');
  const port = await freePort();
  const tls = opts.tls ? makeTestCA(workDir) : null;
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const ca = tls ? readFileSync(tls.caFile, 'utf8') : undefined;
  const tlsArgs = tls ? ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile] : [];
  let child = null;

  async function launch(seed) {
    const log = openSync(logPath, 'a');
    const args = ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, ...(seed ? ['--seed', seed] : []), ...tlsArgs, ...(opts.args ?? [])];
    child = spawn(platformBinary, args, { detached: true, stdio: ['ignore', log, log] });
    live.add(child);
    try {
      await waitForHealthy(url, child, logPath, 30_000, ca);
    } catch (err) {
      killGroup(child);
      live.delete(child);
      throw err;
    }
  }

  async function stop() {
    if (!child) return;
    const c = child;
    child = null;
    killGroup(c);
    await waitExit(c);
    live.delete(c);
  }

  await launch(opts.seed === undefined ? 'demo' : opts.seed);
  return {
    url,
    port,
    db,
    logPath,
    workDir,
    caFile: tls?.caFile,
    stop,
    /** Starts the same platform (same database, same port) again. */
    async restart() {
      await stop();
      await launch(null);
    },
    /** Adds a large organization (admin@<slug>.test / demo-password) with the platform's own seeder. */
    async seedLarge(slug, sessions, devices) {
      const { spawnSync } = await import('node:child_process');
      const r = spawnSync(platformBinary, ['seed', '--db', db, '--large-org', slug, '--sessions', String(sessions), '--devices', String(devices)], {
        encoding: 'utf8',
        timeout: 180_000,
      });
      if (r.status !== 0) throw new Error(`platformd seed --large-org ${slug}: ${r.status} ${r.stderr}`);
    },
    async cleanup() {
      await stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

// ---- talking to the platform directly (as another client would) ---------------

export const DEMO_PASSWORD = 'demo-password';
export const FIREFOX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

/** Calls the platform API; returns {status, body}. */
export async function platformCall(baseUrl, path, { method = 'GET', token, body, userAgent } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (userAgent) headers['user-agent'] = userAgent;
  const res = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

/** POST /auth/login; throws unless it answers 200. */
export async function platformLogin(baseUrl, { org = 'acme', email, password = DEMO_PASSWORD, device, totp, trustDevice, userAgent = FIREFOX_UA }) {
  const body = { org, email, password, device: device ?? { name: 'E2E client' } };
  if (totp) body.totp = totp;
  if (trustDevice) body.trust_device = true;
  const res = await platformCall(baseUrl, '/auth/login', { method: 'POST', body, userAgent });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** RFC 6238 TOTP (SHA-1, 30 s, 6 digits) for a base32 secret. */
export async function totpCode(secretBase32, at = Date.now()) {
  const { createHmac } = await import('node:crypto');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretBase32.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`bad base32 character ${ch}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

// ---- driving the UI like a person ----------------------------------------------

/** Fills the sign-in form and submits it. */
export async function signInThroughUI(page, { server, org = 'acme', email, password = DEMO_PASSWORD }) {
  const serverBox = page.getByRole('textbox', { name: 'Server URL' });
  await serverBox.waitFor({ timeout: 30_000 });
  await serverBox.fill(server);
  await page.getByRole('textbox', { name: 'Organization' }).fill(org);
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Starts a private D-Bus in workDir where a small recorder
 * (app/internal/testbus/notifyrecorder) owns org.freedesktop.Notifications,
 * and returns its address, the notifications recorded so far (a live array
 * of {app, summary, body, at}) and stop(). The bus's configuration has no
 * service directories, so nothing is activated on it (no keyring daemon
 * touching this user's keyrings, no accessibility bus): only the recorder
 * answers there.
 */
export async function startNotificationBus(workDir) {
  const conf = join(workDir, 'bus.conf');
  writeFileSync(
    conf,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${workDir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
  );
  const bus = spawn('dbus-daemon', [`--config-file=${conf}`, '--nofork', '--nopidfile', '--print-address=1'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  live.add(bus);
  const addr = await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error('dbus-daemon printed no address')), 10_000);
    createInterface({ input: bus.stdout }).once('line', (l) => {
      clearTimeout(t);
      ok(l.trim());
    });
  });

  const bin = join(workDir, 'notifyrecorder');
  const b = spawnSync('go', ['build', '-o', bin, './app/internal/testbus/notifyrecorder'], { cwd: repoRoot, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`building notifyrecorder: ${b.stderr}`);
  const recorder = spawn(bin, [], { detached: true, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: addr } });
  live.add(recorder);
  const notes = [];
  await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error('notifyrecorder did not start')), 10_000);
    createInterface({ input: recorder.stdout }).on('line', (l) => {
      if (l === 'ready') {
        clearTimeout(t);
        ok();
        return;
      }
      notes.push({ ...JSON.parse(l), at: Date.now() });
    });
  });
  return {
    addr,
    notes,
    async stop() {
      for (const c of [recorder, bus]) {
        killGroup(c);
        await waitExit(c);
        live.delete(c);
      }
    },
  };
}

export const KRATOS_PASSWORD = 'correct horse battery staple';

/**
 * Starts the tests' real Ory Kratos through kratosserve
 * (app/kratos/kratostest/kratosserve: the Go tests' binary, config and
 * SQLite layout, not a copy of them) in workDir. Identities are made through
 * Kratos' admin API and sessions through its native login flow, as in the Go
 * tests. stop() ends Kratos (the directory stays).
 * @param {string} workDir
 */
export async function startKratos(workDir) {
  const kratosBin = process.env.SESSIONDESK_KRATOS_BIN ?? join(homedir(), '.cache', 'sessiondesk', 'kratos-v1.3.1', 'kratos');
  if (!existsSync(kratosBin)) throw new Error(`missing ${kratosBin}: \`source build/scripts/lib.sh && ensure_kratos\` builds it`);
  const bin = join(workDir, 'kratosserve');
  const b = spawnSync('go', ['build', '-o', bin, './app/kratos/kratostest/kratosserve'], { cwd: repoRoot, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`building kratosserve: ${b.stderr}`);
  const dir = join(workDir, 'kratos');
  mkdirSync(dir, { recursive: true });
  const child = spawn(bin, ['-dir', dir], { detached: true, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, SESSIONDESK_KRATOS_BIN: kratosBin } });
  live.add(child);
  const urls = await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error('kratosserve printed no URLs within 90 s')), 90_000);
    child.once('exit', (code) => fail(new Error(`kratosserve exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (l) => {
      clearTimeout(t);
      ok(JSON.parse(l));
    });
  });

  async function call(url, { method = 'GET', headers = {}, body } = {}) {
    const res = await fetch(url, {
      method,
      headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  return {
    adminURL: urls.adminURL,
    publicURL: urls.publicURL,
    /** Creates a person with a password; returns the identity's id. */
    async createIdentity(email, name) {
      const r = await call(`${urls.adminURL}/admin/identities`, {
        method: 'POST',
        body: { schema_id: 'person', traits: { email, name }, credentials: { password: { config: { password: KRATOS_PASSWORD } } } },
      });
      if (r.status !== 201) throw new Error(`create identity ${email}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.id;
    },
    /**
     * Signs in through the native login flow from a device ({userAgent, ip,
     * city, country}: the headers a browser and a Cloudflare proxy send);
     * returns {token, id, identityId}.
     */
    async login(email, { userAgent, ip, city, country } = {}) {
      const headers = {};
      if (userAgent) headers['User-Agent'] = userAgent;
      if (ip) headers['True-Client-IP'] = ip;
      if (city) headers['Cf-Ipcity'] = city;
      if (country) headers['Cf-Ipcountry'] = country;
      const flow = await call(`${urls.publicURL}/self-service/login/api`, { headers });
      if (flow.status !== 200) throw new Error(`login flow: ${flow.status}`);
      const r = await call(`${urls.publicURL}/self-service/login?flow=${encodeURIComponent(flow.body.id)}`, {
        method: 'POST',
        headers,
        body: { method: 'password', identifier: email, password: KRATOS_PASSWORD },
      });
      if (r.status !== 200) throw new Error(`login ${email}: ${r.status} ${JSON.stringify(r.body)}`);
      return { token: r.body.session_token, id: r.body.session.id, identityId: r.body.session.identity.id };
    },
    /** Whether Kratos accepts the session token (GET /sessions/whoami). */
    async whoami(token) {
      const r = await call(`${urls.publicURL}/sessions/whoami`, { headers: { 'X-Session-Token': token } });
      if (r.status !== 200 && r.status !== 401) throw new Error(`whoami: ${r.status}`);
      return r.status === 200;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await waitExit(child, 15_000);
      live.delete(child);
    },
  };
}

/** Signs in from the app's form with provider "Ory Kratos". */
export async function signInToKratosThroughUI(page, { adminURL, email, apiKey = '' }) {
  const kratos = page.getByRole('radio', { name: 'Ory Kratos' });
  await kratos.waitFor({ timeout: 30_000 });
  await kratos.check();
  await page.getByRole('textbox', { name: 'Admin API URL' }).fill(adminURL);
  if (apiKey) await page.getByLabel('API key (optional)').fill(apiKey);
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
