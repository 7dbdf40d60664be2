// The comparison peer of bench/oidc/run.sh: panva/oidc-provider configured as Tessera is in
// the benchmark: one confidential client (client_secret_basic; client_credentials,
// authorization_code and refresh_token), JWT access tokens (RFC 9068) signed with the
// algorithm in BENCH_ALG (ES256, EdDSA or RS256), ID tokens with BENCH_ID_TOKEN_ALG (RS256),
// rotating refresh tokens, and the default in-memory adapter.
//
// Environment:
//   PORT                   listen on 127.0.0.1:PORT (default 3000)
//   BENCH_ALG              access token algorithm: ES256 (default), EdDSA or RS256
//   BENCH_ID_TOKEN_ALG     the client's ID token algorithm: RS256 (default, as Tessera's)
//   BENCH_CLIENT_ID        the client's id and secret (defaults below)
//   BENCH_CLIENT_SECRET
//   BENCH_SEED_REFRESH     how many refresh tokens to create at start (default 0), each on a
//                          grant of its own, as a code flow with offline_access would leave;
//   BENCH_SEED_FILE        where they are written, one a line (required with the above)
//
// Prints "ready" on stdout once it listens.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 3000);
const alg = process.env.BENCH_ALG || 'ES256';
const idTokenAlg = process.env.BENCH_ID_TOKEN_ALG || 'RS256';
const clientId = process.env.BENCH_CLIENT_ID || 'bench';
const clientSecret = process.env.BENCH_CLIENT_SECRET || 'bench-secret-0123456789abcdef0123456789';
const seedRefresh = Number(process.env.BENCH_SEED_REFRESH || 0);
const issuer = `http://127.0.0.1:${port}`;
// The resource server the access tokens are for; its tokens are JWTs.
const API = 'urn:tessera-bench:api';
const API_SCOPE = 'api:read';

for (const [name, value] of [['BENCH_ALG', alg], ['BENCH_ID_TOKEN_ALG', idTokenAlg]]) {
  if (!['ES256', 'EdDSA', 'RS256'].includes(value)) {
    throw new Error(`${name} must be ES256, EdDSA or RS256 (got ${value})`);
  }
}

// One signing key per algorithm, made at start, as Tessera makes its own on first start.
function jwk(type, options, keyAlg, kid) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg: keyAlg, use: 'sig', kid };
}
const keys = [
  jwk('rsa', { modulusLength: 2048 }, 'RS256', 'rs256'),
  jwk('ec', { namedCurve: 'P-256' }, 'ES256', 'es256'),
  jwk('ed25519', {}, 'EdDSA', 'eddsa'),
];

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: idTokenAlg,
      grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1:9/cb'],
      scope: `openid profile email offline_access ${API_SCOPE}`,
    },
  ],
  jwks: { keys },
  scopes: ['openid', 'offline_access', 'profile', 'email', API_SCOPE],
  claims: { openid: ['sub'], profile: ['given_name'], email: ['email', 'email_verified'] },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, given_name: 'Bench', email: `${sub}@example.com`, email_verified: true };
      },
    };
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Without a `resource` parameter the client's tokens are for the API.
      defaultResource: async () => API,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => {
        if (resource !== API) throw new Provider.errors.InvalidTarget();
        return {
          scope: API_SCOPE,
          audience: API,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        };
      },
    },
  },
  // Tessera rotates every refresh token; oidc-provider's default rotates confidential
  // clients' tokens only late in their life.
  rotateRefreshToken: true,
  // Tessera's default lifetimes.
  ttl: {
    AccessToken: 300,
    ClientCredentials: 300,
    IdToken: 600,
    RefreshToken: 30 * 24 * 3600,
    Grant: 30 * 24 * 3600,
  },
  cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false;

// Refresh tokens as a code flow with scope "openid offline_access api:read" leaves them.
async function seed(count) {
  const client = await provider.Client.find(clientId);
  const tokens = [];
  for (let i = 0; i < count; i += 1) {
    const accountId = `user-${i}`;
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope('openid offline_access');
    grant.addResourceScope(API, API_SCOPE);
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      accountId,
      client,
      grantId,
      gty: 'authorization_code',
      scope: `openid offline_access ${API_SCOPE}`,
      resource: API,
      authTime: Math.floor(Date.now() / 1000),
      expiresWithSession: false,
      rotations: 0,
    });
    tokens.push(await token.save());
  }
  return tokens;
}

if (seedRefresh > 0) {
  if (!process.env.BENCH_SEED_FILE) throw new Error('BENCH_SEED_REFRESH needs BENCH_SEED_FILE');
  const tokens = await seed(seedRefresh);
  writeFileSync(process.env.BENCH_SEED_FILE, `${tokens.join('\n')}\n`);
}

provider.listen(port, '127.0.0.1', () => {
  console.log('ready');
});
