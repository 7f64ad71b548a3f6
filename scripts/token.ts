// Mints an HS256 token for the configured secret (AUTH_JWT_SECRET, or the development default):
//   npm run token -- --sub <keycloak-id> [--email <address>] [--admin] [--ttl 3600]
import { SignJWT } from 'jose';
import { loadConfig, loadDotEnv } from '../src/config/config';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const sub = option('--sub');
  const ttl = Number(option('--ttl') ?? 3600);
  if (!sub || !Number.isInteger(ttl) || ttl <= 0) {
    console.error('usage: npm run token -- --sub <keycloak-id> [--email <address>] [--admin] [--ttl <seconds>]');
    process.exit(2);
  }
  loadDotEnv();
  const { auth } = loadConfig();
  if (!auth.jwtSecret) {
    console.error('AUTH_JWT_SECRET is not set and the service uses JWKS: get a token from your identity provider');
    process.exit(2);
  }
  const claims: Record<string, unknown> = args.includes('--admin') ? { realm_access: { roles: [auth.adminRole] } } : {};
  const email = option('--email');
  if (email) claims.email = email; // as Keycloak puts it in access tokens: a person may look up this address
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime(`${ttl}s`);
  if (auth.issuer) jwt = jwt.setIssuer(auth.issuer);
  if (auth.audience) jwt = jwt.setAudience(auth.audience);
  console.log(await jwt.sign(new TextEncoder().encode(auth.jwtSecret)));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
