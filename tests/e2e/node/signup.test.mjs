// Self sign-up end to end, as a person and a relying party see it: openid-client asks for
// `prompt=create`, Debian's Chromium fills the hosted sign-up pages by their accessible labels,
// the code arrives by mail at the SMTP sink of the run (E2E_MAILDIR, see ../README.md), and the
// browser lands at the client with a code that openid-client exchanges.
//
// Everything happens in a tenant of its own, made through the admin API with sign-up turned on
// (the default tenant, and so the other tests, keep sign-up off). Needs E2E_ISSUER,
// E2E_ADMIN_TOKEN and E2E_MAILDIR; run.sh sets them.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';

import { codeIn, maildir, mailsTo, waitForMail } from './mail.mjs';
import {
  adminRequest,
  auditAccessibility,
  authorizationRequest,
  env,
  field,
  launchBrowser,
  newRelyingParty,
  signInThroughBrowser,
  tenantPrefix,
  unique,
  withPage,
  step,
  exchange,
} from './support.mjs';

/** The texts of the sign-up pages (English), found by accessible label and role. */
const signupUi = {
  title: 'Create your account',
  email: 'Email',
  password: 'Password',
  givenName: 'Given name',
  familyName: 'Family name',
  terms: /terms of service/,
  privacy: /privacy notice/,
  submit: 'Create account',
  link: 'Create an account', // on the sign-in page
  codeTitle: 'Confirm your email',
  code: 'Code',
  continue: 'Continue',
  resend: 'Send a new code',
  confirm: 'Confirm my email', // the page the mailed link opens
};

const TERMS = { url: 'https://terms.example/tos', version: '2026-09' };
const PRIVACY = { url: 'https://terms.example/privacy', version: '3' };

/** @type {import('playwright-core').Browser} */
let browser;
/** The slug of this file's tenant, which has sign-up on. */
let tenant;
const cleanups = [];

before(async () => {
  maildir(); // fails early, and clearly, without E2E_MAILDIR
  browser = await launchBrowser();
  tenant = await tenantWithSignUp();
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await browser?.close();
});

/**
 * A new tenant, then sign-up turned on through the admin API the way an administrator would:
 * read the tenant, and write back all of its settings with only `signup` changed (PATCH
 * replaces the whole settings object).
 */
async function tenantWithSignUp() {
  const slug = unique('signup').toLowerCase();
  const created = await adminRequest(
    'POST',
    '/admin/v1/tenants',
    { slug, display_name: `Sign-up e2e ${env.runId}` },
    { expect: 201 },
  );
  assert.equal(created.slug, slug);
  const current = await adminRequest('GET', `/admin/v1/tenants/${slug}`);
  assert.notEqual(current.settings?.signup?.enabled, true, 'a new tenant has sign-up off');
  const settings = {
    ...current.settings,
    signup: {
      ...current.settings.signup,
      enabled: true,
      ask_for_name: true,
      allowed_email_domains: [],
      terms: TERMS,
      privacy: PRIVACY,
    },
  };
  const patched = await adminRequest('PATCH', `/admin/v1/tenants/${slug}`, { settings });
  assert.equal(patched.settings.signup.enabled, true, 'sign-up is on');
  assert.deepEqual(patched.settings.signup.terms, TERMS);
  for (const [key, value] of Object.entries(current.settings)) {
    if (key !== 'signup') assert.deepEqual(patched.settings[key], value, `settings.${key} is unchanged`);
  }
  return slug;
}

/** A relying party of this file's tenant, closed when the suite ends. */
async function relyingParty(name) {
  const rp = await newRelyingParty(name, { tenant });
  cleanups.push(rp.close);
  return rp;
}


function newEmail(label) {
  return `${unique(`${label}.node`)}@example.com`.toLowerCase();
}

function newPassword() {
  // At least 15 characters, not common, without the name or the email in it.
  return `signup passphrase ${randomBytes(18).toString('base64url')}`;
}

/** The tenant's user with this primary email, through the admin API. */
async function userByEmail(email) {
  const found = await adminRequest('GET', `${tenantPrefix(tenant)}/admin/v1/users?email=${encodeURIComponent(email)}`);
  assert.equal(found.items.length, 1, `exactly one user with the email ${email}: ${JSON.stringify(found.items)}`);
  return found.items[0];
}

/** Waits until the sign-up form is shown. */
async function signUpForm(page) {
  await page.getByRole('heading', { name: signupUi.title, exact: true }).waitFor({ state: 'visible' });
  await field(page, signupUi.email).waitFor({ state: 'visible' });
}

/** Fills the sign-up form (the names only when given) and submits it. */
async function fillSignUp(page, { email, password, givenName, familyName, accept = true }) {
  await field(page, signupUi.email).fill(email);
  if (givenName !== undefined) await field(page, signupUi.givenName).fill(givenName);
  if (familyName !== undefined) await field(page, signupUi.familyName).fill(familyName);
  await field(page, signupUi.password).fill(password);
  if (accept) {
    await page.getByRole('checkbox', { name: signupUi.terms }).check();
    await page.getByRole('checkbox', { name: signupUi.privacy }).check();
  }
  await page.getByRole('button', { name: signupUi.submit, exact: true }).click();
}

/** Waits until the page that asks for the code is shown, for `email`. */
async function codePage(page, email) {
  await page.getByRole('heading', { name: signupUi.codeTitle, exact: true }).waitFor({ state: 'visible' });
  await field(page, signupUi.code).waitFor({ state: 'visible' });
  const shown = (await page.locator('body').innerText()).toLowerCase();
  assert.ok(shown.includes(email.toLowerCase()), `the code page names the address ${email}`);
}

async function enterCode(page, code) {
  await field(page, signupUi.code).fill(code);
  await page.getByRole('button', { name: signupUi.continue, exact: true }).click();
}

/** The sign-up mail: multipart/alternative, automatic, to `email`, the code in both parts. */
function checkCodeMail(mail, email) {
  assert.equal(mail.contentType, 'multipart/alternative', 'a text and an HTML part');
  assert.ok(mail.to.includes(email.toLowerCase()), `To: names ${email} (${mail.to})`);
  assert.ok(mail.header('from'), 'a From header');
  assert.ok(mail.subject.trim().length > 0, 'a subject');
  assert.equal(mail.header('auto-submitted'), 'auto-generated', 'Auto-Submitted: auto-generated (RFC 3834)');
  assert.ok(mail.html !== undefined, 'an HTML part');
  const code = codeIn(mail);
  assert.ok(mail.html.includes(code), 'the HTML part has the same code');
  return code;
}

/** The sign-up link of a mail's text part: an URL of this tenant's `/signup/confirm`, alone on a line. */
function linkIn(mail) {
  const links = [...mail.text.matchAll(/^[ \t]*(https?:\/\/\S+)[ \t]*$/gm)]
    .map((m) => new URL(m[1]))
    .filter((url) => url.pathname.endsWith('/signup/confirm'));
  assert.equal(links.length, 1, `one sign-up link in the text part of ${mail.file}:\n${mail.text}`);
  return links[0];
}


/** A field's error, as assistive technology gets it: aria-invalid and the described-by texts. */
async function fieldError(locator) {
  const invalid = await locator.getAttribute('aria-invalid');
  const ids = ((await locator.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
  const page = locator.page();
  const texts = [];
  for (const id of ids) texts.push((await page.locator(`[id="${id}"]`).innerText()).trim());
  return { invalid, description: texts.join(' ') };
}

// ---------------------------------------------------------------------------------------------

test('sign-up with prompt=create: form, code by mail, a new code, back at the client; the pages pass axe-core', async () => {
  const rp = await relyingParty('Node sign-up RP');
  const email = newEmail('signup');
  const password = newPassword();
  const issuer = rp.config.serverMetadata().issuer;
  assert.equal(issuer, `${env.issuer}/t/${tenant}`, "the tenant's own issuer");

  // bypassCSP: axe-core is injected into the pages, which allow no foreign script.
  await withPage(
    browser,
    'sign-up prompt=create',
    async (page) => {
      const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri, prompt: 'create' });

      const before = await step('prompt=create opens the sign-up form', async () => {
        await page.goto(request.url.href);
        await signUpForm(page);
        assert.equal(new URL(page.url()).pathname, `/t/${tenant}/signup`);
        await auditAccessibility(page, 'sign-up form');
        return fieldError(field(page, signupUi.password));
      });

      await step('a too short password is refused, and the error is tied to the field', async () => {
        await fillSignUp(page, { email, password: 'too short', givenName: 'Ada', familyName: 'Lovelace' });
        await signUpForm(page);
        const passwordField = field(page, signupUi.password);
        const error = await fieldError(passwordField);
        assert.notEqual(before.invalid, 'true', 'no error before the form was sent');
        assert.equal(error.invalid, 'true', 'the password field is aria-invalid');
        const added = error.description.replace(before.description, '').trim();
        assert.match(added, /15 characters/, `the password's description names the error (it is "${error.description}")`);
        assert.equal(await field(page, signupUi.email).inputValue(), email, 'the email is kept');
        assert.equal(await field(page, signupUi.givenName).inputValue(), 'Ada', 'the given name is kept');
        assert.equal(await passwordField.inputValue(), '', 'the password is never sent back');
        assert.ok(await page.getByRole('checkbox', { name: signupUi.terms }).isChecked(), 'the terms stay ticked');
        assert.equal((await mailsTo(email)).length, 0, 'no mail for a refused form');
        await auditAccessibility(page, 'sign-up form with an error');
      });

      await step('the corrected form leads to the code page', async () => {
        await fillSignUp(page, { email, password, givenName: 'Ada', familyName: 'Lovelace' });
        await codePage(page, email);
        await auditAccessibility(page, 'code');
      });

      const first = await step('the mail with the code arrives at the SMTP sink', () => waitForMail(email));
      const firstCode = await step('the first mail', () => checkCodeMail(first, email));

      const second = await step('"Send a new code" sends a second mail', async () => {
        await page.getByRole('button', { name: signupUi.resend, exact: true }).click();
        await page.getByRole('status').waitFor({ state: 'visible' });
        await codePage(page, email);
        return waitForMail(email, { after: first.file });
      });
      const code = await step('the second mail', () => checkCodeMail(second, email));

      if (code !== firstCode) {
        await step('the replaced code is refused with an error on the code field', async () => {
          await enterCode(page, firstCode);
          await page.getByRole('alert').waitFor({ state: 'visible' });
          assert.equal((await fieldError(field(page, signupUi.code))).invalid, 'true', 'the code field is aria-invalid');
          await auditAccessibility(page, 'code with an error');
        });
      }

      const callback = await step('the new code lands at the client', async () => {
        await enterCode(page, code);
        return rp.rp.waitFor('/callback');
      });
      assert.equal(callback.searchParams.get('iss'), issuer, 'RFC 9207 iss');
      const tokens = await step('code exchange', () => exchange(rp, callback, request));
      const claims = tokens.claims();
      await step('ID token: the new, verified address and the names from the form', () => {
        assert.equal(claims.iss, issuer);
        assert.equal(claims.email, email);
        assert.equal(claims.email_verified, true, 'email_verified: the code proved the address');
        assert.equal(claims.given_name, 'Ada');
        assert.equal(claims.family_name, 'Lovelace');
      });
      await step('the admin API shows an active user with a verified address', async () => {
        const user = await userByEmail(email);
        assert.equal(claims.sub, user.id, 'sub is the user id');
        assert.equal(user.status, 'active');
        assert.equal(user.has_password, true);
        assert.equal(user.emails[0].verified, true);
      });

      await step('the new password signs in, in a fresh browser', () =>
        withPage(browser, 'sign-up then sign in', async (fresh) => {
          const again = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
          const back = await signInThroughBrowser(fresh, rp.rp, again.url, { email, password });
          const signedIn = await exchange(rp, back, again);
          assert.equal(signedIn.claims().sub, claims.sub);
        }),
      );
    },
    { bypassCSP: true },
  );
});

test('a light account made by SCIM is claimed by signing up with its email: same id, its name kept', async () => {
  const rp = await relyingParty('Node claim RP');
  const email = newEmail('claim');
  const userName = unique('grace');
  const password = newPassword();
  const prefix = tenantPrefix(tenant);

  const light = await step('SCIM creates a light account', async () => {
    const token = await adminRequest(
      'POST',
      `${prefix}/admin/v1/api-tokens`,
      { name: `sign-up e2e ${env.runId}`, scopes: ['scim'] },
      { expect: 201 },
    );
    assert.deepEqual(token.scopes, ['scim']);
    const response = await fetch(`${env.issuer}${prefix}/scim/v2/Users`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token.secret}`,
        'content-type': 'application/scim+json',
        accept: 'application/scim+json',
      },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName,
        name: { givenName: 'Grace', familyName: 'Hopper' },
        emails: [{ value: email, type: 'work', primary: true }],
      }),
      signal: AbortSignal.timeout(env.timeoutMs),
    });
    const body = await response.text();
    assert.equal(response.status, 201, `POST ${prefix}/scim/v2/Users: ${body.slice(0, 2000)}`);
    const created = JSON.parse(body);
    assert.equal(typeof created.id, 'string');
    const user = await adminRequest('GET', `${prefix}/admin/v1/users/${created.id}`);
    assert.equal(user.status, 'light', 'a user without a password is light');
    assert.equal(user.has_password, false);
    return created;
  });

  await withPage(browser, 'claim light account', async (page) => {
    const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri, prompt: 'create' });
    // The address as a person might type it: another case than SCIM stored.
    const typed = email.replace(/^claim/, 'Claim').replace('@example.com', '@Example.com');
    await step('sign up with the light account\'s address, another given name, no family name', async () => {
      await page.goto(request.url.href);
      await signUpForm(page);
      await fillSignUp(page, { email: typed, password, givenName: 'Mallory' });
      await codePage(page, email);
    });
    const mail = await step('the code arrives', () => waitForMail(email));
    const code = checkCodeMail(mail, email);
    const callback = await step('the code lands at the client', async () => {
      await enterCode(page, code);
      return rp.rp.waitFor('/callback');
    });
    const claims = (await step('code exchange', () => exchange(rp, callback, request))).claims();

    await step('the ID token is the SCIM user\'s, with its name', () => {
      assert.equal(claims.sub, light.id, 'sub is the SCIM user\'s id: the light account was claimed, not copied');
      assert.equal(claims.email.toLowerCase(), email);
      assert.equal(claims.email_verified, true);
      assert.equal(claims.given_name, 'Grace', 'the account\'s given name is kept, not the form\'s');
      assert.equal(claims.family_name, 'Hopper');
    });
    await step('the admin API shows the same user, active, attributes kept', async () => {
      const user = await adminRequest('GET', `${prefix}/admin/v1/users/${light.id}`);
      assert.equal(user.status, 'active');
      assert.equal(user.has_password, true);
      assert.equal(user.given_name, 'Grace');
      assert.equal(user.family_name, 'Hopper');
      assert.equal(user.username, userName, 'the SCIM userName is kept');
      assert.equal(user.emails.length, 1);
      assert.equal(user.emails[0].value.toLowerCase(), email);
      assert.equal(user.emails[0].verified, true);
      assert.equal((await userByEmail(email)).id, light.id, 'no second user with that address');
    });
  });
});

test('the mailed link: a page with one button that spends nothing until pressed, then back at the client; it passes axe-core', async () => {
  const rp = await relyingParty('Node sign-up link RP');
  const email = newEmail('link');
  const password = newPassword();

  await withPage(
    browser,
    'sign-up link',
    async (page) => {
      const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri, prompt: 'create' });
      await step('sign up', async () => {
        await page.goto(request.url.href);
        await signUpForm(page);
        await fillSignUp(page, { email, password, givenName: 'Linda', familyName: 'Link' });
        await codePage(page, email);
      });
      const mail = await step('the mail arrives', () => waitForMail(email));
      checkCodeMail(mail, email);
      const link = linkIn(mail);
      assert.equal(link.origin, new URL(env.issuer).origin, "the link is on the issuer's origin");
      assert.equal(link.pathname, `/t/${tenant}/signup/confirm`, "the link is the tenant's");

      // The person opens the link from the mail in the browser that signed up. (What another
      // browser gets is the server's choice, and not checked here.)
      await step('opening the link shows one button and spends nothing', async () => {
        for (let i = 1; i <= 2; i += 1) {
          const response = await page.goto(link.href);
          assert.equal(response?.status(), 200, `opening the link (${i}) answers 200`);
          await page.getByRole('heading', { name: signupUi.codeTitle, exact: true }).waitFor({ state: 'visible' });
          await page.getByRole('button', { name: signupUi.confirm, exact: true }).waitFor({ state: 'visible' });
          assert.equal(await page.getByRole('button').count(), 1, 'one button');
        }
        await auditAccessibility(page, 'link confirmation');
      });
      const callback = await step('the button finishes the sign-up and continues the authorization request', async () => {
        await page.getByRole('button', { name: signupUi.confirm, exact: true }).click();
        return rp.rp.waitFor('/callback');
      });
      const claims = (await step('code exchange', () => exchange(rp, callback, request))).claims();
      assert.equal(claims.email, email);
      assert.equal(claims.email_verified, true, 'the link proved the address');
      assert.equal((await userByEmail(email)).status, 'active');

      await step('the used link says to start again', async () => {
        const response = await page.goto(link.href);
        assert.equal(response?.status(), 400, 'a used link answers 400');
        assert.equal(await page.getByRole('button', { name: signupUi.confirm, exact: true }).count(), 0, 'no button');
      });
    },
    { bypassCSP: true },
  );
});

test('without JavaScript: sign-in page → "Create an account" → form → code → back at the client', async () => {
  const rp = await relyingParty('Node no-JS sign-up RP');
  const email = newEmail('nojs');
  const password = newPassword();

  await withPage(
    browser,
    'sign-up without JavaScript',
    async (page) => {
      await page.goto('data:text/html,<p id=js>off</p><script>document.getElementById("js").textContent = "on"</script>');
      assert.equal(await page.locator('#js').textContent(), 'off', 'JavaScript is off in this browser context');
      const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
      await step('the sign-in page links to the sign-up form', async () => {
        await page.goto(request.url.href);
        await page.getByRole('link', { name: signupUi.link, exact: true }).click();
        await signUpForm(page);
      });
      await step('the form is posted', async () => {
        await fillSignUp(page, { email, password, givenName: 'Plain', familyName: 'Forms' });
        await codePage(page, email);
      });
      const code = checkCodeMail(await step('the code arrives', () => waitForMail(email)), email);
      const callback = await step('the code is posted and the browser lands at the client', async () => {
        await enterCode(page, code);
        return rp.rp.waitFor('/callback');
      });
      const claims = (await step('code exchange', () => exchange(rp, callback, request))).claims();
      assert.equal(claims.email, email);
      assert.equal(claims.email_verified, true);
      assert.equal(claims.given_name, 'Plain');
    },
    { javaScriptEnabled: false },
  );
});
