import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/app.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { captureLog, type CapturedLog } from './support/log-capture.js';
import { TEST_PASSWORD, signInCustomer, type SignedInUser } from './support/users.js';
import { callCognito } from '../src/local/cognito.js';

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

// The emulator's signing key ships in its package: with it the tests mint tokens that differ from a real
// one in exactly one claim, so each rejection is about that claim and nothing else.
const emulatorPrivateKey = (
  JSON.parse(
    readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve('cognito-local/package.json')), 'lib/keys/cognitoLocal.private.json'), 'utf8'),
  ) as { pem: string }
).pem;

describe('access tokens on a protected route', () => {
  let t: TestApp;
  let log: CapturedLog;
  let restaurant: RestaurantRow;
  let user: SignedInUser;
  let idToken: string;

  beforeAll(async () => {
    log = captureLog('debug');
    t = await createTestApp({ logger: log.logger });
    restaurant = await createRestaurant(t.db.knex);
    user = await signInCustomer(t.cognito);
    const result = await callCognito<{ AuthenticationResult: { IdToken: string } }>(t.cognito.endpoint, 'InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: t.cognito.clientId,
      AuthParameters: { USERNAME: user.email, PASSWORD: TEST_PASSWORD },
    });
    idToken = result.AuthenticationResult.IdToken;
  });
  afterAll(async () => {
    await t.close();
  });

  const me = (authorization?: string) => {
    const req = request(t.app).get('/v1/customers/me').set('X-Restaurant-Domain', restaurant.domain);
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };

  const mint = (claims: Record<string, unknown>, headerChanges: Record<string, unknown> = {}, key: KeyObject | string = emulatorPrivateKey) => {
    const { header, payload } = decode(user.token);
    return signJwt({ ...header, ...headerChanges }, { ...payload, ...claims }, key);
  };

  it('accepts the real access token (and a lower-case scheme), so the rejections below are about the token', async () => {
    expect((await me(user.auth)).status).toBe(200);
    expect((await me(`bearer ${user.token}`)).status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    expect((await me(`Bearer ${mint({ iat: now, exp: now + 60 })}`)).status).toBe(200);
  });

  const cases: Array<[string, () => string | undefined, string | undefined]> = [
    ['no Authorization header', () => undefined, undefined],
    ['another scheme (Basic)', () => `Basic ${Buffer.from('a:b').toString('base64')}`, undefined],
    ['the token without a scheme', () => user.token, undefined],
    ['an empty bearer', () => 'Bearer ', undefined],
    ['garbage', () => 'Bearer garbage', 'malformed'],
    ['three garbage segments', () => 'Bearer aaa.bbb.ccc', 'malformed'],
    ['an expired token', () => `Bearer ${mint({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })}`, 'expired'],
    ['a token from another issuer', () => `Bearer ${mint({ iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other1' })}`, 'wrong_issuer'],
    ['a token for another app client', () => `Bearer ${mint({ client_id: 'some-other-client' })}`, 'wrong_client'],
    ['an ID token instead of an access token', () => `Bearer ${idToken}`, 'not_access_token'],
    [
      'alg none without a signature',
      () => `Bearer ${b64url({ ...decode(user.token).header, alg: 'none' })}.${b64url(decode(user.token).payload)}.`,
      'malformed',
    ],
    [
      'alg none with a signature',
      () => `Bearer ${b64url({ ...decode(user.token).header, alg: 'none' })}.${user.token.split('.').slice(1).join('.')}`,
      'bad_algorithm',
    ],
    [
      'alg HS256 (key confusion)',
      () => `Bearer ${b64url({ ...decode(user.token).header, alg: 'HS256' })}.${user.token.split('.').slice(1).join('.')}`,
      'bad_algorithm',
    ],
    [
      'a tampered signature',
      () => {
        const [h, p, s = ''] = user.token.split('.');
        return `Bearer ${h}.${p}.${s.slice(0, 20)}${s[20] === 'A' ? 'B' : 'A'}${s.slice(21)}`;
      },
      'bad_signature',
    ],
    [
      'a tampered payload (another sub) under the original signature',
      () => {
        const [h, , s] = user.token.split('.');
        return `Bearer ${h}.${b64url({ ...decode(user.token).payload, sub: '00000000-0000-0000-0000-000000000000' })}.${s}`;
      },
      'bad_signature',
    ],
    [
      'a token signed by an unrelated key pair (same kid and claims)',
      () => `Bearer ${mint({}, {}, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)}`,
      'bad_signature',
    ],
    ['an unknown kid', () => `Bearer ${mint({}, { kid: 'not-a-key-we-know' })}`, 'unknown_kid'],
  ];

  it.each(cases)('answers %s with 401 unauthenticated and logs why, not the token', async (_what, authorization, reason) => {
    const value = authorization();
    const res = await me(value);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'unauthenticated', status: 401 });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    if (reason !== undefined) {
      expect(log.records().some((record) => record.reason === reason && record.msg === 'access token rejected')).toBe(true);
    }
    const token = value?.replace(/^\S+ /, '') ?? '';
    if (token.length > 8) expect(log.text()).not.toContain(token);
  });

  it('rejects every bad token on staff and platform routes too', async () => {
    const expired = mint({ iat: 1, exp: 2 });
    const staff = await request(t.app).get('/v1/staff').set('X-Restaurant-Domain', restaurant.domain).set('Authorization', `Bearer ${expired}`);
    expect(staff.status).toBe(401);
    const platform = await request(t.app).post('/v1/restaurants').set('Authorization', `Bearer ${idToken}`).send({});
    expect(platform.status).toBe(401);
  });

  it('never logs a token, whatever was sent', () => {
    expect(log.text()).not.toContain(user.token);
    expect(log.text()).not.toContain(idToken);
    expect(log.text()).not.toContain(user.token.split('.')[2] ?? 'no signature');
  });
});
