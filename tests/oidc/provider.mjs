// A real OpenID Connect provider for the tests: npm's certified `oidc-provider` on 127.0.0.1.
//
// Reads its setup as JSON from the OIDC_TEST_SETUP environment variable:
//   {"client_id": ..., "client_secret": ..., "redirect_uris": [...], "accounts": {"login": {claims...}}}
// listens on a free port and prints "issuer <url>" once it serves. Sign-in uses the package's
// development interactions (a login form whose `login` field names one of the accounts); the test
// client's consent is granted up front, as for a first-party application.
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const modulePath = require.resolve('oidc-provider', { paths: [process.env.OIDC_PROVIDER_MODULES || process.cwd()] });
const { default: Provider } = await import(modulePath);

const setup = JSON.parse(process.env.OIDC_TEST_SETUP);
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: setup.client_id,
    client_secret: setup.client_secret,
    redirect_uris: setup.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  // Every confidential client must send a PKCE challenge too: the tests prove the app does.
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified', 'xms_edov'],
    profile: ['name', 'groups', 'clinic'],
  },
  // The claims go into the ID token, as the app reads them from there.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const claims = setup.accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  ttl: { IdToken: 300, AccessToken: 300, Interaction: 600, Session: 3600, Grant: 3600 },
});
server.on('request', provider.callback());
process.stdout.write(`issuer ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
