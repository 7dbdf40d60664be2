// Identity verification end to end: an app registered with `required_verification:
// "substantial"` sends a signed-in customer to the hosted verify page; "Start verification"
// takes Debian's Chromium to a test identity provider (an HTTP server in this file, which
// checks Tessera's start request), whose "Back to the application" link leads to Tessera's
// waiting page. The test then plays the provider's back end: it signs the result with an
// HMAC-SHA256 of node:crypto (the documented `Tessera-Signature: t=…,v1=…`) and posts it to
// the webhook Tessera named. The waiting page refreshes itself — with JavaScript off — and the
// app gets its code; openid-client finds `verified_claims` in the ID token and at userinfo.
// A rejected check says so and offers to try again; axe-core checks the pages.
//
// Everything happens in a tenant of its own, whose provider is this file's. Needs E2E_ISSUER
// and E2E_ADMIN_TOKEN (run.sh sets them), and a server that may reach loopback addresses
// (TESSERA_OUTBOUND_ALLOW_PRIVATE=true), as the provider listens on 127.0.0.1.

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';

import {
  adminRequest,
  auditAccessibility,
  authorizationRequest,
  client,
  env,
  exchange,
  field,
  launchBrowser,
  newRelyingParty,
  step,
  tenantPrefix,
  unique,
  withPage,
} from './support.mjs';

const API_TOKEN = `e2e-idv-token-${randomBytes(8).toString('hex')}`;
const WEBHOOK_SECRET = randomBytes(32).toString('hex');

/** The pages' texts (English), found by accessible name and role. */
const verifyUi = {
  title: 'Verify your identity',
  start: 'Start verification',
  waiting: 'Checking your identity',
  rejected: /could not be verified/,
  tryAgain: 'Try again',
  back: 'Back to the application',
};

/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof startProvider>>} */
let provider;
let tenant;
const cleanups = [];

before(async () => {
  browser = await launchBrowser();
  provider = await startProvider(API_TOKEN);
  cleanups.push(() => provider.close());
  tenant = unique('idv').toLowerCase();
  await adminRequest('POST', '/admin/v1/tenants', { slug: tenant, display_name: 'Bank' }, { expect: 201 });
  const configured = await adminRequest('PUT', `${tenantPrefix(tenant)}/admin/v1/identity-verification`, {
    name: 'Test IdP',
    start_url: provider.url('/v1/sessions'),
    api_token: API_TOKEN,
    webhook_secret: WEBHOOK_SECRET,
    trust_framework: 'eidas',
  });
  assert.equal(configured.api_token_set, true);
  assert.equal(configured.api_token, undefined, 'the token is write-only');
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await browser?.close();
});

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A test identity provider: `POST /v1/sessions` takes Tessera's start request (the bearer token
 * and the JSON body are checked as a provider would) and answers `{id, url}`; `GET /flow/<id>`
 * is the page the browser lands on, with a link back to the session's `return_url`.
 */
async function startProvider(token) {
  const sessions = [];
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url, base);
      const answer = (status, body, type = 'application/json') => {
        response.writeHead(status, { 'content-type': type });
        response.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      if (request.method === 'POST' && url.pathname === '/v1/sessions') {
        if (request.headers.authorization !== `Bearer ${token}`) return answer(401, { error: 'unauthorized' });
        let start;
        try {
          start = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return answer(400, { error: 'not JSON' });
        }
        const ok = ['reference', 'level', 'callback_url', 'return_url'].every((k) => typeof start[k] === 'string')
          && typeof start.user?.sub === 'string';
        if (!ok) return answer(400, { error: 'reference, level, callback_url, return_url and user.sub are required' });
        const id = `idv-${sessions.length + 1}`;
        sessions.push({ id, start, contentType: request.headers['content-type'] });
        return answer(201, { id, url: `${base}/flow/${id}` });
      }
      const flow = url.pathname.match(/^\/flow\/(idv-\d+)$/);
      const session = flow && sessions.find((s) => s.id === flow[1]);
      if (request.method === 'GET' && session) {
        return answer(
          200,
          `<!doctype html><html lang="en"><title>Test identity provider</title><main><h1>Test identity provider</h1>`
            + `<p>Session ${session.id}: show your document to the camera.</p>`
            + `<p><a href="${escapeHtml(session.start.return_url)}">${verifyUi.back}</a></p></main></html>`,
          'text/html; charset=utf-8',
        );
      }
      return answer(404, { error: 'not found' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    url: (path) => `${base}${path}`,
    sessions,
    latest: () => sessions[sessions.length - 1],
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** `Tessera-Signature` for `body` now: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>. */
function signature(body, t = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/** Posts the provider's result for `session` to the webhook Tessera named; returns the response. */
async function deliver(session, status, claims) {
  const body = JSON.stringify({
    reference: session.start.reference,
    status,
    level: 'substantial',
    verified_claims: {
      verification: {
        trust_framework: 'eidas',
        time: new Date().toISOString(),
        evidence: [{ type: 'document', method: 'pipp' }],
      },
      claims,
    },
  });
  return fetch(session.start.callback_url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'tessera-signature': signature(body) },
    body,
    signal: AbortSignal.timeout(env.timeoutMs),
  });
}

async function customer(label) {
  const email = `${unique(`${label}.idv`)}@example.com`.toLowerCase();
  const password = `e2e passphrase ${randomBytes(18).toString('base64url')}`;
  const created = await adminRequest(
    'POST',
    `${tenantPrefix(tenant)}/admin/v1/users`,
    { email, given_name: 'Ada', family_name: 'Lovelace', password },
    { expect: 201 },
  );
  return { id: created.id, email, password };
}

async function relyingParty(name) {
  const rp = await newRelyingParty(name, { tenant, metadata: { required_verification: 'substantial' } });
  cleanups.push(rp.close);
  return rp;
}

async function signIn(page, user) {
  await field(page, 'Email').fill(user.email);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await field(page, 'Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function verifyPage(page) {
  await page.getByRole('heading', { name: verifyUi.title, exact: true }).waitFor({ state: 'visible' });
}

test('an app that requires substantial: the check at the provider, and the tokens carry verified_claims', async () => {
  const rp = await relyingParty('Verified bank');
  const user = await customer('verified');
  const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
  const verified = { given_name: 'Ada', family_name: 'Lovelace', birthdate: '1815-12-10', nationalities: ['GB'] };

  const callback = await withPage(
    browser,
    'identity verification without JavaScript',
    async (page) => {
      await step('sign in: the verify page names the provider', async () => {
        await page.goto(request.url.href);
        await signIn(page, user);
        await verifyPage(page);
        const text = await page.locator('main').innerText();
        assert.match(text, /Test IdP/);
        assert.match(text, /substantial/);
      });
      const session = await step('start: Tessera asks the provider, the browser goes there', async () => {
        await page.getByRole('button', { name: verifyUi.start, exact: true }).click();
        await page.getByRole('heading', { name: 'Test identity provider' }).waitFor({ state: 'visible' });
        const session = provider.latest();
        assert.equal(session.contentType, 'application/json');
        assert.equal(session.start.level, 'substantial');
        assert.equal(session.start.user.sub, user.id);
        assert.equal(session.start.callback_url, `${env.issuer}/t/${tenant}/identity-verification/webhook`);
        return session;
      });
      await step('back before the result: a page that waits', async () => {
        await page.getByRole('link', { name: verifyUi.back }).click();
        await page.getByRole('heading', { name: verifyUi.waiting }).waitFor({ state: 'visible' });
      });
      return step('the signed result arrives; the page refreshes by itself and the app gets its code', async () => {
        const answer = await deliver(session, 'verified', verified);
        assert.equal(answer.status, 200, await answer.text());
        const replay = await deliver(session, 'verified', verified);
        assert.equal(replay.status, 409, 'a second result for the session changes nothing');
        return rp.rp.waitFor('/callback');
      });
    },
    { javaScriptEnabled: false },
  );

  const tokens = await step('code exchange', () => exchange(rp, callback, request));
  const claims = tokens.claims();
  assert.equal(claims.sub, user.id);
  assert.equal(claims.verified_claims?.verification?.trust_framework, 'eidas');
  assert.deepEqual(claims.verified_claims?.claims, verified, 'verified_claims in the ID token');
  const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
  assert.deepEqual(userinfo.verified_claims?.claims, verified, 'verified_claims at userinfo');

  const discovery = await (await fetch(`${env.issuer}/t/${tenant}/.well-known/openid-configuration`)).json();
  assert.equal(discovery.verified_claims_supported, true);
  assert.deepEqual(discovery.trust_frameworks_supported, ['eidas']);
  const listed = await adminRequest('GET', `${tenantPrefix(tenant)}/admin/v1/users/${user.id}/verifications`);
  assert.equal(listed.items.length, 1);
  assert.equal(listed.items[0].level, 'substantial');
  assert.equal(listed.items[0].provider, 'Test IdP');
});

test('a rejected check says so and offers to try again; the pages are accessible', async () => {
  const rp = await relyingParty('Strict bank');
  const user = await customer('rejected');
  const request = await authorizationRequest(rp.config, { redirectUri: rp.redirectUri });
  await withPage(
    browser,
    'identity verification rejected',
    async (page) => {
      await page.goto(request.url.href);
      await signIn(page, user);
      await verifyPage(page);
      await auditAccessibility(page, 'verify page');
      await page.getByRole('button', { name: verifyUi.start, exact: true }).click();
      await page.getByRole('heading', { name: 'Test identity provider' }).waitFor({ state: 'visible' });
      const answer = await deliver(provider.latest(), 'rejected', {});
      assert.equal(answer.status, 200, await answer.text());
      await page.getByRole('link', { name: verifyUi.back }).click();
      await page.getByText(verifyUi.rejected).waitFor({ state: 'visible' });
      await auditAccessibility(page, 'rejected page');
      await page.getByRole('link', { name: verifyUi.tryAgain, exact: true }).click();
      await verifyPage(page);
      await page.getByRole('button', { name: verifyUi.start, exact: true }).waitFor({ state: 'visible' });
    },
    { bypassCSP: true },
  );
  const listed = await adminRequest('GET', `${tenantPrefix(tenant)}/admin/v1/users/${user.id}/verifications`);
  assert.deepEqual(listed.items, [], 'nothing stored for a rejected check');
});
