// The OpenID provider make smoke runs on 127.0.0.1: panva's oidc-provider (pinned in
// requirements/oidc-provider), configured from one JSON document in OIDC_SMOKE_CONFIG:
//   {port, clients: [...oidc-provider client metadata], accounts: {id: {email, name, groups}}, groupsClaim}
// Login uses the library's own development interactions (a login form that accepts the account id),
// so a test signs in as a named account; everything else (codes, tokens, JWKS, discovery) is the library's.
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_SMOKE_CONFIG);
const issuer = `http://127.0.0.1:${config.port}`;
const groupsClaim = config.groupsClaim;

const provider = new Provider(issuer, {
  clients: config.clients,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username', groupsClaim] },
  // The relying party reads profile, e-mail and groups from the ID token (as Cognito and Entra put them there).
  conformIdTokenClaims: false,
  pkce: { required: () => false },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [config.cookieKey] },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: true, name: account.name,
                 preferred_username: id, [groupsClaim]: account.groups };
      },
    };
  },
});
provider.listen(config.port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
