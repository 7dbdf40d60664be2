// Progressive profiling end to end: an app registered with `required_attributes` birthdate and
// phone_number (and a requested postal address) sends a signed-in customer to the hosted profile
// form, which Debian's Chromium fills by accessible label — with JavaScript off, as the pages
// must work without it. openid-client then finds the collected values in the ID token and at
// userinfo, and the admin API tells which app collected what.
//
// Needs E2E_ISSUER and E2E_ADMIN_TOKEN; run.sh sets them.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  adminRequest,
  annotate,
  auditAccessibility,
  authorizationRequest,
  client,
  createUser,
  field,
  launchBrowser,
  newRelyingParty,
  redirectOrPage,
  signIn,
  withPage,
} from './support.mjs';

/** The texts of the profile form (English), found by accessible label and role. */
const profileUi = {
  title: 'A few more details',
  birthdate: 'Date of birth',
  phone: 'Mobile phone number',
  address: 'Postal address',
  street: 'Street and number',
  givenName: 'Given name',
  submit: 'Continue',
  skip: 'Not now',
  required: 'Please fill this in.',
  badPhone: /international format/,
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

async function step(name, fn) {
  try {
    return await fn();
  } catch (error) {
    throw annotate(error, { prefix: `[step: ${name}] ` });
  }
}

async function relyingParty(name, metadata) {
  const rp = await newRelyingParty(name, { metadata });
  cleanups.push(rp.close);
  return rp;
}

function exchange(rp, callback, request) {
  assert.equal(callback.searchParams.get('error'), null, `no error: ${callback.searchParams.get('error_description')}`);
  return client.authorizationCodeGrant(rp.config, callback, {
    pkceCodeVerifier: request.codeVerifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
}

async function profileForm(page) {
  await page.getByRole('heading', { name: profileUi.title, exact: true }).waitFor({ state: 'visible' });
}

test('an app that requires birthdate and phone_number: the form asks only for those, and the tokens carry them', async () => {
  const rp = await relyingParty('Profiling shop', {
    required_attributes: ['birthdate', 'phone_number'],
    requested_attributes: ['address'],
  });
  const user = await createUser('profiling');
  const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });

  const callback = await withPage(
    browser,
    'profiling form without JavaScript',
    async (page) => {
      await step('sign in', async () => {
        await page.goto(request.url.href);
        await signIn(page, user);
      });
      await step('the form asks for what is missing, and nothing else', async () => {
        await profileForm(page);
        await field(page, profileUi.birthdate).waitFor({ state: 'visible' });
        await field(page, profileUi.phone).waitFor({ state: 'visible' });
        await page.getByRole('group', { name: new RegExp(`^${profileUi.address}`) }).waitFor({ state: 'visible' });
        assert.equal(await field(page, profileUi.givenName).count(), 0, 'the given name is known already');
      });
      await step('a required answer missing and a bad number are refused', async () => {
        await field(page, profileUi.phone).fill('call me maybe');
        await page.getByRole('button', { name: profileUi.submit, exact: true }).click();
        await profileForm(page);
        const text = await page.locator('main').innerText();
        assert.ok(text.includes(profileUi.required), `the missing birthdate is named: ${text}`);
        assert.match(text, profileUi.badPhone);
        assert.equal(await field(page, profileUi.phone).getAttribute('aria-invalid'), 'true');
      });
      return step('the answers are saved and the app gets its code', async () => {
        await field(page, profileUi.birthdate).fill('1990-05-17');
        await field(page, profileUi.phone).fill('+41 44 668 18 00');
        await page.getByRole('button', { name: profileUi.submit, exact: true }).click();
        return rp.rp.waitFor('/callback');
      });
    },
    { javaScriptEnabled: false },
  );

  const tokens = await step('code exchange', () => exchange(rp, callback, request));
  const claims = tokens.claims();
  assert.equal(claims.sub, user.id);
  assert.equal(claims.birthdate, '1990-05-17', 'birthdate in the ID token');
  assert.equal(claims.phone_number, '+41446681800', 'phone_number in the ID token, in E.164');
  assert.equal(claims.phone_number_verified, false, 'the e2e server sends no SMS, so the number is kept unproven');
  assert.equal(claims.address, undefined, 'the skipped address is not made up');
  const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
  assert.equal(userinfo.birthdate, '1990-05-17', 'birthdate at userinfo');
  assert.equal(userinfo.phone_number, '+41446681800', 'phone_number at userinfo');

  const collected = await adminRequest('GET', `/admin/v1/users/${user.id}/collected-attributes`);
  const byApp = Object.fromEntries(collected.items.map((item) => [item.attribute, item.client_id]));
  assert.deepEqual(byApp, { birthdate: rp.clientId, phone_number: rp.clientId }, 'the admin sees which app collected what');

  // Signed in again later: nothing required is missing, the address waits; straight to the app.
  const again = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri, prompt: 'login' });
  await withPage(browser, 'profiling done', async (page) => {
    await page.goto(again.url.href);
    await signIn(page, user);
    const outcome = await redirectOrPage(rp.rp, '/callback', page.getByRole('heading', { name: profileUi.title }));
    assert.equal(outcome.kind, 'redirect', 'no profile form the second time');
  });
});

test('the profile form is accessible, and optional questions can wait', async () => {
  const rp = await relyingParty('Profiling newsletter', { requested_attributes: ['birthdate', 'address'] });
  const user = await createUser('later');
  const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
  await withPage(
    browser,
    'profiling form accessibility',
    async (page) => {
      await page.goto(request.url.href);
      await signIn(page, user);
      await profileForm(page);
      await auditAccessibility(page, 'profile form');
      await page.getByRole('button', { name: profileUi.skip, exact: true }).click();
      const callback = await rp.rp.waitFor('/callback');
      const tokens = await exchange(rp, callback, request);
      assert.equal(tokens.claims().birthdate, undefined);
    },
    { bypassCSP: true },
  );
});
