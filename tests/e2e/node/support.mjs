// Shared helpers of the Node end-to-end suite: configuration from the environment, the admin
// API (users and clients), a tiny relying-party HTTP server that receives the browser's
// redirects, openid-client set-up, and the hosted login pages driven by accessible names.
//
// Everything is written against the standards and the contract in ../README.md, not against
// Tessera's code.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set. Run tests/e2e/run.sh, or see tests/e2e/README.md to run this suite against a running server.`,
    );
  }
  return value;
}

export const env = {
  /** The issuer, i.e. TESSERA_PUBLIC_URL of the server under test, e.g. http://127.0.0.1:8080 */
  issuer: required('E2E_ISSUER').replace(/\/+$/, ''),
  /** The bootstrap admin token (TESSERA_ADMIN_TOKEN of the server under test). */
  adminToken: required('E2E_ADMIN_TOKEN'),
  chromium: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
  /** Where screenshots and page dumps of failed tests go. */
  artifacts: process.env.E2E_ARTIFACTS || path.join(here, '..', 'artifacts', 'node'),
  /** Upper bound of every single wait (page element, redirect, HTTP call). Password hashing in a
   * debug build is slow, so this is generous. */
  timeoutMs: Number(process.env.E2E_TIMEOUT_MS || 30_000),
  /** Makes names and email addresses unique, so that suites and runs never collide. */
  runId: process.env.E2E_RUN_ID || randomBytes(4).toString('hex'),
  headed: process.env.E2E_HEADED === '1',
};

const issuerUrl = new URL(env.issuer);
// openid-client refuses plain HTTP. The only allowed exception: a test server on loopback.
const insecureAllowed =
  issuerUrl.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuerUrl.hostname);
if (issuerUrl.protocol === 'http:' && !insecureAllowed) {
  throw new Error(`E2E_ISSUER ${env.issuer} is plain HTTP on a non-loopback host; refusing.`);
}

let counter = 0;
/** A name unique within this run: `prefix-<runId>-<n>`. */
export function unique(prefix) {
  counter += 1;
  return `${prefix}-${env.runId}-${counter}`;
}

// ---------------------------------------------------------------------------------------------
// Admin API

/**
 * A request to the admin API with the bootstrap token; fails unless it answers `expect`.
 * @returns {Promise<any>} the JSON body (undefined when there is none)
 */
export async function adminRequest(method, pathname, body, { expect = 200 } = {}) {
  const response = await fetch(`${env.issuer}${pathname}`, {
    method,
    headers: {
      authorization: `Bearer ${env.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      accept: 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(env.timeoutMs),
  });
  const text = await response.text();
  if (response.status !== expect) {
    throw new Error(`${method} ${pathname} answered ${response.status}, expected ${expect}: ${text.slice(0, 2000)}`);
  }
  return text ? JSON.parse(text) : undefined;
}

function adminPost(pathname, body) {
  return adminRequest('POST', pathname, body, { expect: 201 });
}

/** Creates an active user with a password; returns what a test needs to sign in as them. */
export async function createUser(label = 'alice') {
  const email = `${unique(`${label}.node`)}@example.com`.toLowerCase();
  // A long passphrase: the password is the only factor, so at least 15 characters.
  const password = `e2e passphrase ${randomBytes(18).toString('base64url')}`;
  const given_name = 'Alice';
  const family_name = 'Liddell';
  const created = await adminPost('/admin/v1/users', { email, given_name, family_name, password });
  assertString(created.id, 'user id');
  return { id: created.id, email, password, given_name, family_name };
}

/**
 * Registers a client with RFC 7591 metadata through the admin API and returns the RFC 7591
 * response (client_id, client_secret, …). `tenant`: the slug of a tenant other than the default.
 */
export async function registerClient(metadata, { tenant } = {}) {
  const created = await adminPost(`${tenantPrefix(tenant)}/admin/v1/clients`, metadata);
  assertString(created.client_id, 'client_id of the registration response');
  if (metadata.token_endpoint_auth_method !== 'none') {
    assertString(created.client_secret, 'client_secret of the registration response');
  }
  return created;
}

/** The path prefix of a tenant's endpoints: '' for the default tenant, else `/t/<slug>`. */
export function tenantPrefix(tenant) {
  return tenant ? `/t/${encodeURIComponent(tenant)}` : '';
}

function assertString(value, what) {
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`${what} is missing or not a string: ${JSON.stringify(value)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Relying-party HTTP server: receives the redirects of the browser (callback, logged-out).

/**
 * Starts an HTTP server on 127.0.0.1 and a free port. Every request is recorded; `waitFor(path)`
 * resolves with the full URL of the oldest unclaimed request to that path.
 */
export async function startRp() {
  const hits = [];
  const waiters = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, base);
    if (url.pathname === '/favicon.ico') {
      res.writeHead(404).end();
      return;
    }
    const waiter = waiters.findIndex((w) => w.pathname === url.pathname);
    if (waiter >= 0) {
      const [w] = waiters.splice(waiter, 1);
      w.resolve(url);
    } else {
      hits.push(url);
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html><html lang="en"><title>Test RP</title><p>The test relying party received ${url.pathname}.</p></html>`);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  base = `http://127.0.0.1:${server.address().port}`;

  return {
    base,
    url: (pathname) => `${base}${pathname}`,
    /** @returns {Promise<URL>} */
    waitFor(pathname, { timeoutMs = env.timeoutMs, signal } = {}) {
      const hit = hits.findIndex((h) => h.pathname === pathname);
      if (hit >= 0) return Promise.resolve(hits.splice(hit, 1)[0]);
      return new Promise((resolve, reject) => {
        const w = {
          pathname,
          resolve: (url) => {
            cleanup();
            resolve(url);
          },
        };
        const remove = () => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
        };
        const timer = setTimeout(() => {
          remove();
          reject(new Error(`the relying party at ${base} received no request to ${pathname} within ${timeoutMs} ms`));
        }, timeoutMs);
        const onAbort = () => {
          remove();
          clearTimeout(timer);
          reject(signal.reason ?? new Error('aborted'));
        };
        const cleanup = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(w);
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * Waits until either the relying party receives a request to `pathname` or `locator` becomes
 * visible in the page, whichever comes first; the loser is cancelled.
 * @returns {Promise<{kind: 'redirect', url: URL} | {kind: 'page'}>}
 */
export async function redirectOrPage(rp, pathname, locator, { timeoutMs = env.timeoutMs } = {}) {
  const controller = new AbortController();
  const redirect = rp
    .waitFor(pathname, { timeoutMs, signal: controller.signal })
    .then((url) => ({ kind: 'redirect', url }));
  const shown = locator.waitFor({ state: 'visible', timeout: timeoutMs }).then(() => ({ kind: 'page' }));
  // The loser's rejection must not become an unhandled rejection.
  redirect.catch(() => {});
  shown.catch(() => {});
  try {
    return await Promise.race([redirect, shown]);
  } finally {
    controller.abort(new Error('superseded'));
  }
}

// ---------------------------------------------------------------------------------------------
// openid-client

/**
 * Discovers the issuer and returns an openid-client Configuration for a client.
 * ID token signatures are checked against the JWKS (enableNonRepudiationChecks); without it
 * openid-client trusts the TLS-protected token response and skips the signature.
 */
export async function discover(clientId, { clientSecret, auth = 'client_secret_basic', tenant } = {}) {
  const authentication = {
    client_secret_basic: () => client.ClientSecretBasic(clientSecret),
    client_secret_post: () => client.ClientSecretPost(clientSecret),
    none: () => client.None(),
  }[auth];
  if (!authentication) throw new Error(`unknown client authentication ${auth}`);
  const execute = [client.enableNonRepudiationChecks];
  if (insecureAllowed) execute.unshift(client.allowInsecureRequests);
  return client.discovery(
    tenant ? new URL(`${env.issuer}${tenantPrefix(tenant)}`) : issuerUrl,
    clientId,
    clientSecret ? { client_secret: clientSecret } : {},
    authentication(),
    { execute, timeout: Math.ceil(env.timeoutMs / 1000) },
  );
}

/** A new authorization request (code flow, PKCE S256, state, nonce). */
export async function authorizationRequest(config, { redirectUri, scope = 'openid profile email', ...extra }) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url, codeVerifier, state, nonce };
}

/**
 * A relying party: an RP server, a client registered for it through the admin API, and the
 * openid-client Configuration of that client. `tenant`: the slug of a tenant other than the
 * default one; the client is registered there and its issuer is `<E2E_ISSUER>/t/<slug>`.
 * `metadata`: more client metadata (e.g. `required_attributes`).
 */
export async function newRelyingParty(name, { auth = 'client_secret_basic', firstParty = true, grantTypes, scope, tenant, metadata: extra = {} } = {}) {
  const rp = await startRp();
  try {
    const metadata = {
      client_name: `${name} ${env.runId}`,
      redirect_uris: [rp.url('/callback')],
      post_logout_redirect_uris: [rp.url('/logged-out')],
      grant_types: grantTypes ?? ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: auth,
      scope: scope ?? 'openid profile email offline_access',
      first_party: firstParty,
      ...extra,
    };
    const registered = await registerClient(metadata, { tenant });
    const config = await discover(registered.client_id, { clientSecret: registered.client_secret, auth, tenant });
    return {
      rp,
      config,
      clientId: registered.client_id,
      clientSecret: registered.client_secret,
      redirectUri: metadata.redirect_uris[0],
      postLogoutRedirectUri: metadata.post_logout_redirect_uris[0],
      close: () => rp.close(),
    };
  } catch (error) {
    await rp.close();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Browser

export async function launchBrowser() {
  const args = [];
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath: env.chromium, headless: !env.headed, args });
}

/**
 * Runs `fn(page, context)` in a fresh browser context (no cookies, no SSO session). On failure,
 * saves a screenshot and the page's HTML under the artifacts directory, then rethrows.
 * `contextOptions` go to `browser.newContext`, e.g. `{ javaScriptEnabled: false }`, or
 * `{ bypassCSP: true }` for `auditAccessibility`.
 */
export async function withPage(browser, testName, fn, contextOptions = {}) {
  const context = await browser.newContext({ locale: 'en-US', ...contextOptions });
  context.setDefaultTimeout(env.timeoutMs);
  context.setDefaultNavigationTimeout(env.timeoutMs);
  const page = await context.newPage();
  const navigations = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations.push(redact(frame.url()));
  });
  try {
    return await fn(page, context);
  } catch (error) {
    try {
      const dir = env.artifacts;
      await mkdir(dir, { recursive: true });
      const stem = path.join(dir, testName.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 100));
      await page.screenshot({ path: `${stem}.png`, fullPage: true, timeout: 5_000 });
      await writeFile(`${stem}.html`, await page.content());
      await writeFile(`${stem}.navigations.txt`, navigations.join('\n') + '\n');
      annotate(error, { suffix: `\n  (page at failure: ${redact(page.url())}; screenshot and HTML in ${stem}.*)` });
    } catch {
      // best effort only
    }
    throw error;
  } finally {
    await context.close();
  }
}

/**
 * Adds context to an error's message, and to its stack (which is what the test reporter prints,
 * and which holds the message as it was when the error was made).
 */
export function annotate(error, { prefix = '', suffix = '' }) {
  if (!error || typeof error !== 'object' || typeof error.message !== 'string') return error;
  const before = error.message;
  const after = `${prefix}${before}${suffix}`;
  error.message = after;
  if (typeof error.stack === 'string' && before && error.stack.includes(before)) {
    error.stack = error.stack.replace(before, after);
  } else if (typeof error.stack === 'string') {
    error.stack = `${prefix}${suffix}\n${error.stack}`;
  }
  return error;
}

/** Removes codes and tokens from a URL before it is written anywhere. */
function redact(u) {
  try {
    const url = new URL(u);
    for (const key of ['code', 'id_token_hint', 'access_token', 'id_token', 'refresh_token']) {
      if (url.searchParams.has(key)) url.searchParams.set(key, '[redacted]');
    }
    return url.toString();
  } catch {
    return u;
  }
}

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
axeSource.catch(() => {}); // reported where it is awaited

/**
 * Runs axe-core's WCAG 2.1 A/AA rules on the page as the browser renders it, and fails with
 * every violation. The hosted pages forbid foreign scripts (CSP), so the page's context must
 * be made with `bypassCSP: true`, and with JavaScript enabled.
 */
export async function auditAccessibility(page, name) {
  await page.addScriptTag({ content: await axeSource });
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  );
  const problems = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  assert.deepEqual(problems, [], `${name} page at ${redact(page.url())}: ${problems.join('; ')}`);
}

/** The labels and buttons of the hosted pages, per language (the contract in ../README.md). */
export const ui = {
  en: { email: 'Email', continue: 'Continue', password: 'Password', signIn: 'Sign in' },
  de: { email: 'E-Mail', continue: 'Weiter', password: 'Passwort', signIn: 'Anmelden' },
};

/**
 * A field by its label: the label text starts with `text` as a whole word ("Password" matches
 * "Password" and "Password *", not "Show password" nor "Passwort"). Playwright's exact label
 * match would count text hidden with aria-hidden (a required-field asterisk); a substring match
 * would also hit a "Show password" toggle.
 */
export function field(page, text) {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.getByLabel(new RegExp(`^\\s*${escaped}(?![\\p{L}\\p{N}_-])`, 'u'));
}

/** The email field of page 1 of the identifier-first login. */
export function emailField(page, lang = 'en') {
  return field(page, ui[lang].email);
}

/**
 * Fills the identifier-first login (page 1: email, page 2: password) by accessible label and
 * role. The page must already show page 1.
 */
export async function signIn(page, user, lang = 'en') {
  const t = ui[lang];
  await field(page, t.email).fill(user.email);
  await page.getByRole('button', { name: t.continue, exact: true }).click();
  await field(page, t.password).fill(user.password);
  await page.getByRole('button', { name: t.signIn, exact: true }).click();
}

/**
 * Opens `authUrl`, signs in and waits for the redirect to the RP's callback.
 * `consent`: 'none' (a first-party client: a consent page is a failure), 'allow' or 'deny'.
 * @returns {Promise<URL>} the callback URL as the RP received it
 */
export async function signInThroughBrowser(page, rp, authUrl, user, { consent = 'none', lang = 'en' } = {}) {
  await page.goto(authUrl.href);
  await signIn(page, user, lang);
  const allow = page.getByRole('button', { name: 'Allow', exact: true });
  const outcome = await redirectOrPage(rp, '/callback', allow);
  if (outcome.kind === 'redirect') {
    if (consent !== 'none') throw new Error(`expected a consent page after sign-in, but the RP got the callback directly`);
    return outcome.url;
  }
  if (consent === 'none') {
    throw new Error('a consent page ("Allow") was shown for a first-party client; first-party clients skip consent');
  }
  await page.getByRole('button', { name: consent === 'allow' ? 'Allow' : 'Deny', exact: true }).click();
  return rp.waitFor('/callback');
}

/** Runs one step of a long scenario and names it in the failure message. */
export async function step(name, fn) {
  try {
    return await fn();
  } catch (error) {
    throw annotate(error, { prefix: `[step: ${name}] ` });
  }
}

/** Exchanges the callback's code; openid-client checks iss, state, PKCE, nonce and the ID token. */
export function exchange(rp, callback, request) {
  assert.equal(callback.searchParams.get('error'), null, `no error: ${callback.searchParams.get('error_description')}`);
  return client.authorizationCodeGrant(rp.config, callback, {
    pkceCodeVerifier: request.codeVerifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
}

export { client };
