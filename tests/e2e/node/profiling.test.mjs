// Progressive profiling end to end: an app registered with `required_attributes` birthdate and
// phone_number (and a requested postal address) sends a signed-in customer to the hosted profile
// form, which Debian's Chromium fills by accessible label — with JavaScript off, as the pages
// must work without it. The phone number is proven by a code that the server sends through its
// HTTP SMS sender to the run's SMS sink (E2E_SMSDIR). openid-client then finds the collected
// values in the ID token and at userinfo, and the admin API tells which app collected what.
//
// Needs E2E_ISSUER, E2E_ADMIN_TOKEN and E2E_SMSDIR; run.sh sets them.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  adminRequest,
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
  step,
  exchange,
} from './support.mjs';
import { codeInSms, newestSmsFile, smsdir, waitForSms } from './sms.mjs';

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
  phoneTitle: 'Confirm your phone number',
  code: 'Code',
  continue: 'Continue',
};

const NUMBER = '+41446681800';

/** @type {import('playwright-core').Browser} */
let browser;
const cleanups = [];

before(async () => {
  smsdir(); // fails early, and clearly, without E2E_SMSDIR
  browser = await launchBrowser();
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await browser?.close();
});


async function relyingParty(name, metadata) {
  const rp = await newRelyingParty(name, { metadata });
  cleanups.push(rp.close);
  return rp;
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
      const mark = await newestSmsFile();
      await step('the answers are saved, and the number waits for its code', async () => {
        await field(page, profileUi.birthdate).fill('1990-05-17');
        await field(page, profileUi.phone).fill('+41 44 668 18 00');
        await page.getByRole('button', { name: profileUi.submit, exact: true }).click();
        await page.getByRole('heading', { name: profileUi.phoneTitle, exact: true }).waitFor({ state: 'visible' });
      });
      return step('the code from the SMS proves the number, and the app gets its code', async () => {
        const message = await waitForSms(NUMBER, { after: mark });
        assert.equal(message.content_type, 'application/json', 'the JSON body template');
        await field(page, profileUi.code).fill(codeInSms(message));
        await page.getByRole('button', { name: profileUi.continue, exact: true }).click();
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
  assert.equal(claims.phone_number_verified, true, 'the number was proven by SMS');
  assert.equal(claims.address, undefined, 'the skipped address is not made up');
  const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
  assert.equal(userinfo.birthdate, '1990-05-17', 'birthdate at userinfo');
  assert.equal(userinfo.phone_number, '+41446681800', 'phone_number at userinfo');

  const collected = await adminRequest('GET', `/admin/v1/users/${user.id}/collected-attributes`);
  const byApp = Object.fromEntries(collected.items.map((item) => [item.attribute, item.client_id]));
  assert.deepEqual(byApp, { birthdate: rp.clientId, phone_number: rp.clientId }, 'the admin sees which app collected what');
  const stored = await adminRequest('GET', `/admin/v1/users/${user.id}`);
  assert.deepEqual(
    stored.phone_numbers.map((p) => [p.value, p.verified, p.primary]),
    [[NUMBER, true, true]],
    'the number is on the profile, verified and primary',
  );

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

test('the phone verification page is accessible and refuses a wrong code', async () => {
  const rp = await relyingParty('Profiling delivery', { required_attributes: ['phone_number'] });
  const user = await createUser('phone');
  const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
  await withPage(
    browser,
    'phone verification accessibility',
    async (page) => {
      await page.goto(request.url.href);
      await signIn(page, user);
      await profileForm(page);
      const mark = await newestSmsFile();
      await field(page, profileUi.phone).fill(NUMBER);
      await page.getByRole('button', { name: profileUi.submit, exact: true }).click();
      await page.getByRole('heading', { name: profileUi.phoneTitle, exact: true }).waitFor({ state: 'visible' });
      await auditAccessibility(page, 'phone verification');
      const code = codeInSms(await waitForSms(NUMBER, { after: mark }));
      const wrong = code === '000000' ? '111111' : '000000';
      await field(page, profileUi.code).fill(wrong);
      await page.getByRole('button', { name: profileUi.continue, exact: true }).click();
      await page.getByRole('alert').waitFor({ state: 'visible' });
      assert.equal(await field(page, profileUi.code).getAttribute('aria-invalid'), 'true');
      await auditAccessibility(page, 'phone verification with an error');
      await field(page, profileUi.code).fill(code);
      await page.getByRole('button', { name: profileUi.continue, exact: true }).click();
      const callback = await rp.rp.waitFor('/callback');
      const tokens = await exchange(rp, callback, request);
      assert.equal(tokens.claims().phone_number, NUMBER);
      assert.equal(tokens.claims().phone_number_verified, true);
    },
    { bypassCSP: true },
  );
});
