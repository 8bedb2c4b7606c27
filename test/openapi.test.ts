import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, errorCodes, errorMiddleware } from '../src/http/errors.js';
import { errorCatalog } from '../src/http/error-catalog.js';
import { createRegistry, generateOpenApiDocument, operationIdFor } from '../src/http/openapi.js';
import { access } from '../src/http/principal.js';
import { createApiRouter, defineRoute } from '../src/http/route.js';
import { z } from '../src/http/zod.js';
import { createTestApp, silentLogger, type TestApp } from './support/app.js';

interface Response {
  description: string;
  headers?: Record<string, { $ref: string }>;
  content?: Record<
    string,
    { schema?: { allOf?: Array<{ $ref?: string; properties?: { code?: { enum?: string[] } } }> }; examples?: Record<string, { $ref: string }> }
  >;
}
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, Response>;
}
interface Document {
  info: { description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { examples: Record<string, { value: { code: string; status: number } }>; headers: Record<string, unknown>; schemas: Record<string, unknown> };
}

const root = path.resolve(import.meta.dirname, '..');

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: Document;
  let operations: Array<{ method: string; path: string; op: Operation }>;

  beforeAll(async () => {
    t = await createTestApp();
    doc = (await request(t.app).get('/openapi.json')).body as Document;
    operations = Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([method, op]) => ({ method, path: p, op })));
  });
  afterAll(async () => {
    await t.close();
  });

  const op = (method: string, p: string) => {
    const found = doc.paths[p]?.[method];
    if (found === undefined) throw new Error(`no ${method} ${p} in the document`);
    return found;
  };
  const codesOf = (response: Response | undefined) => response?.content?.['application/problem+json']?.schema?.allOf?.[1]?.properties?.code?.enum ?? [];

  it('gives every operation a stable, unique operationId derived from its method and path', () => {
    expect(operations.length).toBeGreaterThan(30);
    const ids = operations.map(({ op: o }) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path: p, op: o } of operations) expect(o.operationId, `${method} ${p}`).toBe(operationIdFor(method, p));
    expect(op('post', '/v1/orders/{id}/payments').operationId).toBe('postOrdersByIdPayments');
    expect(op('delete', '/v1/staff/{user_sub}').operationId).toBe('deleteStaffByUserSub');
    expect(op('post', '/v1/auth/forgot-password').operationId).toBe('postAuthForgotPassword');
  });

  it('gives every operation a description of its own and an explicit security requirement', () => {
    for (const { method, path: p, op: o } of operations) {
      expect(o.description?.length, `${method} ${p}`).toBeGreaterThan(20);
      expect(o.description).not.toBe(o.summary);
      expect(Array.isArray(o.security), `${method} ${p}`).toBe(true);
    }
    expect(op('get', '/healthz').security).toEqual([]);
    expect(op('post', '/v1/auth/login').security).toEqual([]);
    expect(op('post', '/v1/payments/webhooks/{provider}').security).toEqual([]);
    expect(op('get', '/v1/recipes').security).toEqual([{}, { bearerAuth: [] }]);
    expect(op('post', '/v1/orders').security).toEqual([{ bearerAuth: [] }]);
  });

  it('answers every error status with the Problem schema narrowed to its real codes, each with a matching example', () => {
    for (const { method, path: p, op: o } of operations) {
      for (const [status, response] of Object.entries(o.responses)) {
        // Readiness answers 503 with its own status body, not a problem.
        if (Number(status) < 400 || (p === '/readyz' && status === '503')) continue;
        const where = `${method} ${p} ${status}`;
        const media = response.content?.['application/problem+json'];
        expect(media?.schema?.allOf?.[0], where).toEqual({ $ref: '#/components/schemas/Problem' });
        const codes = codesOf(response);
        expect(codes.length, where).toBeGreaterThan(0);
        expect(Object.keys(media?.examples ?? {}).sort(), where).toEqual([...codes].sort());
        for (const code of codes) {
          expect(errorCatalog[code as keyof typeof errorCatalog].status, `${where} ${code}`).toBe(Number(status));
          const example = doc.components.examples[media!.examples![code]!.$ref.replace('#/components/examples/', '')];
          expect(example?.value).toMatchObject({ code, status: Number(status) });
          expect(response.description).toContain(`\`${code}\``);
        }
      }
    }
  });

  it('lists the codes a route really raises, not only validation_failed', () => {
    expect(codesOf(op('post', '/v1/orders').responses['409'])).toEqual(expect.arrayContaining(['insufficient_stock', 'conflict', 'idempotency_key_in_use']));
    expect(codesOf(op('post', '/v1/orders').responses['422'])).toEqual(expect.arrayContaining(['cart_empty', 'idempotency_key_reused']));
    expect(codesOf(op('post', '/v1/orders').responses['400'])).toEqual(expect.arrayContaining(['validation_failed', 'idempotency_key_required']));
    expect(codesOf(op('post', '/v1/orders/{id}/payments').responses['402'])).toEqual(['payment_declined']);
    expect(codesOf(op('post', '/v1/orders/{id}/payments').responses['503'])).toEqual(['service_unavailable']);
    expect(codesOf(op('post', '/v1/ingredients/{id}/adjustments').responses['409'])).toEqual(expect.arrayContaining(['insufficient_stock', 'conflict']));
    expect(codesOf(op('post', '/v1/orders/{id}/transitions').responses['409'])).toEqual(['invalid_transition']);
    expect(codesOf(op('get', '/v1/recipes/{id}').responses['404'])).toEqual(expect.arrayContaining(['restaurant_not_found', 'not_found']));
    expect(codesOf(op('post', '/v1/ingredients').responses['403'])).toEqual(expect.arrayContaining(['forbidden', 'https_required']));
    expect(codesOf(op('post', '/v1/auth/login').responses['429'])).toEqual(['rate_limited']);
    expect(op('get', '/v1/cart').responses['409']).toBeUndefined();
  });

  it('documents the response headers: X-Request-Id everywhere, ETag on cacheable reads, Retry-After, Idempotent-Replayed, RateLimit', () => {
    for (const { method, path: p, op: o } of operations) {
      for (const [status, response] of Object.entries(o.responses)) {
        const where = `${method} ${p} ${status}`;
        expect(response.headers?.['X-Request-Id'], where).toEqual({ $ref: '#/components/headers/X-Request-Id' });
        if (status === '429' || (status === '503' && p !== '/readyz')) expect(response.headers?.['Retry-After'], where).toBeDefined();
      }
    }
    for (const p of ['/v1/recipes', '/v1/recipes/{id}', '/v1/ingredients', '/v1/ingredients/{id}']) {
      expect(op('get', p).responses['200']?.headers?.ETag, p).toBeDefined();
      expect(op('get', p).responses['304']?.headers?.ETag, p).toBeDefined();
    }
    expect(op('get', '/v1/cart').responses['200']?.headers?.ETag).toBeUndefined();
    for (const [method, p] of [
      ['post', '/v1/orders'],
      ['post', '/v1/orders/{id}/payments'],
      ['post', '/v1/payments/{id}/refunds'],
    ] as const) {
      expect(op(method, p).responses['201']?.headers?.['Idempotent-Replayed'], p).toBeDefined();
      expect(op(method, p).responses['422']?.headers?.['Idempotent-Replayed'], p).toBeDefined();
      expect(op(method, p).responses['500']?.headers?.['Idempotent-Replayed'], p).toBeUndefined();
    }
    expect(op('post', '/v1/cart/items').responses['201']?.headers?.['Idempotent-Replayed']).toBeUndefined();
    expect(op('post', '/v1/auth/login').responses['200']?.headers?.RateLimit).toBeDefined();
    expect(op('post', '/v1/auth/login').responses['200']?.headers?.['RateLimit-Policy']).toBeDefined();
    expect(Object.keys(doc.components.headers)).toEqual(
      expect.arrayContaining(['X-Request-Id', 'ETag', 'Retry-After', 'Idempotent-Replayed', 'RateLimit', 'RateLimit-Policy']),
    );
  });

  it('gives the payment webhook a request body', () => {
    const body = op('post', '/v1/payments/webhooks/{provider}').requestBody;
    expect(body?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/PaymentProviderEvent' });
  });

  it('stands on its own: it and the pages it ships point to nothing outside this repository', async () => {
    expect(doc.info.description).not.toMatch(/API\.md|DESIGN\.md|STYLE\.md/);
    expect(doc.info.description).toMatch(/Idempotency-Key/);
    const docsScript = await request(t.app).get('/docs/swagger-ui-init.js');
    expect(docsScript.status).toBe(200);
    expect(docsScript.text).not.toMatch(/API\.md|DESIGN\.md/);
    // Every Markdown file the README and the deployment files name exists in the repository.
    for (const file of ['README.md', 'ecosystem.config.js', 'Dockerfile', 'docker-compose.yml', 'bench/README.md']) {
      const text = fs.readFileSync(path.join(root, file), 'utf8');
      for (const named of new Set(text.match(/[\w./-]+\.md\b/g) ?? [])) {
        const candidates = [path.join(root, named), path.join(root, path.dirname(file), named)];
        expect(
          candidates.some((candidate) => fs.existsSync(candidate)),
          `${file} names ${named}`,
        ).toBe(true);
      }
    }
  });

  it('has a status and an example for every error code', () => {
    expect(Object.keys(errorCatalog).sort()).toEqual([...errorCodes].sort());
    for (const code of errorCodes) expect(Object.keys(doc.components.examples)).toContain(code);
  });
});

describe('a route that answers with a code its document does not list', () => {
  it('is reported (tests fail on it), while listed codes are not', async () => {
    const reported: string[] = [];
    const app = express();
    const api = createApiRouter(
      {
        db: undefined as never,
        logger: silentLogger,
        authenticator: undefined as never,
        tenants: undefined as never,
        media: undefined as never,
        onUndocumentedError: ({ operationId, code, status }) => reported.push(`${operationId} ${status} ${code}`),
      },
      createRegistry(),
    );
    defineRoute(api, {
      method: 'post',
      path: '/v1/things/{kind}',
      summary: 'A test route',
      description: 'Answers with the code its path names.',
      tags: ['test'],
      tenant: false,
      access: access.public,
      params: z.object({ kind: z.enum(['conflict', 'cart_empty']) }),
      responses: { 204: { description: 'Never' } },
      errors: ['conflict'],
      handler: async ({ params }) => {
        throw params.kind === 'conflict' ? new AppError('conflict', 409, 'listed') : new AppError('cart_empty', 422, 'not listed');
      },
    });
    app.use(api.router);
    app.use(errorMiddleware(silentLogger));
    expect((await request(app).post('/v1/things/conflict')).status).toBe(409);
    expect((await request(app).post('/v1/things/cart_empty')).status).toBe(422);
    expect(reported).toEqual(['postThingsByKind 422 cart_empty']);
    expect(generateOpenApiDocument(api.registry).paths?.['/v1/things/{kind}']?.post?.responses?.['422']).toBeUndefined();
  });
});
