// Strong sign-in end to end, as a relying party and a person with an authenticator app see it
// (docs/oidc.md, "Strong and adaptive sign-in"): openid-client as the RP of a client registered
// with `minimum_acr` urn:tessera:loa:2, Debian's Chromium through playwright-core on the hosted
// pages, found by accessible names. The authenticator app is this file: it reads the
// otpauth:// URI of the enrolment page and computes RFC 6238 codes with node:crypto, without
// any of Tessera's code. Then the tenant setting `bot_defence.pow: always`: the password page's
// own script solves the proof of work in the browser, under the page's real CSP.
//
// Needs E2E_ISSUER and E2E_ADMIN_TOKEN; run.sh sets them.

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';

import {
  adminRequest,
  auditAccessibility,
  authorizationRequest,
  env,
  exchange,
  field,
  launchBrowser,
  newRelyingParty,
  redirectOrPage,
  signIn,
  step,
  tenantPrefix,
  ui,
  unique,
  withPage,
} from './support.mjs';

const ACR_TWO_FACTORS = 'urn:tessera:loa:2';

/** The texts of the second-factor pages (English), found by accessible name and role. */
const mfaUi = {
  // With passkeys available (the suite runs on http://localhost), the page offers both.
  setupTitle: 'Set up two-step verification',
  openApp: 'On this phone? Open the authenticator app directly',
  code: 'Code from the app',
  turnOn: 'Turn on two-step verification',
  codesTitle: 'Save your recovery codes',
  saved: 'I have saved my codes — continue',
  codeTitle: 'Confirm it is you',
  continue: 'Continue',
  powDone: 'Check complete. You can sign in.',
  signedIn: 'You are signed in.',
};

/** @type {import('playwright-core').Browser} */
let browser;
const cleanups = [];

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await browser?.close();
});

// ---------------------------------------------------------------------------------------------
// The authenticator app: RFC 4648 base32, RFC 4226 HOTP, RFC 6238 TOTP, the Key URI Format.

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 §6 base32 (upper or lower case, padding optional) to bytes. */
function base32Decode(text) {
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text.toUpperCase().replace(/=+$/, '')) {
    const value = BASE32.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${JSON.stringify(char)}`);
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226 HOTP with HMAC-SHA1 and dynamic truncation; RFC 6238 feeds it the time step. */
function hotp(key, counter, digits = 6) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

const PERIOD = 30;
/** The RFC 6238 time step of a Unix time in seconds (T0 = 0, X = 30). */
const stepAt = (seconds) => Math.floor(seconds / PERIOD);
const nowSeconds = () => Date.now() / 1000;

/**
 * The user's authenticator app. It is fed the otpauth:// URI of the enrolment page, like a
 * phone that scans the QR code, and it remembers which time steps it has spent: the server
 * accepts each step once (and one step either side of its own clock).
 */
class AuthenticatorApp {
  /** @type {Buffer | undefined} */
  key;
  /** @type {string | undefined} */
  secret;
  usedSteps = new Set();

  /** Reads a Key URI (otpauth://totp/…?secret=…); fails unless it is TOTP, SHA-1, 6 digits, 30 s. */
  enrol(uri) {
    const parsed = new URL(uri);
    assert.equal(parsed.protocol, 'otpauth:', `an otpauth:// URI: ${uri.replace(/secret=[^&]*/i, 'secret=…')}`);
    assert.equal(parsed.host, 'totp', 'the type is totp');
    const secret = parsed.searchParams.get('secret');
    assert.ok(secret && /^[A-Z2-7]+=*$/i.test(secret), 'a base32 secret');
    assert.equal((parsed.searchParams.get('algorithm') ?? 'SHA1').toUpperCase(), 'SHA1', 'HMAC-SHA1');
    assert.equal(parsed.searchParams.get('digits') ?? '6', '6', '6 digits');
    assert.equal(parsed.searchParams.get('period') ?? '30', '30', '30-second steps');
    this.secret = secret.toUpperCase().replace(/=+$/, '');
    this.key = base32Decode(this.secret);
    assert.ok(this.key.length >= 10, `a key of at least 80 bits (RFC 4226 §4), got ${this.key.length * 8}`);
    this.usedSteps.clear();
  }

  codeForStep(step) {
    assert.ok(this.key, 'the app is enrolled');
    return hotp(this.key, step);
  }

  /**
   * A code of a step the app has not spent yet, and later than every step it spent (a server
   * may refuse any step at or before the last one accepted): the current step, else the next
   * one (within the server's tolerance of one step), else it waits for the next step.
   */
  async freshCode() {
    for (;;) {
      const now = stepAt(nowSeconds());
      const last = Math.max(-1, ...this.usedSteps);
      const step = [now, now + 1].find((s) => s > last);
      if (step !== undefined) {
        this.usedSteps.add(step);
        return this.codeForStep(step);
      }
      await sleep((now + 1) * PERIOD * 1000 - Date.now() + 200);
    }
  }

  /** The code of the latest step this app has spent. */
  spentCode() {
    assert.ok(this.usedSteps.size > 0, 'the app has spent a code');
    return this.codeForStep(Math.max(...this.usedSteps));
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function relyingParty(name, options) {
  const rp = await newRelyingParty(name, options);
  cleanups.push(rp.close);
  return rp;
}

/** A client that always needs two factors (Tessera's `minimum_acr`). */
function twoFactorClient(name) {
  return relyingParty(name, { metadata: { minimum_acr: ACR_TWO_FACTORS } });
}

/** Creates an active user with a long password in a tenant (undefined: the default one). */
async function createUserIn(tenant, label) {
  const email = `${unique(`${label}.node`)}@example.com`.toLowerCase();
  const password = `e2e passphrase ${randomBytes(18).toString('base64url')}`;
  const created = await adminRequest(
    'POST',
    `${tenantPrefix(tenant)}/admin/v1/users`,
    { email, given_name: 'Ada', family_name: 'Lovelace', password },
    { expect: 201 },
  );
  assert.equal(typeof created.id, 'string', 'the user id');
  return { id: created.id, email, password };
}

function heading(page, name) {
  return page.getByRole('heading', { name, exact: true });
}

/** The claims that say how the session signed in (RFC 8176 amr, OIDC acr). */
function assertTwoFactors(claims, why) {
  assert.equal(claims.acr, ACR_TWO_FACTORS, `${why}: acr`);
  assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'], `${why}: amr`);
}

/**
 * From the authorization URL through the password to the enrolment page, which the client's
 * `minimum_acr` demands of a user without an app. A redirect to the client instead fails.
 */
async function signInToEnrolment(page, rp, request, user) {
  await page.goto(request.url.href);
  await signIn(page, user);
  const outcome = await redirectOrPage(rp.rp, '/callback', heading(page, mfaUi.setupTitle));
  assert.equal(
    outcome.kind,
    'page',
    `a client with minimum_acr ${ACR_TWO_FACTORS} must not get a code after the password alone: ${outcome.url}`,
  );
}

/** From the authorization URL through the password to the code page of an enrolled user. */
async function signInToCodePage(page, rp, request, user) {
  await page.goto(request.url.href);
  await signIn(page, user);
  const outcome = await redirectOrPage(rp.rp, '/callback', heading(page, mfaUi.codeTitle));
  assert.equal(outcome.kind, 'page', `an enrolled user is asked for a code, not sent to the client: ${outcome.url}`);
}

/**
 * The enrolment page as a person sees it, and the app fed from it: the QR code (inline SVG
 * with role img and a name), the key as text, and the otpauth:// link for phones, which all
 * hold the same key. Returns the URI.
 */
async function readEnrolmentPage(page, app) {
  await heading(page, mfaUi.setupTitle).waitFor({ state: 'visible' });
  const qr = page.getByRole('img', { name: /\S/ });
  assert.equal(await qr.count(), 1, 'one QR code with an accessible name');
  assert.deepEqual(
    await qr.evaluate((el) => [el.localName, el.namespaceURI]),
    ['svg', 'http://www.w3.org/2000/svg'],
    'the QR code is inline SVG',
  );
  const link = page.getByRole('link', { name: mfaUi.openApp, exact: true });
  const uri = await link.getAttribute('href');
  assert.ok(uri?.startsWith('otpauth://'), `the link for phones is an otpauth:// URI, got ${uri?.slice(0, 20)}…`);
  app.enrol(uri);
  const shown = page.locator('code.secret');
  assert.equal(await shown.count(), 1, 'the key is shown as text, in <code class="secret">');
  assert.equal(
    (await shown.innerText()).replace(/\s+/g, '').toUpperCase(),
    app.secret,
    'the key as text is the key in the otpauth:// URI',
  );
  return uri;
}

/** The recovery codes page: ten different codes, shown once; returns them. */
async function readRecoveryCodes(page) {
  await heading(page, mfaUi.codesTitle).waitFor({ state: 'visible' });
  const list = page.getByRole('list', { name: mfaUi.codesTitle, exact: true });
  const codes = (await list.getByRole('listitem').allInnerTexts()).map((text) => text.trim());
  assert.equal(codes.length, 10, `ten recovery codes in a list named "${mfaUi.codesTitle}", got ${codes.length}`);
  assert.ok(codes.every((code) => code.length > 0), 'no code is empty');
  assert.equal(new Set(codes).size, 10, 'the codes are all different');
  return codes;
}

async function submitCode(page, code, button) {
  await field(page, mfaUi.code).fill(code);
  await page.getByRole('button', { name: button, exact: true }).click();
}

/** After a refused code: an alert, and the field is marked invalid and described by it. */
async function assertRefused(page, why) {
  const alert = page.getByRole('alert');
  await alert.waitFor({ state: 'visible' });
  assert.ok((await alert.innerText()).trim().length > 0, `${why}: the alert says something`);
  const input = field(page, mfaUi.code);
  assert.equal(await input.getAttribute('aria-invalid'), 'true', `${why}: the field is aria-invalid`);
  const alertId = await alert.getAttribute('id');
  const describedBy = (await input.getAttribute('aria-describedby')) ?? '';
  assert.ok(alertId && describedBy.split(/\s+/).includes(alertId), `${why}: the field is described by the alert`);
}

/** Runs axe-core and keeps the violations instead of failing at the first page. */
async function audit(page, name, problems) {
  try {
    await auditAccessibility(page, name);
  } catch (error) {
    if (!(error instanceof assert.AssertionError)) throw error;
    problems.push(error.message.split('\n')[0]);
  }
}

// ---------------------------------------------------------------------------------------------

test("the test's own TOTP gives the codes of RFC 6238 Appendix B (SHA-1)", () => {
  // The seed "12345678901234567890" in base32, as an otpauth:// URI would carry it.
  const key = base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  assert.equal(key.toString('ascii'), '12345678901234567890');
  const vectors = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];
  for (const [time, code] of vectors) assert.equal(hotp(key, stepAt(time), 8), code, `T = ${time}`);
  assert.equal(hotp(key, stepAt(59)), '287082', 'six digits are the last six');
});


test('a client that needs two factors (minimum_acr urn:tessera:loa:2)', async (t) => {
  const rp = await twoFactorClient('Node MFA RP');
  const user = await createUserIn(undefined, 'mfa');
  const app = new AuthenticatorApp();
  let enrolled = false;

  await t.test('the first sign-in enrols an authenticator app; the ID token says two factors', async () => {
    const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
    const callback = await withPage(browser, 'MFA enrolment', async (page) => {
      await step('the password, then the enrolment page', () => signInToEnrolment(page, rp, request, user));
      await step('the enrolment page: QR code, key and otpauth:// link', () => readEnrolmentPage(page, app));
      await step('a code computed from the URI turns on two-step verification', async () => {
        await submitCode(page, await app.freshCode(), mfaUi.turnOn);
      });
      await step('the recovery codes page', () => readRecoveryCodes(page));
      return step('"I have saved my codes" continues to the client', async () => {
        await page.getByRole('link', { name: mfaUi.saved, exact: true }).click();
        return rp.rp.waitFor('/callback');
      });
    });
    const tokens = await step('code exchange', () => exchange(rp, callback, request));
    const claims = tokens.claims();
    assert.equal(claims.sub, user.id);
    assertTwoFactors(claims, 'the ID token after enrolment');
    const security = await adminRequest('GET', `/admin/v1/users/${user.id}/security`);
    assert.deepEqual(security.factors.map((f) => f.kind), ['totp'], 'the admin API shows one authenticator app');
    assert.equal(security.recovery_codes_left, 10, 'and ten recovery codes');
    enrolled = true;
  });

  await t.test(
    'a second sign-in asks for a code: a step already used is refused, the next step works',
    { skip: enrolled ? false : 'the enrolment failed' },
    async () => {
      const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
      const callback = await withPage(browser, 'MFA code page', async (page) => {
        await step('the password, then the code page', () => signInToCodePage(page, rp, request, user));
        await step('the code of the step spent at enrolment is refused', async () => {
          const spent = Math.max(...app.usedSteps);
          assert.ok(
            stepAt(nowSeconds()) - spent <= 1,
            'the spent step is still within the tolerance of one step, so only its reuse can make it fail (the sign-in took over 30 s)',
          );
          await submitCode(page, app.spentCode(), mfaUi.continue);
          await heading(page, mfaUi.codeTitle).waitFor({ state: 'visible' });
          await assertRefused(page, 'a code of a step already used');
        });
        return step('the code of a step not used yet lands at the client', async () => {
          await submitCode(page, await app.freshCode(), mfaUi.continue);
          return rp.rp.waitFor('/callback');
        });
      });
      const tokens = await step('code exchange', () => exchange(rp, callback, request));
      assert.equal(tokens.claims().sub, user.id);
      assertTwoFactors(tokens.claims(), 'the ID token of the second sign-in');
    },
  );
});

/** A 6-digit code that the app's key does not give for any step near now. */
function wrongCode(app) {
  const now = stepAt(nowSeconds());
  const valid = new Set([-2, -1, 0, 1, 2].map((d) => app.codeForStep(now + d)));
  return ['000000', '111111', '222222', '333333', '444444', '555555'].find((code) => !valid.has(code));
}

/**
 * The second-factor pages against axe-core's WCAG 2.1 A/AA rules, as Chromium renders them.
 * The pages forbid foreign scripts (CSP), so these contexts bypass CSP to inject axe. Every
 * page is audited before the test fails, so that one run names all violations.
 */
test('accessibility: the enrolment, recovery codes and code pages have no axe-core WCAG 2.1 AA violations', async () => {
  const rp = await twoFactorClient('Node MFA a11y RP');
  const user = await createUserIn(undefined, 'mfa-a11y');
  const app = new AuthenticatorApp();
  const problems = [];

  const first = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
  await withPage(
    browser,
    'MFA accessibility enrolment',
    async (page) => {
      await signInToEnrolment(page, rp, first, user);
      await readEnrolmentPage(page, app);
      await audit(page, 'enrolment', problems);
      await step('a wrong code on the enrolment page', async () => {
        await submitCode(page, wrongCode(app), mfaUi.turnOn);
        await heading(page, mfaUi.setupTitle).waitFor({ state: 'visible' });
        await assertRefused(page, 'a wrong code on the enrolment page');
      });
      await audit(page, 'enrolment with an error', problems);
      await readEnrolmentPage(page, app);
      await submitCode(page, await app.freshCode(), mfaUi.turnOn);
      await readRecoveryCodes(page);
      await audit(page, 'recovery codes', problems);
      await page.getByRole('link', { name: mfaUi.saved, exact: true }).click();
      const callback = await rp.rp.waitFor('/callback');
      assertTwoFactors((await exchange(rp, callback, first)).claims(), 'after enrolment');
    },
    { bypassCSP: true },
  );

  const second = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
  await withPage(
    browser,
    'MFA accessibility code page',
    async (page) => {
      await signInToCodePage(page, rp, second, user);
      await audit(page, 'code', problems);
      await step('a wrong code on the code page', async () => {
        await submitCode(page, wrongCode(app), mfaUi.continue);
        await heading(page, mfaUi.codeTitle).waitFor({ state: 'visible' });
        await assertRefused(page, 'a wrong code');
      });
      await audit(page, 'code with an error', problems);
      await submitCode(page, await app.freshCode(), mfaUi.continue);
      const callback = await rp.rp.waitFor('/callback');
      assertTwoFactors((await exchange(rp, callback, second)).claims(), 'the second sign-in');
    },
    { bypassCSP: true },
  );

  assert.deepEqual(problems, [], `axe-core violations:\n${problems.join('\n')}`);
});

/**
 * Runs in the page before any of its own scripts (a DevTools init script, which the page's CSP
 * does not govern; the page's scripts stay under it). It records every change of the sign-in
 * button's `disabled` and of the status text, and every CSP violation of the page.
 */
function recordProofOfWork(signInName) {
  const state = { log: [], violations: [] };
  Object.defineProperty(window, '__tesseraE2e', { value: state });
  document.addEventListener('securitypolicyviolation', (event) => {
    state.violations.push(`${event.effectiveDirective}: ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`);
  });
  let last = '';
  const snapshot = () => {
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === signInName);
    const status = document.querySelector('[role="status"], output');
    if (!button || !status) return;
    const entry = { disabled: button.disabled, status: status.textContent.trim(), at: Math.round(performance.now()) };
    const key = `${entry.disabled}\n${entry.status}`;
    if (key !== last) {
      last = key;
      state.log.push(entry);
    }
  };
  new MutationObserver(snapshot).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

test('proof of work (bot_defence.pow always): the password page solves it in the browser, under its CSP', async (t) => {
  // A tenant of its own: the server is shared by every test of the run.
  const slug = unique('pow').toLowerCase();
  const created = await adminRequest(
    'POST',
    '/admin/v1/tenants',
    {
      slug,
      display_name: `Proof of work e2e ${env.runId}`,
      settings: { bot_defence: { pow: 'always', difficulty: 20000 } },
    },
    { expect: 201 },
  );
  assert.equal(created.slug, slug);
  assert.deepEqual(
    [created.settings?.bot_defence?.pow, created.settings?.bot_defence?.difficulty],
    ['always', 20000],
    `the tenant has the setting: ${JSON.stringify(created.settings)}`,
  );
  const user = await createUserIn(slug, 'pow');

  await withPage(browser, 'proof of work', async (page) => {
    const consoleCsp = [];
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) consoleCsp.push(message.text());
    });
    const documents = [];
    page.on('response', (response) => {
      if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) documents.push(response);
    });
    await page.addInitScript(recordProofOfWork, ui.en.signIn);

    const signInButton = page.getByRole('button', { name: ui.en.signIn, exact: true });
    await step('the email, then the password page', async () => {
      await page.goto(`${env.issuer}${tenantPrefix(slug)}/login`);
      await field(page, ui.en.email).fill(user.email);
      await page.getByRole('button', { name: ui.en.continue, exact: true }).click();
      await field(page, ui.en.password).waitFor({ state: 'visible' });
    });

    await step('the password page is served with a CSP that allows its script by nonce only', () => {
      const response = documents.filter((r) => r.status() === 200).at(-1);
      assert.ok(response, 'the password page response');
      const csp = response.headers()['content-security-policy'];
      assert.ok(csp, 'a Content-Security-Policy header');
      const directives = Object.fromEntries(
        csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...values]) => [name.toLowerCase(), values]),
      );
      const scriptSrc = directives['script-src'] ?? directives['default-src'];
      assert.ok(scriptSrc, `script-src or default-src in ${csp}`);
      assert.ok(scriptSrc.some((v) => v.startsWith("'nonce-")), `scripts by nonce: ${csp}`);
      for (const weak of ["'unsafe-inline'", "'unsafe-eval'", '*', 'http:', 'https:', 'data:']) {
        assert.ok(!scriptSrc.includes(weak), `no ${weak} for scripts: ${csp}`);
      }
    });

    await step(`the sign-in button waits until the status says "${mfaUi.powDone}"`, async () => {
      await page.getByRole('status').filter({ hasText: mfaUi.powDone }).waitFor({ state: 'visible' });
      assert.equal(await signInButton.isEnabled(), true, 'the button is enabled once the check is complete');
      const { log, violations } = await page.evaluate(() => window.__tesseraE2e);
      assert.deepEqual(violations, [], 'no CSP violations on the page');
      assert.deepEqual(consoleCsp, [], 'no CSP messages on the console');
      assert.ok(log.length >= 2, `the button and status changed: ${JSON.stringify(log)}`);
      assert.equal(log[0].disabled, true, `the button is disabled when the page is shown: ${JSON.stringify(log)}`);
      for (const entry of log) {
        if (!entry.disabled) {
          assert.equal(entry.status, mfaUi.powDone, `the button is enabled only once the check is complete: ${JSON.stringify(log)}`);
        }
      }
      assert.equal(log.at(-1).disabled, false);
      t.diagnostic(`proof of work solved in the browser in about ${log.at(-1).at - log[0].at} ms`);
    });

    await step('the password signs in', async () => {
      await field(page, ui.en.password).fill(user.password);
      await signInButton.click();
      await page.getByText(mfaUi.signedIn, { exact: true }).waitFor({ state: 'visible' });
    });
  });

  // Without JavaScript nothing solves the check. The test then enables the button itself and
  // sends the right password without a solution: the server must not sign in.
  await withPage(
    browser,
    'proof of work without a solution',
    async (page) => {
      await page.goto(`${env.issuer}${tenantPrefix(slug)}/login`);
      await field(page, ui.en.email).fill(user.email);
      await page.getByRole('button', { name: ui.en.continue, exact: true }).click();
      const signInButton = page.getByRole('button', { name: ui.en.signIn, exact: true });
      await signInButton.waitFor({ state: 'visible' });
      assert.equal(await signInButton.isDisabled(), true, 'without JavaScript the sign-in button stays disabled');
      await signInButton.evaluate((button) => button.removeAttribute('disabled'));
      await field(page, ui.en.password).fill(user.password);
      await signInButton.click();
      await page.getByRole('alert').waitFor({ state: 'visible' });
      assert.equal(await page.getByText(mfaUi.signedIn, { exact: true }).count(), 0, 'not signed in without a solution');
    },
    { javaScriptEnabled: false },
  );
});
