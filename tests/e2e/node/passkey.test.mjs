// Passkeys end to end, as a person with a phone or laptop that keeps passkeys sees them
// (docs/oidc.md, "Passkeys"): Debian's Chromium through playwright-core, with Chromium's own
// virtual authenticator (Chrome DevTools Protocol `WebAuthn.addVirtualAuthenticator`: CTAP2,
// internal, resident keys, user verification) standing in for the device. openid-client is the
// relying party; its ID tokens say how the person signed in. Covered: a passkey added at the
// enrolment a client's `minimum_acr` demands, a passkey as the second factor, a passwordless
// sign-in with the discoverable credential (from the email field's autofill), and a cloned
// authenticator whose signature counter went back (A42), refused, by autofill and button.
//
// Needs E2E_ISSUER (on http://localhost: WebAuthn refuses IP addresses) and E2E_ADMIN_TOKEN;
// run.sh sets them.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
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
  unique,
  withPage,
} from './support.mjs';

const ACR_TWO_FACTORS = 'urn:tessera:loa:2';

/** The texts of the passkey parts of the hosted pages (English), by accessible name. */
const passkeyUi = {
  setupTitle: 'Set up two-step verification',
  name: 'Name for this passkey (optional)',
  create: 'Create a passkey',
  codesTitle: 'Save your recovery codes',
  saved: 'I have saved my codes — continue',
  codeTitle: 'Confirm it is you',
  use: 'Use your passkey',
  signIn: 'Sign in with a passkey',
  failed: 'The passkey did not work. Try again, or use another way to sign in.',
};

/** @type {import('playwright-core').Browser} */
let browser;
const cleanups = [];

before(async () => {
  assert.equal(
    new URL(env.issuer).hostname,
    'localhost',
    `passkeys need a domain name: run the suite with E2E_ISSUER on http://localhost, not ${env.issuer}`,
  );
  browser = await launchBrowser();
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await browser?.close();
});

async function twoFactorClient(name) {
  const rp = await newRelyingParty(name, { metadata: { minimum_acr: ACR_TWO_FACTORS } });
  cleanups.push(rp.close);
  return rp;
}

async function plainClient(name) {
  const rp = await newRelyingParty(name);
  cleanups.push(rp.close);
  return rp;
}

async function createUser(label) {
  const email = `${unique(`${label}.node`)}@example.com`.toLowerCase();
  const password = `e2e passphrase ${randomBytes(18).toString('base64url')}`;
  const created = await adminRequest(
    'POST',
    '/admin/v1/users',
    { email, given_name: 'Grace', family_name: 'Hopper', password },
    { expect: 201 },
  );
  return { id: created.id, email, password };
}

function heading(page, name) {
  return page.getByRole('heading', { name, exact: true });
}

/**
 * A virtual platform authenticator in the page's browser context, as a phone or laptop with
 * a fingerprint reader: it keeps discoverable credentials and verifies its user. Returns the
 * DevTools session and the authenticator's id.
 */
async function addAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

async function credentials({ cdp, authenticatorId }) {
  return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
}

/** Puts credentials (with their private keys and counters) into an authenticator. */
async function restore({ cdp, authenticatorId }, saved) {
  for (const credential of saved) {
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
  }
}

test('passkeys: added at enrolment, the second factor, then the only one; a cloned one is refused', async (t) => {
  const strict = await twoFactorClient('Node passkey RP');
  const plain = await plainClient('Node passkey plain RP');
  const user = await createUser('passkey');
  /** The authenticator's credentials after the last use, to put into the next browser. */
  let saved = [];

  await t.test('the enrolment a client demands: a named passkey, then the recovery codes', async () => {
    const request = await authorizationRequest(strict.config, { redirectUri: strict.redirectUri });
    const callback = await withPage(browser, 'passkey enrolment', async (page) => {
      const device = await addAuthenticator(page);
      await page.goto(request.url.href);
      await signIn(page, user);
      const outcome = await redirectOrPage(strict.rp, '/callback', heading(page, passkeyUi.setupTitle));
      assert.equal(outcome.kind, 'page', 'a client with minimum_acr loa:2 gets no code after the password alone');
      await step('name the passkey and create it', async () => {
        await field(page, passkeyUi.name).fill('Work laptop');
        await page.getByRole('button', { name: passkeyUi.create, exact: true }).click();
      });
      await heading(page, passkeyUi.codesTitle).waitFor({ state: 'visible' });
      const stored = await credentials(device);
      assert.equal(stored.length, 1, 'the authenticator holds one credential');
      assert.equal(stored[0].rpId, 'localhost');
      assert.ok(stored[0].isResidentCredential, 'the passkey is discoverable (residentKey preferred)');
      saved = stored;
      await page.getByRole('link', { name: passkeyUi.saved, exact: true }).click();
      return strict.rp.waitFor('/callback');
    });
    const claims = (await exchange(strict, callback, request)).claims();
    assert.equal(claims.sub, user.id);
    assert.equal(claims.acr, ACR_TWO_FACTORS);
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'user', 'mfa']);
    const security = await adminRequest('GET', `/admin/v1/users/${user.id}/security`);
    const passkeys = security.factors.filter((f) => f.kind === 'passkey');
    assert.deepEqual(passkeys.map((f) => f.name), ['Work laptop'], 'the admin API shows the named passkey');
  });

  await t.test('the next sign-in: the password, then the passkey as the second factor', async () => {
    assert.equal(saved.length, 1, 'the enrolment stored a credential');
    const request = await authorizationRequest(strict.config, { redirectUri: strict.redirectUri });
    const callback = await withPage(browser, 'passkey second factor', async (page) => {
      // The device comes in only now: on the first page, the email field's autofill would
      // offer the passkey (and the virtual authenticator would take it at once).
      await page.goto(request.url.href);
      await signIn(page, user);
      await heading(page, passkeyUi.codeTitle).waitFor({ state: 'visible' });
      assert.equal(await page.getByLabel('Code from the app').count(), 0, 'a passkey-only user is not asked for a code');
      const device = await addAuthenticator(page);
      await restore(device, saved);
      await page.getByRole('button', { name: passkeyUi.use, exact: true }).click();
      const callback = await strict.rp.waitFor('/callback');
      saved = await credentials(device);
      return callback;
    });
    const claims = (await exchange(strict, callback, request)).claims();
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'user', 'mfa']);
  });

  await t.test("without a password: the email field's autofill offers the passkey, which names the user", async () => {
    const request = await authorizationRequest(plain.config, { redirectUri: plain.redirectUri });
    const callback = await withPage(browser, 'passwordless autofill', async (page) => {
      const device = await addAuthenticator(page);
      await restore(device, saved);
      // Conditional mediation: the page asks for a passkey as it loads; the virtual
      // authenticator answers as a person picking it from the autofill list would.
      await page.goto(request.url.href);
      const callback = await plain.rp.waitFor('/callback');
      saved = await credentials(device);
      return callback;
    });
    const claims = (await exchange(plain, callback, request)).claims();
    assert.equal(claims.sub, user.id, 'the discoverable credential named the user');
    assert.equal(claims.acr, ACR_TWO_FACTORS, 'a passkey is two factors on its own');
    assert.deepEqual(claims.amr, ['hwk', 'user']);
  });

  await t.test('A42: an authenticator whose counter went back (a clone) is refused', async () => {
    const counter = saved[0]?.signCount ?? 0;
    assert.ok(counter >= 2, `the virtual authenticator counts its signatures (signCount ${counter})`);
    const request = await authorizationRequest(plain.config, { redirectUri: plain.redirectUri });
    await withPage(browser, 'passkey clone', async (page) => {
      const device = await addAuthenticator(page);
      // The same key, as a copy made before its first use would hold it.
      await restore(device, saved.map((credential) => ({ ...credential, signCount: 0 })));
      await page.goto(request.url.href);
      await page.getByRole('alert').filter({ hasText: passkeyUi.failed }).waitFor({ state: 'visible' });
      assert.equal(
        (await page.context().cookies()).some((c) => c.name.includes('session')),
        false,
        'no session for the clone',
      );
      await step('after a refusal the page does not try again by itself; the button does', async () => {
        await Promise.all([
          page.waitForEvent('load'),
          page.getByRole('button', { name: passkeyUi.signIn, exact: true }).click(),
        ]);
        await page.getByRole('alert').filter({ hasText: passkeyUi.failed }).waitFor({ state: 'visible' });
      });
    });
    const events = await adminRequest(
      'GET',
      `/admin/v1/events?type=mfa.passkey_clone_suspected&subject=user:${user.id}`,
    );
    assert.equal(events.items?.length, 2, `the audit log has mfa.passkey_clone_suspected twice: ${JSON.stringify(events).slice(0, 400)}`);
  });
});

test('accessibility: the passkey parts of the sign-in and enrolment pages have no axe-core WCAG 2.1 AA violations', async () => {
  const strict = await twoFactorClient('Node passkey a11y RP');
  const user = await createUser('passkey-a11y');
  const request = await authorizationRequest(strict.config, { redirectUri: strict.redirectUri });
  await withPage(
    browser,
    'passkey accessibility',
    async (page) => {
      await page.goto(request.url.href);
      await page.getByRole('button', { name: passkeyUi.signIn, exact: true }).waitFor({ state: 'visible' });
      await auditAccessibility(page, 'sign-in with the passkey button');
      await signIn(page, user);
      await heading(page, passkeyUi.setupTitle).waitFor({ state: 'visible' });
      await page.getByRole('button', { name: passkeyUi.create, exact: true }).waitFor({ state: 'visible' });
      await auditAccessibility(page, 'enrolment with a passkey');
    },
    { bypassCSP: true },
  );
});
