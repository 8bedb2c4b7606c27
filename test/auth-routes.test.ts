import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { pino } from 'pino';
import { createTestApp, type TestApp } from './support/app.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { captureLog, type CapturedLog } from './support/log-capture.js';
import { uniqueEmail } from './support/users.js';
import { callCognito } from '../src/local/cognito.js';
import { AppError } from '../src/http/errors.js';
import { appErrorForCognito, createUserPoolFlows } from '../src/auth/user-pool-flows.js';
import type { UserPoolAdmin } from '../src/auth/user-pool-admin.js';

const PASSWORD = 'Sign-up-password-1!';

const expectProblem = (res: request.Response, status: number, code: string) => {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as { code: string; detail: string; errors?: Array<{ path: string; message: string }> };
  expect(body.code).toBe(code);
  return body;
};

const errorPaths = (res: request.Response) => ((JSON.parse(res.text) as { errors?: Array<{ path: string }> }).errors ?? []).map((e) => e.path);

describe('auth routes against the embedded Cognito', () => {
  let t: TestApp;
  let log: CapturedLog;
  let restaurant: RestaurantRow;
  const secrets: string[] = [];

  beforeAll(async () => {
    // Debug, not the production default info: even the chattiest level must not carry a secret.
    log = captureLog('debug');
    t = await createTestApp({ logger: log.logger });
    restaurant = await createRestaurant(t.db.knex, { domain: 'auth-flow.example.com' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs up, logs in, uses the token, refreshes, and uses the new token (the whole flow)', async () => {
    const email = uniqueEmail('flow');
    secrets.push(PASSWORD);

    const signup = await request(t.app)
      .post('/v1/auth/signup')
      .send({ email: email.toUpperCase(), password: PASSWORD, name: 'Ada Lovelace', phone: '+44 20 7946 0958' });
    expect(signup.status).toBe(201);
    expect(signup.body).toEqual({ user_sub: expect.stringMatching(/^[0-9a-f-]{36}$/), confirmed: true });

    // No tenant needed, and the email is matched whatever its case.
    const login = await request(t.app)
      .post('/v1/auth/login')
      .send({ email: ` ${email.toUpperCase()} `, password: PASSWORD });
    expect(login.status).toBe(200);
    expect(Object.keys(login.body).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'refresh_token']);
    expect(login.body.expires_in).toBe(3600);
    expect(login.headers['cache-control']).toBe('no-store');
    secrets.push(login.body.access_token, login.body.id_token, login.body.refresh_token);

    const me = await request(t.app)
      .get('/v1/customers/me')
      .set('X-Restaurant-Domain', restaurant.domain)
      .set('Authorization', `Bearer ${login.body.access_token}`);
    expect(me.status).toBe(200);
    // Email from the user pool (access tokens carry none); name and phone given at sign-up.
    expect(me.body).toMatchObject({ email, name: 'Ada Lovelace', phone: '+442079460958', address: null });

    const refreshed = await request(t.app).post('/v1/auth/refresh').send({ refresh_token: login.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(Object.keys(refreshed.body).sort()).toEqual(['access_token', 'expires_in', 'id_token']);
    expect(refreshed.body.expires_in).toBe(3600);
    secrets.push(refreshed.body.access_token, refreshed.body.id_token);

    const again = await request(t.app)
      .get('/v1/customers/me')
      .set('X-Restaurant-Domain', restaurant.domain)
      .set('Authorization', `Bearer ${refreshed.body.access_token}`);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(me.body.id);
    expect(signup.body.user_sub).toBe((await t.db.knex('customers').where({ id: me.body.id }).first()).user_sub);
  });

  it('serves the auth routes at any restaurant domain, known or not', async () => {
    const email = uniqueEmail('anywhere');
    expect((await request(t.app).post('/v1/auth/signup').set('Host', 'www.unknown.example').send({ email, password: PASSWORD })).status).toBe(201);
    const login = await request(t.app).post('/v1/auth/login').set('X-Restaurant-Domain', restaurant.domain).send({ email, password: PASSWORD });
    expect(login.status).toBe(200);
    secrets.push(login.body.access_token, login.body.id_token, login.body.refresh_token);
  });

  it('answers a second sign-up with the same email (any case) with 409 conflict', async () => {
    const email = uniqueEmail('twice');
    expect((await request(t.app).post('/v1/auth/signup').send({ email, password: PASSWORD })).status).toBe(201);
    const again = await request(t.app).post('/v1/auth/signup').send({ email: email.toUpperCase(), password: PASSWORD });
    expect(expectProblem(again, 409, 'conflict').errors).toEqual([{ path: 'email', message: expect.any(String) }]);
  });

  it('refuses a password that breaks the policy with 400 naming the rule, and never echoes it', async () => {
    const weak = 'weakpassword-no-caps-1';
    const res = await request(t.app)
      .post('/v1/auth/signup')
      .send({ email: uniqueEmail('weak'), password: weak });
    const body = expectProblem(res, 400, 'validation_failed');
    expect(body.detail).toMatch(/password policy: Password must have uppercase characters/);
    expect(body.errors).toEqual([{ path: 'password', message: expect.any(String) }]);
    expect(res.text).not.toContain(weak);
    const short = await request(t.app)
      .post('/v1/auth/signup')
      .send({ email: uniqueEmail('weak'), password: 'Ab1!' });
    expect(expectProblem(short, 400, 'validation_failed').detail).toMatch(/not long enough/);
  });

  it.each([
    ['a bad email', { email: 'not-an-email', password: PASSWORD }, 'email'],
    ['an email over 80 characters', { email: `${'a'.repeat(75)}@example.com`, password: PASSWORD }, 'email'],
    ['a name over 30 characters', { email: 'x@example.com', password: PASSWORD, name: 'n'.repeat(31) }, 'name'],
    ['a phone without a country code', { email: 'x@example.com', password: PASSWORD, phone: '020 7946 0958' }, 'phone'],
    ['a phone with letters', { email: 'x@example.com', password: PASSWORD, phone: '+44 20 CALL ME' }, 'phone'],
    ['no password', { email: 'x@example.com' }, 'password'],
  ])('answers a sign-up with %s with 400 naming the field', async (_what, body, field) => {
    const res = await request(t.app).post('/v1/auth/signup').send(body);
    expectProblem(res, 400, 'validation_failed');
    expect(errorPaths(res)).toContain(field);
  });

  it('answers a wrong password and an unknown email alike: 401 unauthenticated', async () => {
    const email = uniqueEmail('wrong');
    await request(t.app).post('/v1/auth/signup').send({ email, password: PASSWORD }).expect(201);
    const wrong = expectProblem(await request(t.app).post('/v1/auth/login').send({ email, password: 'Not-the-password-1!' }), 401, 'unauthenticated');
    const unknown = expectProblem(
      await request(t.app)
        .post('/v1/auth/login')
        .send({ email: uniqueEmail('nobody'), password: PASSWORD }),
      401,
      'unauthenticated',
    );
    expect(unknown.detail).toBe(wrong.detail);
    expectProblem(await request(t.app).post('/v1/auth/login').send({ email }), 400, 'validation_failed');
  });

  it('answers a refresh token it never issued with 401, promptly', async () => {
    const started = Date.now();
    expectProblem(await request(t.app).post('/v1/auth/refresh').send({ refresh_token: 'not-a-refresh-token' }), 401, 'unauthenticated');
    expect(Date.now() - started).toBeLessThan(2000);
    expectProblem(await request(t.app).post('/v1/auth/refresh').send({}), 400, 'validation_failed');
  });

  describe('confirming a sign-up', () => {
    // Signed up straight through Cognito's SignUp, as real Cognito would leave it: unconfirmed, with a
    // code on its way. The embedded emulator logs the code instead of mailing it.
    let email: string;
    let code: string;

    beforeAll(async () => {
      email = uniqueEmail('confirm');
      await callCognito(t.cognito.endpoint, 'SignUp', { ClientId: t.cognito.clientId, Username: email, Password: PASSWORD });
      const line = log.records().find((record) => record.destination === email && typeof record.code === 'string');
      expect(line).toBeDefined();
      code = String(line?.code);
    });

    it('refuses to log in before confirmation, with a 401 that says what to do', async () => {
      const body = expectProblem(await request(t.app).post('/v1/auth/login').send({ email, password: PASSWORD }), 401, 'unauthenticated');
      expect(body.detail).toMatch(/not confirmed/);
    });

    it('answers a wrong code with 400 validation_failed naming the code', async () => {
      const wrong = code === '000000' ? '111111' : '000000';
      const res = await request(t.app).post('/v1/auth/confirm').send({ email, code: wrong });
      expect(expectProblem(res, 400, 'validation_failed').errors).toEqual([{ path: 'code', message: 'does not match' }]);
    });

    it('confirms with the right code (204), after which login works', async () => {
      expect((await request(t.app).post('/v1/auth/confirm').send({ email: email.toUpperCase(), code })).status).toBe(204);
      const login = await request(t.app).post('/v1/auth/login').send({ email, password: PASSWORD });
      expect(login.status).toBe(200);
      secrets.push(login.body.access_token, login.body.id_token, login.body.refresh_token);
    });

    it('answers an unknown email like a wrong code, so it reveals no accounts', async () => {
      const res = await request(t.app)
        .post('/v1/auth/confirm')
        .send({ email: uniqueEmail('ghost'), code });
      expectProblem(res, 400, 'validation_failed');
      expectProblem(await request(t.app).post('/v1/auth/confirm').send({ email }), 400, 'validation_failed');
    });
  });

  describe('a forgotten password', () => {
    const email = uniqueEmail('forgot');
    const newPassword = 'Brand-new-password-2!';
    const codeFor = (who: string) => {
      const lines = log.records().filter((record) => record.destination === who && typeof record.code === 'string');
      return lines.length === 0 ? undefined : String(lines[lines.length - 1]?.code);
    };

    beforeAll(async () => {
      await request(t.app).post('/v1/auth/signup').send({ email, password: PASSWORD }).expect(201);
      secrets.push(newPassword);
    });

    it('answers 204 for a known and an unknown email alike, and sends a code only to the known one', async () => {
      const ghost = uniqueEmail('ghost');
      const known = await request(t.app).post('/v1/auth/forgot-password').send({ email: email.toUpperCase() });
      const unknown = await request(t.app).post('/v1/auth/forgot-password').send({ email: ghost });
      expect([known.status, unknown.status]).toEqual([204, 204]);
      expect(known.text).toBe(unknown.text);
      expect(codeFor(email)).toMatch(/^\S+$/);
      expect(codeFor(ghost)).toBeUndefined();
      expectProblem(await request(t.app).post('/v1/auth/forgot-password').send({ email: 'not-an-email' }), 400, 'validation_failed');
    });

    it('refuses a wrong code and an unknown email with 400 naming the code, and a weak password with 400 naming it', async () => {
      const code = codeFor(email)!;
      const wrong = code === '000000' ? '111111' : '000000';
      const bad = expectProblem(
        await request(t.app).post('/v1/auth/reset-password').send({ email, code: wrong, password: newPassword }),
        400,
        'validation_failed',
      );
      expect(bad.errors).toEqual([{ path: 'code', message: 'does not match' }]);
      const ghost = expectProblem(
        await request(t.app)
          .post('/v1/auth/reset-password')
          .send({ email: uniqueEmail('ghost'), code, password: newPassword }),
        400,
        'validation_failed',
      );
      expect(ghost.detail).toBe(bad.detail);
      const weak = expectProblem(
        await request(t.app).post('/v1/auth/reset-password').send({ email, code, password: 'alllowercase-1!' }),
        400,
        'validation_failed',
      );
      expect(weak.errors).toEqual([{ path: 'password', message: expect.any(String) }]);
      expect(weak.detail).toMatch(/password policy/);
    });

    it('sets the new password with the right code: the old one stops working, the new one logs in', async () => {
      const res = await request(t.app)
        .post('/v1/auth/reset-password')
        .send({ email, code: codeFor(email), password: newPassword });
      expect(res.status, res.text).toBe(204);
      expectProblem(await request(t.app).post('/v1/auth/login').send({ email, password: PASSWORD }), 401, 'unauthenticated');
      const login = await request(t.app).post('/v1/auth/login').send({ email, password: newPassword });
      expect(login.status).toBe(200);
      secrets.push(login.body.access_token, login.body.id_token, login.body.refresh_token);
    });
  });

  it('logs out: the refresh token is revoked, other sessions keep theirs, and a second logout is still 204', async () => {
    const email = uniqueEmail('logout');
    await request(t.app).post('/v1/auth/signup').send({ email, password: PASSWORD }).expect(201);
    const phone = (await request(t.app).post('/v1/auth/login').send({ email, password: PASSWORD })).body;
    const laptop = (await request(t.app).post('/v1/auth/login').send({ email, password: PASSWORD })).body;
    secrets.push(phone.access_token, phone.id_token, phone.refresh_token, laptop.access_token, laptop.id_token, laptop.refresh_token);
    expect((await request(t.app).post('/v1/auth/refresh').send({ refresh_token: phone.refresh_token })).status).toBe(200);

    expect((await request(t.app).post('/v1/auth/logout').send({ refresh_token: phone.refresh_token })).status).toBe(204);
    expectProblem(await request(t.app).post('/v1/auth/refresh').send({ refresh_token: phone.refresh_token }), 401, 'unauthenticated');
    expect((await request(t.app).post('/v1/auth/refresh').send({ refresh_token: laptop.refresh_token })).status).toBe(200);
    expect((await request(t.app).post('/v1/auth/logout').send({ refresh_token: phone.refresh_token })).status).toBe(204);
    expectProblem(await request(t.app).post('/v1/auth/logout').send({}), 400, 'validation_failed');
  });

  it('documents the auth routes and their schemas in OpenAPI', async () => {
    const doc = (await request(t.app).get('/openapi.json')).body;
    for (const path of [
      '/v1/auth/signup',
      '/v1/auth/confirm',
      '/v1/auth/login',
      '/v1/auth/refresh',
      '/v1/auth/forgot-password',
      '/v1/auth/reset-password',
      '/v1/auth/logout',
    ]) {
      expect(doc.paths[path].post).toBeDefined();
      expect(doc.paths[path].post.responses['429'].headers['Retry-After']).toBeDefined();
      expect(doc.paths[path].post.responses['429'].headers.RateLimit).toBeDefined();
    }
    expect(doc.paths['/v1/auth/login'].post.security).toEqual([]);
    expect(doc.paths['/v1/auth/login'].post.responses['429']).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'SignUp',
        'SignUpResult',
        'ConfirmSignUp',
        'Login',
        'LoginResult',
        'Refresh',
        'RefreshResult',
        'ForgotPassword',
        'ResetPassword',
        'Logout',
      ]),
    );
  });

  it('never writes a token or a password to the log', () => {
    const text = log.text();
    expect(text.length).toBeGreaterThan(0);
    // The log did see the requests (so the check below means something).
    expect(text).toContain('/v1/auth/login');
    expect(secrets.length).toBeGreaterThan(8);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain('Not-the-password-1!');
  });
});

describe('auth rate limits', () => {
  let t: TestApp;
  const email = uniqueEmail('limited');

  beforeAll(async () => {
    // Behind one proxy (as behind the ALB), so X-Forwarded-For names the client.
    t = await createTestApp({ authRateLimit: { perIpPerMinute: 4, failedPerEmailPerMinute: 2 }, trustProxy: 1 });
    await request(t.app).post('/v1/auth/signup').set('X-Forwarded-For', '198.51.100.1').send({ email, password: PASSWORD }).expect(201);
  });
  afterAll(async () => {
    await t.close();
  });

  const login = (ip: string, password = PASSWORD, who = email) =>
    request(t.app).post('/v1/auth/login').set('X-Forwarded-For', ip).send({ email: who, password });

  it('limits sign-ups and logins together per client IP, with 429 rate_limited and Retry-After', async () => {
    const ip = '203.0.113.7';
    expect(
      (
        await request(t.app)
          .post('/v1/auth/signup')
          .set('X-Forwarded-For', ip)
          .send({ email: uniqueEmail('ip'), password: PASSWORD })
      ).status,
    ).toBe(201);
    for (let i = 0; i < 3; i += 1) expect((await login(ip)).status).toBe(200);
    const throttled = await login(ip);
    const body = expectProblem(throttled, 429, 'rate_limited');
    expect(body.detail).toMatch(/try again/i);
    const retryAfter = Number(throttled.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expectProblem(
      await request(t.app)
        .post('/v1/auth/signup')
        .set('X-Forwarded-For', ip)
        .send({ email: uniqueEmail('ip'), password: PASSWORD }),
      429,
      'rate_limited',
    );
    // Another client is not affected.
    expect((await login('203.0.113.8')).status).toBe(200);
  });

  it('limits failed logins per email across IPs; successful ones do not count', async () => {
    const victim = uniqueEmail('victim');
    await request(t.app).post('/v1/auth/signup').set('X-Forwarded-For', '198.51.100.2').send({ email: victim, password: PASSWORD }).expect(201);
    for (let i = 0; i < 3; i += 1) expect((await login(`192.0.2.${10 + i}`, PASSWORD, victim)).status).toBe(200);
    expect((await login('192.0.2.20', 'Wrong-password-1!', victim)).status).toBe(401);
    expect((await login('192.0.2.21', 'Wrong-password-1!', victim.toUpperCase())).status).toBe(401);
    // Two failures used the budget: even the right password waits now.
    const throttled = await login('192.0.2.22', PASSWORD, victim);
    expectProblem(throttled, 429, 'rate_limited');
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Other accounts are not affected.
    expect((await login('192.0.2.23')).status).toBe(200);
  });
  it('limits failed confirmations and resets per email across IPs, and reset codes sent per email', async () => {
    const email = uniqueEmail('guessed');
    let n = 0;
    const from = () => `192.0.2.${100 + ++n}`;
    const confirm = (code: string) => request(t.app).post('/v1/auth/confirm').set('X-Forwarded-For', from()).send({ email, code });
    const reset = (code: string) => request(t.app).post('/v1/auth/reset-password').set('X-Forwarded-For', from()).send({ email, code, password: PASSWORD });
    const forgot = (who = email) => request(t.app).post('/v1/auth/forgot-password').set('X-Forwarded-For', from()).send({ email: who });
    expect((await confirm('000001')).status).toBe(400);
    expect((await confirm('000002')).status).toBe(400);
    expectProblem(await confirm('000003'), 429, 'rate_limited');
    expect((await reset('000001')).status).toBe(400);
    expect((await reset('000002')).status).toBe(400);
    expectProblem(await reset('000003'), 429, 'rate_limited');
    expect((await forgot()).status).toBe(204);
    expect((await forgot()).status).toBe(204);
    expectProblem(await forgot(), 429, 'rate_limited');
    // Another email is not affected.
    expect((await forgot(uniqueEmail('other'))).status).toBe(204);
  });
});

describe('auth rate limits that a client cannot dodge', () => {
  let t: TestApp;
  const perIp = 3;

  beforeAll(async () => {
    // TRUST_PROXY unset: the service is reached directly (npm start, docker compose), so X-Forwarded-For is the client's own say.
    t = await createTestApp({ authRateLimit: { perIpPerMinute: perIp, failedPerEmailPerMinute: 2 } });
  });
  afterAll(async () => {
    await t.close();
  });

  const wrongLogin = (app: TestApp['app'], forwardedFor: string) =>
    request(app)
      .post('/v1/auth/login')
      .set('X-Forwarded-For', forwardedFor)
      .send({ email: uniqueEmail('nobody'), password: PASSWORD });

  it('counts a client whose X-Forwarded-For changes on every request as one client', async () => {
    for (let i = 0; i < perIp; i += 1) expect((await wrongLogin(t.app, `198.51.100.${i + 1}`)).status).toBe(401);
    const throttled = await wrongLogin(t.app, '198.51.100.200');
    expectProblem(throttled, 429, 'rate_limited');
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Sign-up, confirm and password reset share that budget; refresh and logout have their own.
    expectProblem(
      await request(t.app)
        .post('/v1/auth/confirm')
        .send({ email: uniqueEmail('c'), code: '123456' }),
      429,
      'rate_limited',
    );
    expectProblem(
      await request(t.app)
        .post('/v1/auth/forgot-password')
        .send({ email: uniqueEmail('f') }),
      429,
      'rate_limited',
    );
    expectProblem(
      await request(t.app)
        .post('/v1/auth/reset-password')
        .send({ email: uniqueEmail('r'), code: '123456', password: PASSWORD }),
      429,
      'rate_limited',
    );
    expect((await request(t.app).post('/v1/auth/refresh').send({ refresh_token: 'not-a-token' })).status).toBe(401);
    await t.db.knex('rate_limit_counters').delete();
  });

  it('limits refresh and logout per client IP too, and says so in the RateLimit headers', async () => {
    const first = await request(t.app).post('/v1/auth/refresh').send({ refresh_token: 'not-a-token' });
    expect(first.status).toBe(401);
    expect(first.headers['ratelimit-policy']).toBe(`${perIp};w=60`);
    expect(first.headers.ratelimit).toMatch(new RegExp(`^limit=${perIp}, remaining=${perIp - 1}, reset=\\d+$`));
    expect((await request(t.app).post('/v1/auth/logout').send({ refresh_token: 'not-a-token' })).status).toBe(204);
    expect((await request(t.app).post('/v1/auth/refresh').send({ refresh_token: 'not-a-token' })).status).toBe(401);
    expectProblem(await request(t.app).post('/v1/auth/logout').send({ refresh_token: 'not-a-token' }), 429, 'rate_limited');
    await t.db.knex('rate_limit_counters').delete();
  });

  it('shares one count between two instances on one database', async () => {
    const other = t.anotherInstance();
    const apps = [t.app, other, t.app];
    for (const app of apps) expect((await wrongLogin(app, '203.0.113.1')).status).toBe(401);
    expectProblem(await wrongLogin(other, '203.0.113.1'), 429, 'rate_limited');
    expectProblem(await wrongLogin(t.app, '203.0.113.1'), 429, 'rate_limited');
    await t.db.knex('rate_limit_counters').delete();
  });
});

describe('Cognito failures the client did not cause', () => {
  let server: Server;
  let endpoint: string;
  let answer: { status: number; body: unknown } = { status: 400, body: { __type: 'TooManyRequestsException', message: 'Rate exceeded' } };
  const admin: UserPoolAdmin = { findUser: async () => undefined, confirmSignUp: async () => undefined };

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const flowsAt = (url: string, logger = pino({ level: 'silent' })) =>
    createUserPoolFlows({
      userPoolId: 'us-east-1_Test1',
      clientId: 'client',
      region: 'us-east-1',
      endpoint: url,
      authFlow: 'USER_PASSWORD_AUTH',
      emulator: false,
      admin,
      logger,
    });

  it("answers Cognito's throttling with 429 rate_limited and Retry-After", async () => {
    answer = { status: 400, body: { __type: 'TooManyRequestsException', message: 'Rate exceeded' } };
    const error = await flowsAt(endpoint)
      .logIn('a@example.com', PASSWORD)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limited', headers: { 'Retry-After': expect.any(String) } });
  });

  it('answers an unexpected Cognito error, or none at all, with 503 and logs no password', async () => {
    const log = captureLog('info');
    answer = { status: 500, body: { __type: 'InternalErrorException', message: `boom ${PASSWORD}` } };
    await expect(flowsAt(endpoint, log.logger).logIn('a@example.com', PASSWORD)).rejects.toMatchObject({ status: 503, code: 'service_unavailable' });
    // Nothing listens on port 9 of the loopback.
    await expect(flowsAt('http://127.0.0.1:9', log.logger).signUp({ email: 'a@example.com', password: PASSWORD })).rejects.toMatchObject({ status: 503 });
    expect(log.text()).toContain('InternalErrorException');
    expect(log.text()).not.toContain(PASSWORD);
  });

  it('answers forgot-password alike whether Cognito knows the user or not, but a Cognito outage with 503', async () => {
    for (const type of ['UserNotFoundException', 'LimitExceededException', 'InvalidParameterException']) {
      answer = { status: 400, body: { __type: type, message: 'x' } };
      await expect(flowsAt(endpoint).forgotPassword('a@example.com')).resolves.toBeUndefined();
    }
    answer = { status: 500, body: { __type: 'InternalErrorException', message: 'boom' } };
    await expect(flowsAt(endpoint).forgotPassword('a@example.com')).rejects.toMatchObject({ status: 503, code: 'service_unavailable' });
  });

  it('treats logging out with a token Cognito no longer accepts as done', async () => {
    answer = { status: 400, body: { __type: 'NotAuthorizedException', message: 'x' } };
    await expect(flowsAt(endpoint).logOut('stale-token')).resolves.toBeUndefined();
    answer = { status: 500, body: { __type: 'InternalErrorException', message: 'boom' } };
    await expect(flowsAt(endpoint).logOut('stale-token')).rejects.toMatchObject({ status: 503 });
  });

  it('maps Cognito errors to our codes without passing on messages that could quote the request', () => {
    const cases: Array<[Parameters<typeof appErrorForCognito>[0], string, number, string]> = [
      ['signup', 'UsernameExistsException', 409, 'conflict'],
      ['signup', 'InvalidPasswordException', 400, 'validation_failed'],
      ['login', 'InvalidPasswordException', 401, 'unauthenticated'],
      ['login', 'NotAuthorizedException', 401, 'unauthenticated'],
      ['login', 'UserNotFoundException', 401, 'unauthenticated'],
      ['refresh', 'NotAuthorizedException', 401, 'unauthenticated'],
      ['confirm', 'CodeMismatchException', 400, 'validation_failed'],
      ['confirm', 'ExpiredCodeException', 400, 'validation_failed'],
      ['signup', 'InvalidParameterException', 400, 'validation_failed'],
      ['login', 'TooManyRequestsException', 429, 'rate_limited'],
      ['login', 'TooManyFailedAttemptsException', 429, 'rate_limited'],
      ['reset-password', 'CodeMismatchException', 400, 'validation_failed'],
      ['reset-password', 'ExpiredCodeException', 400, 'validation_failed'],
      ['reset-password', 'InvalidPasswordException', 400, 'validation_failed'],
      ['reset-password', 'UserNotFoundException', 400, 'validation_failed'],
      ['reset-password', 'LimitExceededException', 429, 'rate_limited'],
      ['logout', 'UnauthorizedException', 401, 'unauthenticated'],
      ['refresh', 'UnauthorizedException', 401, 'unauthenticated'],
    ];
    for (const [operation, code, status, ours] of cases) {
      const mapped = appErrorForCognito(operation, Object.assign(new Error(`1 validation error: value 'hunter2-Secret!' at 'password'`), { code }));
      expect(mapped, code).toMatchObject({ status, code: ours });
      expect(mapped?.detail).not.toContain('hunter2');
    }
    expect(appErrorForCognito('login', Object.assign(new Error('x'), { code: 'InternalErrorException' }))).toBeUndefined();
    const policy = appErrorForCognito(
      'signup',
      Object.assign(new Error('Password did not conform with policy: Password must have symbol characters'), { code: 'InvalidPasswordException' }),
    );
    expect(policy?.detail).toBe("The password does not meet the user pool's password policy: Password must have symbol characters");
  });
});
