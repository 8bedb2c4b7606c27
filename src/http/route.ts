import express, { type Request, type Response, type Router } from 'express';
import { OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Logger } from 'pino';
import type { Knex } from 'knex';
import { z } from './zod.js';
import { AppError, problemOf, toAppError, type FieldError } from './errors.js';
import { resolveTenant, type Tenant, type TenantResolver } from './tenant.js';
import type { Access, Authenticator, Principal, StaffRole } from './principal.js';
import { withTransaction } from '../db/transaction.js';
import { findTextIssues } from '../lib/text.js';
import {
  beginIdempotentRequest,
  completeIdempotentRequest,
  idempotencyKeyOf,
  releaseIdempotencyKey,
  requestFingerprint,
  type IdempotencyScope,
} from './idempotency.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObjectSchema = z.ZodObject<z.ZodRawShape>;

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

/** The dependencies route handlers may use. */
export interface RouteDeps {
  db: Knex;
  logger: Logger;
  authenticator: Authenticator;
  /** Which restaurant a request is for; without one, every request looks it up. */
  tenants?: TenantResolver;
}

export interface RouteContext<P, Q, B, T extends boolean> {
  req: Request;
  res: Response;
  params: P;
  query: Q;
  body: B;
  tenant: T extends false ? undefined : Tenant;
  principal: Principal | undefined;
  /** The caller's staff role in this restaurant, when the route is for staff (or when they are staff). */
  staffRole: StaffRole | undefined;
  log: Logger;
  /**
   * Runs `work` in a transaction (retried on serialization failures). On an idempotent route the
   * answer `work` returns is stored in that same transaction, so the change and its recorded reply
   * commit together.
   */
  transaction: (work: (trx: Knex.Transaction) => Promise<RouteResult>) => Promise<RouteResult>;
}

export interface RouteResult {
  status: number;
  body?: unknown;
}

export interface RouteDefinition<
  PS extends AnyObjectSchema | undefined,
  QS extends AnyObjectSchema | undefined,
  BS extends z.ZodType | undefined,
  T extends boolean,
> {
  method: Method;
  /** OpenAPI form: `/v1/recipes/{id}`. */
  path: string;
  summary: string;
  tags: string[];
  /** Whether the route serves one restaurant (resolved from the domain). Defaults to true. */
  tenant?: T;
  access: Access;
  params?: PS;
  query?: QS;
  body?: BS;
  /** Extra request headers to document. */
  headers?: AnyObjectSchema;
  /** Requires an `Idempotency-Key` header and replays the stored answer to a retry (API.md "Idempotency"). */
  idempotent?: boolean;
  responses: Record<number, ResponseSpec>;
  handler: (
    ctx: RouteContext<
      PS extends AnyObjectSchema ? z.infer<PS> : Record<string, never>,
      QS extends AnyObjectSchema ? z.infer<QS> : Record<string, never>,
      BS extends z.ZodType ? z.infer<BS> : undefined,
      T
    >,
  ) => Promise<RouteResult>;
}

/** A router plus the OpenAPI registry its routes describe themselves in. */
export interface ApiRouter {
  router: Router;
  registry: OpenAPIRegistry;
  deps: RouteDeps;
}

export function createApiRouter(deps: RouteDeps, registry: OpenAPIRegistry): ApiRouter {
  return { router: express.Router(), registry, deps };
}

export function zodIssuesToFieldErrors(issues: readonly z.core.$ZodIssue[], prefix?: string): FieldError[] {
  return issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((part) => part !== undefined && part !== '').join('.'),
    message: issue.message,
  }));
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: 'body' | 'query' | 'params'): z.infer<S> {
  // Before the schema: no string of any request reaches a service (or Postgres) with a NUL in it (src/lib/text.ts).
  const textIssues = findTextIssues(value, { multilineFields: what === 'body' });
  if (textIssues.length > 0) {
    const errors = textIssues.map((issue) => ({ path: [what === 'body' ? undefined : what, issue.path].filter((part) => part !== undefined && part !== '').join('.'), message: issue.message }));
    throw new AppError('validation_failed', 400, `The request ${what === 'params' ? 'path' : what} holds characters that are not allowed in text`, errors);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const errors = zodIssuesToFieldErrors(result.error.issues, what === 'body' ? undefined : what);
    throw new AppError('validation_failed', 400, `The request ${what === 'params' ? 'path' : what} is not valid`, errors);
  }
  return result.data;
}

const bearer = { bearerAuth: [] as string[] };

function documentRoute(registry: OpenAPIRegistry, def: RouteDefinition<AnyObjectSchema | undefined, AnyObjectSchema | undefined, z.ZodType | undefined, boolean>): void {
  const problem = { description: 'Problem details (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  const responses: RouteConfig['responses'] = {};
  for (const [status, spec] of Object.entries(def.responses)) {
    responses[status] = spec.schema === undefined
      ? { description: spec.description }
      : { description: spec.description, content: { 'application/json': { schema: spec.schema } } };
  }
  const implied: Array<[string, string]> = [['400', 'Invalid input'], ['500', 'Unexpected error']];
  if (def.tenant !== false) implied.push(['404', 'Unknown restaurant or resource']);
  if (def.access.kind === 'optional') implied.push(['401', 'An access token was sent and is not valid']);
  else if (def.access.kind !== 'public') implied.push(['401', 'Missing or invalid access token'], ['403', 'Not allowed for this caller']);
  if (def.body !== undefined) implied.push(['413', 'Body over 100 kB']);
  if (def.idempotent === true) implied.push(['409', 'Idempotency key in use'], ['422', 'Idempotency key reused with another body']);
  for (const [status, description] of implied) {
    if (responses[status] === undefined) responses[status] = { ...problem, description };
  }
  const tenantHeader = z.object({
    'x-restaurant-domain': z.string().optional().openapi({ description: 'The restaurant (else taken from Host)' }),
    ...(def.idempotent === true
      ? { 'idempotency-key': z.string().min(1).max(255).openapi({ description: 'Required. A retry with the same key and body gets the stored answer' }) }
      : {}),
  });
  registry.registerPath({
    method: def.method,
    path: def.path,
    summary: def.summary,
    tags: def.tags,
    ...(def.access.kind === 'public' ? {} : { security: def.access.kind === 'optional' ? [{}, bearer] : [bearer] }),
    request: {
      ...(def.params === undefined ? {} : { params: def.params }),
      ...(def.query === undefined ? {} : { query: def.query }),
      headers: def.headers === undefined ? (def.tenant === false ? undefined : tenantHeader) : def.tenant === false ? def.headers : tenantHeader.extend(def.headers.shape),
      ...(def.body === undefined ? {} : { body: { required: true, content: { 'application/json': { schema: def.body } } } }),
    },
    responses,
  });
}

async function authorize(
  deps: RouteDeps,
  req: Request,
  accessRule: Access,
  tenant: Tenant | undefined,
): Promise<{ principal: Principal | undefined; staffRole: StaffRole | undefined }> {
  if (accessRule.kind === 'public') return { principal: undefined, staffRole: undefined };
  const header = req.get('authorization');
  if (accessRule.kind === 'optional' && (header === undefined || header.trim() === '')) return { principal: undefined, staffRole: undefined };
  const principal = await deps.authenticator.authenticate(req);
  switch (accessRule.kind) {
    case 'optional':
    case 'signed-in': {
      const staffRole = tenant === undefined ? undefined : await deps.authenticator.staffRole(deps.db, tenant.id, principal.sub);
      return { principal, staffRole };
    }
    case 'platform-admin':
      if (!principal.isPlatformAdmin) throw new AppError('forbidden', 403, 'This needs a platform administrator');
      return { principal, staffRole: undefined };
    case 'staff': {
      if (tenant === undefined) throw new Error('a staff route must be a tenant route');
      const staffRole = await deps.authenticator.staffRole(deps.db, tenant.id, principal.sub);
      if (staffRole === undefined || !accessRule.roles.includes(staffRole)) {
        const needed = accessRule.roles.length === 1 ? `the ${accessRule.roles[0]} role` : 'a staff role';
        throw new AppError('forbidden', 403, `This needs ${needed} in this restaurant`);
      }
      return { principal, staffRole };
    }
  }
}

/**
 * Declares one endpoint: path, access rule, schemas and handler in one place (STYLE.md §2). The same
 * declaration validates the request, enforces the access rule, documents the route in OpenAPI and
 * types the handler's input, so the contract and the code cannot drift apart.
 */
export function defineRoute<
  PS extends AnyObjectSchema | undefined = undefined,
  QS extends AnyObjectSchema | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
  T extends boolean = true,
>(api: ApiRouter, def: RouteDefinition<PS, QS, BS, T>): void {
  documentRoute(api.registry, def as unknown as RouteDefinition<AnyObjectSchema | undefined, AnyObjectSchema | undefined, z.ZodType | undefined, boolean>);
  const expressPath = def.path.replace(/\{(\w+)\}/g, ':$1');
  api.router[def.method](expressPath, async (req, res) => {
    const tenant = def.tenant === false ? undefined : await (api.deps.tenants?.resolve(req) ?? resolveTenant(api.deps.db, req));
    const { principal, staffRole } = await authorize(api.deps, req, def.access, tenant);
    const params = def.params === undefined ? {} : parseOrThrow(def.params, req.params, 'params');
    const query = def.query === undefined ? {} : parseOrThrow(def.query, req.query, 'query');
    const body = def.body === undefined ? undefined : parseOrThrow(def.body, req.body, 'body');
    const log = req.log ?? api.deps.logger;

    let scope: IdempotencyScope | undefined;
    if (def.idempotent === true) {
      if (tenant === undefined || principal === undefined) throw new Error('an idempotent route must be a signed-in tenant route');
      scope = { restaurantId: tenant.id, userSub: principal.sub, key: idempotencyKeyOf(req.get('idempotency-key')) };
      const start = await beginIdempotentRequest(api.deps.db, scope, requestFingerprint(req.method, req.path, body ?? null));
      if (start.kind === 'replay') {
        res.setHeader('Idempotent-Replayed', 'true');
        sendResult(res, { status: start.status, body: start.body });
        return;
      }
    }
    let stored = false;
    const transaction = (work: (trx: Knex.Transaction) => Promise<RouteResult>) =>
      withTransaction(api.deps.db, async (trx) => {
        const result = await work(trx);
        if (scope !== undefined) {
          await completeIdempotentRequest(trx, scope, result.status, result.body);
          stored = true;
        }
        return result;
      });
    const ctx = { req, res, params, query, body, tenant, principal, staffRole, log, transaction };

    let result: RouteResult;
    try {
      result = await def.handler(ctx as Parameters<typeof def.handler>[0]);
    } catch (error) {
      if (scope !== undefined) await settleFailedIdempotentRequest(api.deps.db, scope, error);
      throw error;
    }
    if (scope !== undefined && !stored) await completeIdempotentRequest(api.deps.db, scope, result.status, result.body);
    sendResult(res, result);
  });
}

function sendResult(res: Response, result: RouteResult): void {
  if (result.body === undefined || result.body === null) {
    res.status(result.status).end();
  } else if (result.status >= 400) {
    res.status(result.status).type('application/problem+json').send(JSON.stringify(result.body));
  } else {
    res.status(result.status).json(result.body);
  }
}

/**
 * A refusal the client caused (4xx) is the request's answer and is replayed like any other; a failure
 * on our side (5xx) releases the key so the client's retry runs afresh.
 */
async function settleFailedIdempotentRequest(db: Knex, scope: IdempotencyScope, error: unknown): Promise<void> {
  const appError = toAppError(error);
  if (appError.status < 500 && appError.code !== 'idempotency_key_in_use') {
    await completeIdempotentRequest(db, scope, appError.status, problemOf(appError));
  } else {
    await releaseIdempotencyKey(db, scope);
  }
}
