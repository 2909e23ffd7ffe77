// A real OpenID Connect provider for the BFF's OIDC tests: panva's oidc-provider with its
// development sign-in pages (any password; the login name is the user). Configured from the
// environment by tests/support/oidc.py:
//   OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI, OIDC_POST_LOGOUT_URI,
//   OIDC_USERS  {"ann": {"name": "Ann Lee", "roles": ["viewer", "clerk"]}, ...}
import Provider from 'oidc-provider';

const env = process.env;
const port = Number(env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const users = JSON.parse(env.OIDC_USERS);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env.OIDC_CLIENT_ID,
      client_secret: env.OIDC_CLIENT_SECRET,
      redirect_uris: [env.OIDC_REDIRECT_URI],
      post_logout_redirect_uris: [env.OIDC_POST_LOGOUT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // The roles claim travels in the ID token (the BFF reads it there).
  claims: { openid: ['sub'], profile: ['name', 'preferred_username', 'roles'] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ['oidc-test-provider-cookie-key'] },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, sub) {
    const user = users[sub];
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, name: user.name, preferred_username: sub, roles: user.roles };
      },
    };
  },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening at ${issuer}`);
});
