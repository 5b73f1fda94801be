// The OpenID provider make smoke runs on 127.0.0.1: panva's oidc-provider (pinned in
// requirements/oidc-provider), configured from one JSON document in OIDC_SMOKE_CONFIG:
//   {port, clients: [...oidc-provider client metadata], accounts: {id: {email, name, groups, claims}}, groupsClaim}
// groupsClaim null: tokens carry no groups at all (Google's shape); an account's "claims" are added as they are
// (e.g. Google's hd and email_verified), and the profile scope releases them.
// Login uses the library's own development interactions (a login form that accepts the account id),
// so a test signs in as a named account; everything else (codes, tokens, JWKS, discovery) is the library's.
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_SMOKE_CONFIG);
const issuer = `http://127.0.0.1:${config.port}`;
const groupsClaim = config.groupsClaim;
const extraClaims = [...new Set(Object.values(config.accounts).flatMap((a) => Object.keys(a.claims || {})))];
const profileClaims = ['name', 'preferred_username', ...(groupsClaim ? [groupsClaim] : []), ...extraClaims];

const provider = new Provider(issuer, {
  clients: config.clients,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: profileClaims },
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
        const claims = { sub: id, email: account.email, email_verified: true, name: account.name,
                         preferred_username: id, ...(account.claims || {}) };
        if (groupsClaim) claims[groupsClaim] = account.groups;
        return claims;
      },
    };
  },
});
provider.listen(config.port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
