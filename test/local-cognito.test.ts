import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { AuthenticationDetails, CognitoUser, CognitoUserPool, type CognitoUserSession } from 'amazon-cognito-identity-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulatorVerifier, TokenRejectedError, type AccessTokenVerifier } from '../src/auth/token-verifier.js';
import { ensureUser, startEmbeddedCognito, type EmbeddedCognito } from '../src/local/cognito.js';

const logger = pino({ level: 'warn' });
const ADMIN = { email: 'admin@demo.localhost', password: 'Demo-password-1!', groups: ['platform-admin'] };

function userFor(cognito: EmbeddedCognito, email: string): CognitoUser {
  const pool = new CognitoUserPool({ UserPoolId: cognito.userPoolId, ClientId: cognito.clientId, endpoint: cognito.endpoint });
  const user = new CognitoUser({ Username: email, Pool: pool });
  // The emulator has no SRP.
  user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
  return user;
}

function login(cognito: EmbeddedCognito, email: string, password: string): Promise<{ user: CognitoUser; session: CognitoUserSession }> {
  const user = userFor(cognito, email);
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: email, Password: password }), {
      onSuccess: (session) => resolve({ user, session }),
      onFailure: (error: unknown) => reject(error),
      newPasswordRequired: () => reject(new Error('unexpected NEW_PASSWORD_REQUIRED challenge')),
    });
  });
}

function refresh(user: CognitoUser, session: CognitoUserSession): Promise<CognitoUserSession> {
  return new Promise((resolve, reject) => {
    user.refreshSession(session.getRefreshToken(), (error: unknown, refreshed: CognitoUserSession) => {
      if (error) reject(error);
      else resolve(refreshed);
    });
  });
}

async function rejection(verifier: AccessTokenVerifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(TokenRejectedError);
    const reason = (error as TokenRejectedError).reason;
    if (token !== '') expect(reason).not.toContain(token);
    return reason;
  }
  throw new Error('token was accepted');
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header = '', payload = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
  };
}

function signJwt(header: object, payload: object, key: KeyObject | string): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), key).toString('base64url')}`;
}

// The emulator's signing key ships in the package, which is exactly why its issuer is dev-only.
const emulatorPrivateKey = (
  JSON.parse(
    readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve('cognito-local/package.json')), 'lib/keys/cognitoLocal.private.json'), 'utf8'),
  ) as { pem: string }
).pem;

describe('embedded Cognito (cognito-local) and the emulator verifier', () => {
  let dataDir: string;
  let cognito: EmbeddedCognito;
  let verifier: AccessTokenVerifier;
  let adminSub: string;
  let first: { user: CognitoUser; session: CognitoUserSession };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tablekit-cognito-'));
    cognito = await startEmbeddedCognito({ dataDir, port: 0, logger });
    verifier = createEmulatorVerifier(cognito);
  });

  afterAll(async () => {
    await cognito?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts on a loopback port with state under dataDir/cognito', () => {
    expect(cognito.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(cognito.endpoint).not.toMatch(/:0$/);
    expect(cognito.userPoolId).toMatch(/^local_\w+$/);
    expect(cognito.issuer).toBe(`${cognito.endpoint}/${cognito.userPoolId}`);
    expect(cognito.jwksUri).toBe(`${cognito.endpoint}/${cognito.userPoolId}/.well-known/jwks.json`);
    const state = JSON.parse(readFileSync(path.join(dataDir, 'cognito', 'tablekit.json'), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({ userPoolId: cognito.userPoolId, clientId: cognito.clientId });
    expect(readFileSync(path.join(dataDir, 'cognito', 'db', `${cognito.userPoolId}.json`), 'utf8')).toContain('platform-admin');
  });

  it('ensureUser is idempotent', async () => {
    const created = await ensureUser(cognito, ADMIN);
    const again = await ensureUser(cognito, ADMIN);
    const differentCase = await ensureUser(cognito, { ...ADMIN, email: 'Admin@Demo.localhost' });
    expect(created.sub).toMatch(/^[0-9a-f-]{36}$/);
    expect(again.sub).toBe(created.sub);
    expect(differentCase.sub).toBe(created.sub);
    adminSub = created.sub;

    // An existing user keeps its password, but gets the groups it lacks.
    const plain = await ensureUser(cognito, { email: 'manager@demo.localhost', password: 'Manager-password-1!' });
    const promoted = await ensureUser(cognito, { email: 'manager@demo.localhost', password: 'ignored-Password-2!', groups: ['platform-admin'] });
    expect(promoted.sub).toBe(plain.sub);
    const { session } = await login(cognito, 'manager@demo.localhost', 'Manager-password-1!');
    expect((await verifier.verify(session.getAccessToken().getJwtToken())).groups).toEqual(['platform-admin']);

    await expect(ensureUser(cognito, { ...ADMIN, groups: ['no-such-group'] })).rejects.toThrow(/ResourceNotFoundException/);
  });

  it('logs in with USER_PASSWORD_AUTH and the access token verifies with its groups', async () => {
    first = await login(cognito, ADMIN.email, ADMIN.password);
    const token = first.session.getAccessToken().getJwtToken();
    const verified = await verifier.verify(token);
    expect(verified).toEqual({ sub: adminSub, username: adminSub, groups: ['platform-admin'], clientId: cognito.clientId });

    const { header, payload } = decode(token);
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'CognitoLocal' });
    expect(payload).toMatchObject({ iss: cognito.issuer, token_use: 'access', client_id: cognito.clientId, sub: adminSub });
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
  });

  it('rejects a wrong password', async () => {
    // The emulator answers InvalidPasswordException where real Cognito says NotAuthorizedException.
    await expect(login(cognito, ADMIN.email, 'Wrong-password-1!')).rejects.toMatchObject({ code: 'InvalidPasswordException' });
    await expect(login(cognito, 'nobody@demo.localhost', 'Wrong-password-1!')).rejects.toMatchObject({ code: 'NotAuthorizedException' });
  });

  it('rejects the id token', async () => {
    expect(await rejection(verifier, first.session.getIdToken().getJwtToken())).toBe('not_access_token');
  });

  it('rejects tampered tokens', async () => {
    const token = first.session.getAccessToken().getJwtToken();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = decode(token).payload;
    const forgedPayload = b64url({ ...claims, sub: '00000000-0000-0000-0000-000000000000' });
    expect(await rejection(verifier, `${header}.${forgedPayload}.${signature}`)).toBe('bad_signature');
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    expect(await rejection(verifier, `${header}.${payload}.${flipped}`)).toBe('bad_signature');
    expect(await rejection(verifier, `${header}.${payload}`)).toBe('malformed');
    expect(await rejection(verifier, 'not a token')).toBe('malformed');
    expect(await rejection(verifier, '')).toBe('malformed');
  });

  it('rejects a token signed by an unrelated key with the same kid, iss and claims', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { header, payload } = decode(first.session.getAccessToken().getJwtToken());
    expect(await rejection(verifier, signJwt(header, payload, privateKey))).toBe('bad_signature');
  });

  it('rejects alg none', async () => {
    const { header, payload } = decode(first.session.getAccessToken().getJwtToken());
    const noneHeader = b64url({ ...header, alg: 'none' });
    // The classic form, empty signature: refused before any key is looked at.
    expect(await rejection(verifier, `${noneHeader}.${b64url(payload)}.`)).toBe('malformed');
    // With a signature present it gets as far as the algorithm check.
    const realSignature = first.session.getAccessToken().getJwtToken().split('.')[2] ?? '';
    expect(await rejection(verifier, `${noneHeader}.${b64url(payload)}.${realSignature}`)).toBe('bad_algorithm');
    expect(await rejection(verifier, `${b64url({ ...header, alg: 'HS256' })}.${b64url(payload)}.${realSignature}`)).toBe('bad_algorithm');
  });

  it("checks expiry, issuer, client and kid on tokens signed with the emulator's key", async () => {
    const { header, payload } = decode(first.session.getAccessToken().getJwtToken());
    const now = Math.floor(Date.now() / 1000);
    const mint = (overrides: Record<string, unknown>, headerOverrides: Record<string, unknown> = {}) =>
      signJwt({ ...header, ...headerOverrides }, { ...payload, ...overrides }, emulatorPrivateKey);

    // Sanity: the key really is the emulator's, so the failures below are about the claims.
    expect((await verifier.verify(mint({ iat: now, exp: now + 60 }))).sub).toBe(adminSub);
    expect(await rejection(verifier, mint({ iat: now - 7200, exp: now - 3600 }))).toBe('expired');
    expect(await rejection(verifier, mint({ exp: undefined }))).toBe('missing_claims');
    expect(await rejection(verifier, mint({ iss: 'http://127.0.0.1:1/local_other' }))).toBe('wrong_issuer');
    expect(await rejection(verifier, mint({ client_id: 'someone-else' }))).toBe('wrong_client');
    expect(await rejection(verifier, mint({ token_use: 'id' }))).toBe('not_access_token');
    expect(await rejection(verifier, mint({}, { kid: 'rotated-away' }))).toBe('unknown_kid');
    expect(await rejection(verifier, mint({}, { kid: undefined }))).toBe('missing_kid');

    const otherClient = createEmulatorVerifier({ ...cognito, clientId: 'another-client' });
    expect(await rejection(otherClient, first.session.getAccessToken().getJwtToken())).toBe('wrong_client');
  });

  it('refreshes a session', async () => {
    const refreshed = await refresh(first.user, first.session);
    const token = refreshed.getAccessToken().getJwtToken();
    expect(token).not.toBe(first.session.getAccessToken().getJwtToken());
    expect(await verifier.verify(token)).toMatchObject({ sub: adminSub, groups: ['platform-admin'] });
  });

  it('keeps pool, client, users and issuer across a restart on the same directory', async () => {
    const before = cognito;
    const earlierToken = first.session.getAccessToken().getJwtToken();
    await before.stop();

    cognito = await startEmbeddedCognito({ dataDir, logger });
    expect(cognito).toMatchObject({ userPoolId: before.userPoolId, clientId: before.clientId, issuer: before.issuer, endpoint: before.endpoint });
    expect(await ensureUser(cognito, ADMIN)).toEqual({ sub: adminSub });

    verifier = createEmulatorVerifier(cognito);
    expect(await verifier.verify(earlierToken)).toMatchObject({ sub: adminSub, groups: ['platform-admin'] });
    const again = await login(cognito, ADMIN.email, ADMIN.password);
    expect((await verifier.verify(again.session.getAccessToken().getJwtToken())).sub).toBe(adminSub);
    // Refresh tokens are kept in the user record, so they survive too.
    expect((await verifier.verify((await refresh(first.user, first.session)).getAccessToken().getJwtToken())).sub).toBe(adminSub);
  });

  it("keeps the issuer when last time's port is taken", async () => {
    const before = cognito;
    const earlierToken = first.session.getAccessToken().getJwtToken();
    await before.stop();

    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(Number(new URL(before.endpoint).port), '127.0.0.1', resolve));
    try {
      cognito = await startEmbeddedCognito({ dataDir, logger });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    expect(cognito.endpoint).not.toBe(before.endpoint);
    expect(cognito.issuer).toBe(before.issuer);
    expect(cognito.jwksUri.startsWith(cognito.endpoint)).toBe(true);
    verifier = createEmulatorVerifier(cognito);
    expect((await verifier.verify(earlierToken)).sub).toBe(adminSub);
    const fresh = await login(cognito, ADMIN.email, ADMIN.password);
    expect(decode(fresh.session.getAccessToken().getJwtToken()).payload.iss).toBe(before.issuer);
  });

  it('refuses a non-loopback host', async () => {
    await expect(startEmbeddedCognito({ dataDir, host: '0.0.0.0', logger })).rejects.toThrow(/loopback/);
  });
});
