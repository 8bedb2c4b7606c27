import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import request from 'supertest';
import { answerClientError } from '../src/http/errors.js';
import { createRegistry } from '../src/http/openapi.js';
import { access } from '../src/http/principal.js';
import { createApiRouter, defineRoute, resourceOf, type RouteDeps } from '../src/http/route.js';
import { z } from '../src/http/zod.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';

describe('HTTP conventions', () => {
  let t: TestApp;
  let restaurant: RestaurantRow;

  beforeAll(async () => {
    t = await createTestApp();
    restaurant = await createRestaurant(t.db.knex, { domain: 'storeabc.com', name: 'Store ABC' });
  });
  afterAll(async () => {
    await t.close();
  });

  const expectProblem = (res: request.Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    expect(body).toMatchObject({ status, code, type: `urn:tablekit:problem:${code}` });
    expect(typeof body.title).toBe('string');
    expect(typeof body.detail).toBe('string');
    return body;
  };

  it('finds a route whatever the case of its path and with a trailing slash, as express matches them', async () => {
    for (const path of ['/v1/restaurant', '/V1/Restaurant', '/v1/restaurant/', '/v1/RESTAURANT/slots']) {
      const res = await request(t.app).get(path).set('X-Restaurant-Domain', 'storeabc.com');
      expect(`${path} ${res.status}`).toBe(`${path} 200`);
    }
    expect((await request(t.app).get('/HEALTHZ/')).status).toBe(200);
    // A path that only starts like a resource is still no route of it.
    expectProblem(await request(t.app).get('/v1/restaurants-and-more').set('X-Restaurant-Domain', 'storeabc.com'), 404, 'not_found');
    expectProblem(await request(t.app).get('/v1/restaurant/nothing/here').set('X-Restaurant-Domain', 'storeabc.com'), 404, 'not_found');
  });

  it('answers an unknown route with a 404 not_found problem', async () => {
    expectProblem(await request(t.app).get('/v1/nothing-here').set('X-Restaurant-Domain', 'storeabc.com'), 404, 'not_found');
  });

  it('answers malformed JSON with 400 validation_failed', async () => {
    const res = await request(t.app).post('/v1/nothing-here').set('Content-Type', 'application/json').send('{"name": "unterminated');
    expectProblem(res, 400, 'validation_failed');
  });

  it('refuses a body over 100 kB with 413 payload_too_large', async () => {
    const body = JSON.stringify({ notes: 'x'.repeat(101 * 1024) });
    const res = await request(t.app).post('/v1/restaurant').set('Content-Type', 'application/json').send(body);
    expectProblem(res, 413, 'payload_too_large');
  });

  it('accepts a body just under 100 kB (then routes it)', async () => {
    const body = JSON.stringify({ notes: 'x'.repeat(99 * 1024) });
    const res = await request(t.app).post('/v1/nothing-here').set('Content-Type', 'application/json').send(body);
    expectProblem(res, 404, 'not_found');
  });

  // Found by the fuzzer (test/fuzz.test.ts): each of these was a 500 internal.
  it('answers a malformed percent-escape in a path id with 400 validation_failed', async () => {
    for (const id of ['%zz', '%', '%E0%A4%A']) {
      expectProblem(await request(t.app).get(`/v1/recipes/${id}`).set('X-Restaurant-Domain', 'storeabc.com'), 400, 'validation_failed');
    }
  });

  it('answers a body that does not decompress as its Content-Encoding says with 400 validation_failed', async () => {
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const res = await request(t.app)
        .post('/v1/restaurant')
        .set('X-Restaurant-Domain', 'storeabc.com')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', encoding)
        .send('{"name": "not compressed"}');
      expectProblem(res, 400, 'validation_failed');
    }
  });

  it('answers JSON nested 40 000 deep with 400 validation_failed, not a crash', async () => {
    const body = `${'['.repeat(40_000)}${']'.repeat(40_000)}`;
    const res = await request(t.app).post('/v1/auth/login').set('Content-Type', 'application/json').send(body);
    expectProblem(res, 400, 'validation_failed');
  });

  it('answers a request head over 16 kB with a 431 problem, as the service serves the app', async () => {
    const server = http.createServer(t.app);
    server.on('clientError', answerClientError);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await request(server)
        .get(`/v1/recipes?search=${'x'.repeat(20_000)}`)
        .set('X-Restaurant-Domain', 'storeabc.com');
      expectProblem(res, 431, 'validation_failed');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('gives errors raised before routing a request id too: bad JSON, 413, malformed HTTP', async () => {
    const badJson = await request(t.app).post('/v1/auth/login').set('Content-Type', 'application/json').set('X-Request-Id', 'bad-json-1').send('{"email": ');
    expectProblem(badJson, 400, 'validation_failed');
    expect(badJson.headers['x-request-id']).toBe('bad-json-1');
    const tooBig = await request(t.app)
      .post('/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ email: 'x'.repeat(101 * 1024) }));
    expectProblem(tooBig, 413, 'payload_too_large');
    expect(tooBig.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    const server = http.createServer(t.app);
    server.on('clientError', answerClientError);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n'));
        let text = '';
        socket.on('data', (chunk) => (text += chunk.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(raw).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/);
      expect(raw).toContain('"code":"validation_failed"');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('answers an unknown restaurant domain with 404 restaurant_not_found', async () => {
    expectProblem(await request(t.app).get('/v1/restaurant').set('X-Restaurant-Domain', 'nobody.example.com'), 404, 'restaurant_not_found');
    expectProblem(await request(t.app).get('/v1/restaurant').set('Host', 'www.nobody.example.com'), 404, 'restaurant_not_found');
  });

  it('resolves the restaurant from the X-Restaurant-Domain header', async () => {
    const res = await request(t.app).get('/v1/restaurant').set('X-Restaurant-Domain', 'StoreABC.com');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: restaurant.id,
      domain: 'storeabc.com',
      name: 'Store ABC',
      currency: 'EUR',
      timezone: 'Europe/Berlin',
      ordering: { accepting_orders: true, reason: null, paused_until: null, next_open_at: null, asap_ready_at: expect.any(String) },
    });
  });

  it.each(['www.storeabc.com', 'staff.storeabc.com', 'api.storeabc.com', 'storeabc.com', 'WWW.STOREABC.COM:443'])(
    'resolves the restaurant from the Host %s',
    async (host) => {
      const res = await request(t.app).get('/v1/restaurant').set('Host', host);
      expect(res.status).toBe(200);
      expect(res.body.domain).toBe('storeabc.com');
    },
  );

  it('prefers the header over the Host', async () => {
    const other = await createRestaurant(t.db.knex, { domain: 'other-place.com', name: 'Other' });
    const res = await request(t.app).get('/v1/restaurant').set('Host', 'www.storeabc.com').set('X-Restaurant-Domain', 'other-place.com');
    expect(res.body.id).toBe(other.id);
  });

  it('strips only one tenant prefix, so www.staff.x is not x', async () => {
    expectProblem(await request(t.app).get('/v1/restaurant').set('Host', 'www.staff.storeabc.com'), 404, 'restaurant_not_found');
  });

  it('echoes a request id and makes one when none is sent', async () => {
    const echoed = await request(t.app).get('/healthz').set('X-Request-Id', 'req-123.abc');
    expect(echoed.headers['x-request-id']).toBe('req-123.abc');
    const made = await request(t.app).get('/healthz');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await request(t.app).get('/healthz').set('X-Request-Id', 'bad id\twith spaces');
    expect(hostile.headers['x-request-id']).not.toBe('bad id\twith spaces');
    const onError = await request(t.app).get('/v1/restaurant').set('X-Restaurant-Domain', 'nobody.example.com').set('X-Request-Id', 'err-1');
    expect(onError.headers['x-request-id']).toBe('err-1');
  });

  it('serves health and an OpenAPI 3.1 document that describes its routes', async () => {
    expect((await request(t.app).get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await request(t.app).get('/readyz')).status).toBe(200);
    const doc = (await request(t.app).get('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/v1/restaurant']));
    expect(doc.components.schemas.Problem).toBeDefined();
    const docs = await request(t.app).get('/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger-ui');
  });

  it('allows CORS from a known restaurant’s sites only', async () => {
    const known = await request(t.app).options('/v1/restaurant').set('Origin', 'https://www.storeabc.com').set('Access-Control-Request-Method', 'GET');
    expect(known.headers['access-control-allow-origin']).toBe('https://www.storeabc.com');
    const staff = await request(t.app).get('/v1/restaurant').set('Origin', 'https://staff.storeabc.com').set('Host', 'storeabc.com');
    expect(staff.headers['access-control-allow-origin']).toBe('https://staff.storeabc.com');
    const unknown = await request(t.app).options('/v1/restaurant').set('Origin', 'https://www.evil.example').set('Access-Control-Request-Method', 'GET');
    expect(unknown.headers['access-control-allow-origin']).toBeUndefined();
    const plainHttp = await request(t.app).options('/v1/restaurant').set('Origin', 'http://www.storeabc.com').set('Access-Control-Request-Method', 'GET');
    expect(plainHttp.headers['access-control-allow-origin']).toBeUndefined();
    const local = await request(t.app).options('/v1/restaurant').set('Origin', 'http://localhost:5173').set('Access-Control-Request-Method', 'GET');
    expect(local.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });

  it.each(['https://api.storeabc.com', 'https://storeabc.com'])('allows CORS from %s, the restaurant’s API site or bare domain', async (origin) => {
    const res = await request(t.app).options('/v1/restaurant').set('Origin', origin).set('Access-Control-Request-Method', 'GET');
    expect(res.headers['access-control-allow-origin']).toBe(origin);
  });

  it.each(['https://api.evil.example', 'https://evil.example', 'https://www.api.storeabc.com', 'https://storeabc.com.evil.example'])(
    'refuses CORS from %s',
    async (origin) => {
      const res = await request(t.app).options('/v1/restaurant').set('Origin', origin).set('Access-Control-Request-Method', 'GET');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    },
  );

  it('sends no CORS header to a request without an Origin (an app, a server, a preflight that is not one)', async () => {
    const plain = await request(t.app).get('/v1/restaurant').set('Host', 'storeabc.com');
    expect(plain.status).toBe(200);
    const preflightless = await request(t.app).options('/v1/restaurant').set('Access-Control-Request-Method', 'GET');
    for (const res of [plain, preflightless]) {
      expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }
  });

  it('lets a browser read the headers a client acts on: request id, Retry-After, ETag, Idempotent-Replayed, rate limits', async () => {
    const res = await request(t.app).get('/v1/restaurant').set('Origin', 'https://www.storeabc.com').set('Host', 'storeabc.com');
    const exposed = String(res.headers['access-control-expose-headers'])
      .split(',')
      .map((name) => name.trim().toLowerCase());
    expect(exposed).toEqual(expect.arrayContaining(['x-request-id', 'retry-after', 'etag', 'idempotent-replayed', 'ratelimit', 'ratelimit-policy']));
  });

  it('sets security headers', async () => {
    const res = await request(t.app).get('/healthz');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('answers readiness 503 once shutdown has begun', async () => {
    t.readiness.shuttingDown = true;
    try {
      const res = await request(t.app).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('unavailable');
    } finally {
      t.readiness.shuttingDown = false;
    }
  });

  it('hides the cause of an unexpected failure behind a bare 500 internal', async () => {
    // Break the schema under the app: the tenant lookup now fails inside the database driver.
    await t.db.knex.raw('ALTER TABLE restaurants RENAME TO restaurants_gone');
    try {
      const res = await request(t.app).get('/v1/restaurant').set('X-Restaurant-Domain', 'storeabc.com');
      const body = expectProblem(res, 500, 'internal');
      expect(body.detail).toBe('An unexpected error occurred');
      expect(res.text).not.toMatch(/restaurants|relation|select|at .*\.ts|stack/i);
    } finally {
      await t.db.knex.raw('ALTER TABLE restaurants_gone RENAME TO restaurants');
    }
  });
});

describe('in production', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ production: true });
    await createRestaurant(t.db.knex, { domain: 'storeabc.com' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses requests the load balancer received over plain http', async () => {
    const res = await request(t.app).get('/v1/restaurant').set('Host', 'www.storeabc.com').set('X-Forwarded-Proto', 'http');
    expect(res.status).toBe(403);
    expect(res.body.code ?? JSON.parse(res.text).code).toBe('https_required');
    const ok = await request(t.app).get('/v1/restaurant').set('Host', 'www.storeabc.com').set('X-Forwarded-Proto', 'https');
    expect(ok.status).toBe(200);
  });

  it('does not allow localhost origins', async () => {
    const local = await request(t.app).options('/v1/restaurant').set('Origin', 'http://localhost:5173').set('Access-Control-Request-Method', 'GET');
    expect(local.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('the resource a path belongs to', () => {
  it.each([
    ['/v1/recipes', '/v1/recipes'],
    ['/v1/recipes/12', '/v1/recipes'],
    ['/v1/recipes/{id}/image', '/v1/recipes'],
    ['/V1/Recipes/', '/v1/recipes'],
    ['/healthz', '/healthz'],
    ['/healthz/', '/healthz'],
    ['/', '/'],
  ])('%s is of %s', (path, resource) => {
    expect(resourceOf(path)).toBe(resource);
  });

  it('refuses a route whose first two segments are not literal', () => {
    const api = createApiRouter({} as RouteDeps, createRegistry());
    expect(() =>
      defineRoute(api, {
        method: 'get',
        path: '/v1/{kind}',
        summary: 'A route that cannot be found by its resource',
        description: 'Refused at definition.',
        tags: ['test'],
        tenant: false,
        access: access.public,
        params: z.object({ kind: z.string() }),
        responses: { 200: { description: 'never' } },
        handler: async () => ({ status: 200 }),
      }),
    ).toThrow(/must be literal/);
  });
});
