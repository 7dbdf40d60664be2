// Tessera end to end, as a relying party sees it: openid-client v6 as the RP library, Debian's
// Chromium (through playwright-core) as the user's browser, the hosted login pages driven by
// their accessible labels and button names.
//
// Needs E2E_ISSUER and E2E_ADMIN_TOKEN (see ../README.md); run.sh sets them. Each test
// registers its own clients and users through the admin API, so tests are independent.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';

import {
  authorizationRequest,
  client,
  createUser,
  emailField,
  env,
  launchBrowser,
  newRelyingParty,
  redirectOrPage,
  signIn,
  signInThroughBrowser,
  ui,
  withPage,
  step,
} from './support.mjs';

const require = createRequire(import.meta.url);

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

/** A relying party that is closed when the suite ends. */
async function relyingParty(name, options) {
  const rp = await newRelyingParty(name, options);
  cleanups.push(rp.close);
  return rp;
}


/** Asserts that an openid-client call fails with an OAuth error response `error`. */
async function rejectsWithOAuthError(promise, error, why) {
  await assert.rejects(
    promise,
    (err) => {
      assert.ok(
        err instanceof client.ResponseBodyError,
        `${why}: expected an OAuth error response "${error}", got ${err?.name}: ${err?.message}`,
      );
      assert.equal(err.error, error, `${why}: error code`);
      return true;
    },
    why,
  );
}

function assertJwtShape(token, what) {
  assert.equal(typeof token, 'string', `${what} is a string`);
  assert.equal(token.split('.').length, 3, `${what} is a JWS in compact serialization`);
}

// ---------------------------------------------------------------------------------------------

test('discovery document: endpoints, PKCE S256, RFC 9207 iss, RS256, no implicit or password grant', async () => {
  const response = await fetch(`${env.issuer}/.well-known/openid-configuration`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const meta = await response.json();

  assert.equal(meta.issuer, env.issuer, 'issuer is the public URL');
  const origin = new URL(env.issuer).origin;
  for (const endpoint of [
    'authorization_endpoint',
    'token_endpoint',
    'userinfo_endpoint',
    'jwks_uri',
    'introspection_endpoint',
    'revocation_endpoint',
    'end_session_endpoint',
  ]) {
    assert.equal(typeof meta[endpoint], 'string', `${endpoint} is published`);
    assert.equal(new URL(meta[endpoint]).origin, origin, `${endpoint} is served by the issuer`);
  }
  assert.ok(meta.response_types_supported.includes('code'), 'response type code');
  for (const responseType of meta.response_types_supported) {
    assert.ok(!responseType.split(' ').includes('token'), `no implicit response type (${responseType})`);
  }
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256'], 'PKCE S256 only, never plain');
  assert.equal(meta.authorization_response_iss_parameter_supported, true, 'RFC 9207');
  assert.ok(meta.id_token_signing_alg_values_supported.includes('RS256'), 'RS256 for ID tokens');
  assert.ok(!meta.id_token_signing_alg_values_supported.includes('none'), 'never alg none');
  assert.ok(meta.subject_types_supported.includes('public') || meta.subject_types_supported.includes('pairwise'));
  if (meta.grant_types_supported) {
    for (const grant of ['authorization_code', 'refresh_token', 'client_credentials']) {
      assert.ok(meta.grant_types_supported.includes(grant), `grant ${grant} is supported`);
    }
    assert.ok(!meta.grant_types_supported.includes('password'), 'no password grant');
    assert.ok(!meta.grant_types_supported.includes('implicit'), 'no implicit grant');
  }

  const jwks = await (await fetch(meta.jwks_uri)).json();
  assert.ok(Array.isArray(jwks.keys) && jwks.keys.length > 0, 'the JWKS has keys');
  assert.ok(jwks.keys.some((k) => k.kty === 'RSA'), 'an RSA key for RS256');
  for (const key of jwks.keys) {
    assert.equal(typeof key.kid, 'string', 'every key has a kid');
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
      assert.ok(!(secret in key), `no private or symmetric key material ("${secret}") in the JWKS`);
    }
  }
});

test('confidential client: code flow with PKCE, userinfo, refresh rotation, introspection, revocation, RP-initiated logout', async () => {
  const user = await createUser('alice');
  const rp = await relyingParty('Node RP');
  const { config } = rp;
  const issuer = config.serverMetadata().issuer;

  await withPage(browser, 'confidential client', async (page) => {
    const request = await authorizationRequest(config, {
      redirectUri: rp.redirectUri,
      scope: 'openid profile email offline_access',
    });

    const callback = await step('sign in through the hosted pages', () =>
      signInThroughBrowser(page, rp.rp, request.url, user),
    );
    await step('authorization response carries code, state and iss', () => {
      assert.equal(callback.searchParams.get('error'), null, `no error: ${callback.searchParams.get('error_description')}`);
      assert.ok(callback.searchParams.get('code'), 'a code');
      assert.equal(callback.searchParams.get('state'), request.state);
      assert.equal(callback.searchParams.get('iss'), issuer, 'RFC 9207 iss');
    });

    // openid-client checks iss, state, the PKCE exchange, and the ID token's signature (JWKS),
    // iss, aud, exp, iat and nonce.
    const tokens = await step('code exchange', () =>
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
        idTokenExpected: true,
      }),
    );
    const claims = tokens.claims();
    await step('tokens and ID token claims', () => {
      assert.equal(tokens.token_type, 'bearer');
      assert.ok(tokens.access_token);
      assert.ok(tokens.expires_in > 0, 'expires_in');
      assert.ok(tokens.refresh_token, 'a refresh token (scope offline_access, grant refresh_token)');
      assertJwtShape(tokens.access_token, 'the access token (RFC 9068)');
      assert.equal(typeof claims.sub, 'string');
      assert.ok(claims.sub.length > 0);
      assert.equal(claims.email, user.email);
      assert.equal(claims.given_name, user.given_name);
      assert.equal(claims.family_name, user.family_name);
      assert.equal(claims.iss, issuer);
      assert.ok([claims.aud].flat().includes(rp.clientId), 'aud holds the client_id');
      assert.equal(claims.nonce, request.nonce);
    });

    await step('userinfo', async () => {
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      assert.equal(userinfo.sub, claims.sub);
      assert.equal(userinfo.email, user.email);
      assert.equal(userinfo.given_name, user.given_name);
      assert.equal(userinfo.family_name, user.family_name);
    });

    await step('introspection of the first access token', async () => {
      const info = await client.tokenIntrospection(config, tokens.access_token, { token_type_hint: 'access_token' });
      assert.equal(info.active, true);
      assert.equal(info.sub, claims.sub);
      if (info.client_id !== undefined) assert.equal(info.client_id, rp.clientId);
    });

    const refreshed = await step('refresh_token grant rotates the refresh token', () =>
      client.refreshTokenGrant(config, tokens.refresh_token),
    );
    await step('rotated tokens', () => {
      assert.ok(refreshed.access_token);
      assert.notEqual(refreshed.access_token, tokens.access_token);
      assert.ok(refreshed.refresh_token, 'a new refresh token');
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token is rotated');
      if (refreshed.id_token) assert.equal(refreshed.claims().sub, claims.sub);
    });

    await step('introspection: the new tokens are active', async () => {
      const access = await client.tokenIntrospection(config, refreshed.access_token, { token_type_hint: 'access_token' });
      assert.equal(access.active, true);
      assert.equal(access.sub, claims.sub);
      const refresh = await client.tokenIntrospection(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
      assert.equal(refresh.active, true);
    });

    await step('revocation (RFC 7009) makes the access token inactive', async () => {
      await client.tokenRevocation(config, refreshed.access_token, { token_type_hint: 'access_token' });
      const info = await client.tokenIntrospection(config, refreshed.access_token, { token_type_hint: 'access_token' });
      assert.equal(info.active, false);
    });

    await step('the rotated-out refresh token is refused', () =>
      rejectsWithOAuthError(
        client.refreshTokenGrant(config, tokens.refresh_token),
        'invalid_grant',
        'reusing the old refresh token',
      ),
    );
    await step('reuse revoked the whole family (SECURITY A30)', () =>
      rejectsWithOAuthError(
        client.refreshTokenGrant(config, refreshed.refresh_token),
        'invalid_grant',
        'the newest refresh token after a reuse',
      ),
    );

    await step('RP-initiated logout redirects to post_logout_redirect_uri with state', async () => {
      const logoutState = client.randomState();
      const endSession = client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: rp.postLogoutRedirectUri,
        state: logoutState,
      });
      await page.goto(endSession.href);
      const confirm = page.getByRole('button', { name: 'Sign out', exact: true });
      let outcome = await redirectOrPage(rp.rp, '/logged-out', confirm);
      if (outcome.kind === 'page') {
        await confirm.click();
        outcome = { kind: 'redirect', url: await rp.rp.waitFor('/logged-out') };
      }
      assert.equal(outcome.url.searchParams.get('state'), logoutState);
    });

    await step('after logout, a new authorization request shows the login page', async () => {
      const again = await authorizationRequest(config, { redirectUri: rp.redirectUri });
      await page.goto(again.url.href);
      const outcome = await redirectOrPage(rp.rp, '/callback', emailField(page));
      assert.equal(outcome.kind, 'page', 'the session ended: the login page is shown, no code is issued');
    });
  });
});

test('SSO: a second client of the same tenant gets a code without a login page', async () => {
  const user = await createUser('sso');
  const first = await relyingParty('Node RP one');
  const second = await relyingParty('Node RP two');

  await withPage(browser, 'SSO', async (page) => {
    const request1 = await authorizationRequest(first.config, { redirectUri: first.redirectUri });
    const callback1 = await step('sign in through RP 1', () =>
      signInThroughBrowser(page, first.rp, request1.url, user),
    );
    const tokens1 = await step('code exchange at RP 1', () =>
      client.authorizationCodeGrant(first.config, callback1, {
        pkceCodeVerifier: request1.codeVerifier,
        expectedState: request1.state,
        expectedNonce: request1.nonce,
        idTokenExpected: true,
      }),
    );

    const request2 = await authorizationRequest(second.config, { redirectUri: second.redirectUri });
    const callback2 = await step('RP 2 reaches its callback without a login page', async () => {
      await page.goto(request2.url.href);
      const outcome = await redirectOrPage(second.rp, '/callback', emailField(page));
      assert.equal(outcome.kind, 'redirect', 'single sign-on: no login page for RP 2');
      return outcome.url;
    });
    const tokens2 = await step('code exchange at RP 2', () =>
      client.authorizationCodeGrant(second.config, callback2, {
        pkceCodeVerifier: request2.codeVerifier,
        expectedState: request2.state,
        expectedNonce: request2.nonce,
        idTokenExpected: true,
      }),
    );

    const claims1 = tokens1.claims();
    const claims2 = tokens2.claims();
    assert.ok([claims2.aud].flat().includes(second.clientId));
    assert.equal(claims2.email, user.email);
    if (!second.config.serverMetadata().subject_types_supported?.includes('pairwise')) {
      assert.equal(claims2.sub, claims1.sub, 'public subject identifiers: the same sub for both clients');
    }
    if (claims1.auth_time !== undefined && claims2.auth_time !== undefined) {
      assert.equal(claims2.auth_time, claims1.auth_time, 'the same authentication event (no re-authentication)');
    }
  });
});

test('public client: token_endpoint_auth_method none with PKCE S256; no PKCE is refused', async () => {
  const user = await createUser('public');
  const rp = await relyingParty('Node public RP', {
    auth: 'none',
    grantTypes: ['authorization_code'],
    scope: 'openid profile email',
  });
  assert.equal(rp.clientSecret, undefined, 'a public client gets no client_secret');

  await withPage(browser, 'public client', async (page) => {
    const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri, response_mode: 'query' });
    const callback = await step('sign in', () => signInThroughBrowser(page, rp.rp, request.url, user));
    const tokens = await step('code exchange without a client secret', () =>
      client.authorizationCodeGrant(rp.config, callback, {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
        idTokenExpected: true,
      }),
    );
    const claims = tokens.claims();
    assert.equal(claims.email, user.email);
    assert.ok([claims.aud].flat().includes(rp.clientId));
    const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
    assert.equal(userinfo.email, user.email);

    await step('an authorization request without code_challenge is refused (SECURITY A15)', async () => {
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(rp.config, {
        redirect_uri: rp.redirectUri,
        scope: 'openid',
        state,
        nonce: client.randomNonce(),
      });
      await page.goto(url.href);
      const response = await rp.rp.waitFor('/callback');
      assert.equal(response.searchParams.get('code'), null, 'no code without PKCE');
      assert.equal(response.searchParams.get('error'), 'invalid_request');
      assert.equal(response.searchParams.get('state'), state);
      assert.equal(response.searchParams.get('iss'), rp.config.serverMetadata().issuer);
    });
  });
});

test('ui_locales=de: the login pages are German (E-Mail, Weiter, Passwort, Anmelden)', async () => {
  const user = await createUser('de');
  const rp = await relyingParty('Node RP de');

  await withPage(browser, 'ui_locales de', async (page) => {
    const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri, ui_locales: 'de' });
    await page.goto(request.url.href);
    await emailField(page, 'de').waitFor({ state: 'visible' });
    assert.equal(await emailField(page, 'en').count(), 0, 'no English "Email" label on the German page');
    assert.equal(await page.getByRole('button', { name: ui.de.continue, exact: true }).count(), 1, '"Weiter"');

    // The whole journey stays German and still completes.
    await signIn(page, user, 'de');
    const callback = await rp.rp.waitFor('/callback');
    const tokens = await client.authorizationCodeGrant(rp.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
    });
    assert.equal(tokens.claims().email, user.email);
  });
});

test('third-party client: the consent page, Allow, issues a code', async () => {
  const user = await createUser('consent');
  const rp = await relyingParty('Node third-party RP', { firstParty: false });

  await withPage(browser, 'consent allow', async (page) => {
    const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
    const callback = await signInThroughBrowser(page, rp.rp, request.url, user, { consent: 'allow' });
    const tokens = await client.authorizationCodeGrant(rp.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
    });
    assert.equal(tokens.claims().email, user.email);
  });
});

test('third-party client: the consent page, Deny, answers access_denied with state and iss', async () => {
  const user = await createUser('deny');
  const rp = await relyingParty('Node third-party RP deny', { firstParty: false });

  await withPage(browser, 'consent deny', async (page) => {
    const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
    const callback = await signInThroughBrowser(page, rp.rp, request.url, user, { consent: 'deny' });
    assert.equal(callback.searchParams.get('code'), null);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    // openid-client validates iss and state of the error response before it reports the error.
    await assert.rejects(
      client.authorizationCodeGrant(rp.config, callback, {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      }),
      (err) => err instanceof client.AuthorizationResponseError && err.error === 'access_denied',
    );
  });
});

/**
 * The hosted pages against axe-core's WCAG 2.1 A/AA rules, as a browser renders them. The
 * pages forbid foreign scripts (CSP), so this one context bypasses CSP to inject axe.
 */
test('accessibility: the sign-in, password, consent and logout pages have no axe-core WCAG 2.1 AA violations', async () => {
  const user = await createUser('a11y');
  const rp = await relyingParty('Node a11y RP', { firstParty: false });
  const axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  const context = await browser.newContext({ locale: 'en-US', bypassCSP: true });
  const page = await context.newPage();
  const audit = async (name) => {
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
    );
    const problems = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    assert.deepEqual(problems, [], `${name} page: ${problems.join('; ')}`);
  };
  try {
    const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
    await page.goto(request.url.href);
    await emailField(page).waitFor({ state: 'visible' });
    await audit('email');
    await emailField(page).fill(user.email);
    await page.getByRole('button', { name: ui.en.continue, exact: true }).click();
    const password = page.getByLabel(ui.en.password, { exact: true });
    await password.waitFor({ state: 'visible' });
    await audit('password');
    await password.fill('not the password at all');
    await page.getByRole('button', { name: ui.en.signIn, exact: true }).click();
    await page.getByRole('alert').waitFor({ state: 'visible' });
    await audit('password with error');
    await page.getByLabel(ui.en.password, { exact: true }).fill(user.password);
    await page.getByRole('button', { name: ui.en.signIn, exact: true }).click();
    await page.getByRole('button', { name: 'Allow', exact: true }).waitFor({ state: 'visible' });
    await audit('consent');
    await page.goto(new URL('/oauth2/logout', env.issuer).href);
    await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor({ state: 'visible' });
    await audit('logout');
  } finally {
    await context.close();
  }
});
