import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Logger } from 'pino';
import type { Knex } from 'knex';
import type { z } from './zod.js';
import { AppError, problemOf, toAppError, type ErrorCode, type FieldError } from './errors.js';
import { operationIdFor, registerOperation, type RawBodySpec, type ResponseSpec, type RouteErrors } from './openapi.js';
import type { Tenant, TenantResolver } from './tenant.js';
import type { Access, Authenticator, Principal, StaffRole } from './principal.js';
import { withTransaction } from '../db/transaction.js';
import type { MediaStore } from '../modules/media/store.js';
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

export type { ResponseSpec, RouteErrors } from './openapi.js';

/** The dependencies route handlers may use. */
export interface RouteDeps {
  db: Knex;
  logger: Logger;
  authenticator: Authenticator;
  /** Which restaurant a request is for: its domain looked up through the restaurants module, briefly remembered. */
  tenants: TenantResolver;
  /** Where recipe pictures are kept and the URLs they are read from. */
  media: MediaStore;
  /** Told when a route answers with an error code its OpenAPI document does not list (tests fail on it). */
  onUndocumentedError?: ((error: { operationId: string; code: ErrorCode; status: number }) => void) | undefined;
}

/** Signed in on every route but the public and optional ones: there the handler always has a principal. */
export type PrincipalFor<A extends Access> = A['kind'] extends 'public' | 'optional' ? Principal | undefined : Principal;

export interface RouteContext<P, Q, B, T extends boolean, A extends Access = Access> {
  req: Request;
  res: Response;
  params: P;
  query: Q;
  body: B;
  tenant: T extends false ? undefined : Tenant;
  principal: PrincipalFor<A>;
  /** The caller's staff role in this restaurant, when the route is for staff (or when they are staff). */
  staffRole: StaffRole | undefined;
  log: Logger;
  /**
   * Runs `work` in a transaction (retried on serialization failures). On an idempotent route the
   * answer `work` returns is stored in that same transaction, so the change and its recorded reply
   * commit together; then its `lastInTransaction` runs, if any.
   */
  transaction: (work: (trx: Knex.Transaction) => Promise<TransactionResult>) => Promise<RouteResult>;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  /**
   * A successful answer already serialised as JSON (the database built it), sent as it is: the same
   * `Content-Type` and strong ETag a `body` gets. Not on idempotent routes, whose stored reply is a `body`.
   */
  json?: string;
}

export interface TransactionResult extends RouteResult {
  /**
   * Work that does not change the answer, run after it is stored and just before `COMMIT`: the
   * statements that take the most contended row locks (checkout's stock and slot), so those locks are
   * held for as few round trips as possible. If it throws, the transaction rolls back, stored answer
   * included, and the error is the request's answer as from `work`.
   */
  lastInTransaction?: (trx: Knex.Transaction) => Promise<void>;
}

export interface RouteDefinition<
  PS extends AnyObjectSchema | undefined,
  QS extends AnyObjectSchema | undefined,
  BS extends z.ZodType | undefined,
  T extends boolean,
  A extends Access = Access,
> {
  method: Method;
  /** OpenAPI form: `/v1/recipes/{id}`. */
  path: string;
  summary: string;
  /** What the operation does and any rule a client must know, in a sentence or three (the OpenAPI description). */
  description: string;
  /** Defaults to one derived from method and path (`postOrdersByIdPayments`); set one only where that reads badly. */
  operationId?: string;
  tags: string[];
  /** Whether the route serves one restaurant (resolved from the domain). Defaults to true. */
  tenant?: T;
  access: A;
  params?: PS;
  query?: QS;
  body?: BS;
  /** Extra request headers to document. */
  headers?: AnyObjectSchema;
  /** A body the handler reads raw (`req.rawBody`), e.g. to verify a signature: documented but not validated. */
  rawBody?: RawBodySpec;
  /** Requires an `Idempotency-Key` header and replays the stored answer to a retry (API.md "Idempotency"). */
  idempotent?: boolean;
  /**
   * A signed-in route whose handler treats staff like anyone else (the cart, placing an order): the
   * caller's staff role is not looked up (one statement a request) and `staffRole` is undefined.
   */
  ignoresStaffRole?: true;
  /** Limiters run before the route (in order); the document then shows 429 and the RateLimit headers. */
  rateLimit?: readonly RequestHandler[];
  /** Success answers (and non-problem ones such as 304). Error statuses come from `errors`. */
  responses: Record<number, ResponseSpec>;
  /**
   * The error codes the handler (and the services it calls) can answer with, optionally with what each
   * means here: `['conflict']` or `{ conflict: 'the name is taken' }`. Codes every route of its kind can
   * answer with (validation_failed, unauthenticated, forbidden, restaurant_not_found, not_found with path
   * params, the idempotency codes, rate_limited, service_unavailable, internal) are added by themselves.
   * Statuses come from src/http/error-catalog.ts.
   */
  errors?: RouteErrors;
  handler: (
    ctx: RouteContext<
      PS extends AnyObjectSchema ? z.infer<PS> : Record<string, never>,
      QS extends AnyObjectSchema ? z.infer<QS> : Record<string, never>,
      BS extends z.ZodType ? z.infer<BS> : undefined,
      T,
      A
    >,
  ) => Promise<RouteResult>;
}

/** The routes, plus the OpenAPI registry they describe themselves in. */
export interface ApiRouter {
  /** Mounted on the app: hands a request to the routes of its resource (`resourceOf`), or passes it on. */
  router: RequestHandler;
  registry: OpenAPIRegistry;
  deps: RouteDeps;
  /** One express router per resource: a request is matched against its resource's few routes, not all of them. */
  resources: Map<string, Router>;
}

export function createApiRouter(deps: RouteDeps, registry: OpenAPIRegistry): ApiRouter {
  const resources = new Map<string, Router>();
  const router: RequestHandler = (req, res, next) => {
    const routes = resources.get(resourceOf(req.path));
    if (routes === undefined) next();
    else routes(req, res, next);
  };
  return { router, registry, deps, resources };
}

/**
 * A path's first two segments, lower-cased, without a trailing slash: `/v1/recipes/{id}` and `/V1/Recipes/`
 * give `/v1/recipes`, `/healthz` gives itself. Every route's first two segments are literal, and express
 * matches paths case-insensitively and with or without a trailing slash, so this never parts a request
 * from a route that would have matched it.
 */
export function resourceOf(path: string): string {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const second = trimmed.indexOf('/', 1);
  const third = second === -1 ? -1 : trimmed.indexOf('/', second + 1);
  return (third === -1 ? trimmed : trimmed.slice(0, third)).toLowerCase();
}

function routesOf(api: ApiRouter, path: string): Router {
  const resource = resourceOf(path);
  if (/[{:]/.test(resource)) throw new Error(`${path}: the first two segments of a route's path must be literal`);
  let routes = api.resources.get(resource);
  if (routes === undefined) {
    routes = express.Router();
    api.resources.set(resource, routes);
  }
  return routes;
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
    const errors = textIssues.map((issue) => ({
      path: [what === 'body' ? undefined : what, issue.path].filter((part) => part !== undefined && part !== '').join('.'),
      message: issue.message,
    }));
    throw new AppError('validation_failed', 400, `The request ${what === 'params' ? 'path' : what} holds characters that are not allowed in text`, errors);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const errors = zodIssuesToFieldErrors(result.error.issues, what === 'body' ? undefined : what);
    throw new AppError('validation_failed', 400, `The request ${what === 'params' ? 'path' : what} is not valid`, errors);
  }
  return result.data;
}

type AnyRouteDefinition = RouteDefinition<AnyObjectSchema | undefined, AnyObjectSchema | undefined, z.ZodType | undefined, boolean>;

/** Describes the route in the OpenAPI document; returns the `code:status` pairs it documents. */
function documentRoute(registry: OpenAPIRegistry, def: AnyRouteDefinition): Set<string> {
  return registerOperation(registry, {
    method: def.method,
    path: def.path,
    operationId: def.operationId,
    summary: def.summary,
    description: def.description,
    tags: def.tags,
    access: def.access.kind,
    tenant: def.tenant !== false,
    params: def.params,
    query: def.query,
    headers: def.headers,
    body: def.body,
    rawBody: def.rawBody,
    idempotent: def.idempotent === true,
    rateLimited: (def.rateLimit ?? []).length > 0,
    responses: def.responses,
    errors: def.errors,
  });
}

async function authorize(
  deps: RouteDeps,
  req: Request,
  accessRule: Access,
  tenant: Tenant | undefined,
  ignoresStaffRole: boolean,
): Promise<{ principal: Principal | undefined; staffRole: StaffRole | undefined }> {
  if (accessRule.kind === 'public') return { principal: undefined, staffRole: undefined };
  const header = req.get('authorization');
  if (accessRule.kind === 'optional' && (header === undefined || header.trim() === '')) return { principal: undefined, staffRole: undefined };
  const principal = await deps.authenticator.authenticate(req);
  switch (accessRule.kind) {
    case 'optional':
    case 'signed-in': {
      const staffRole = tenant === undefined || ignoresStaffRole ? undefined : await deps.authenticator.staffRole(deps.db, tenant.id, principal.sub);
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
  A extends Access = Access,
>(api: ApiRouter, def: RouteDefinition<PS, QS, BS, T, A>): void {
  const documented = documentRoute(api.registry, def as unknown as AnyRouteDefinition);
  const operationId = def.operationId ?? operationIdFor(def.method, def.path);
  const checkDocumented = (code: ErrorCode, status: number) => {
    if (!documented.has(`${code}:${status}`)) api.deps.onUndocumentedError?.({ operationId, code, status });
  };
  const expressPath = def.path.replace(/\{(\w+)\}/g, ':$1');
  const serve = async (req: Request, res: Response): Promise<void> => {
    const tenant = def.tenant === false ? undefined : await api.deps.tenants.resolve(req);
    const { principal, staffRole } = await authorize(api.deps, req, def.access, tenant, def.ignoresStaffRole === true);
    const params = def.params === undefined ? {} : parseOrThrow(def.params, req.params, 'params');
    const query = def.query === undefined ? {} : parseOrThrow(def.query, req.query, 'query');
    const body = def.body === undefined ? undefined : parseOrThrow(def.body, req.body, 'body');
    if (def.rawBody?.upload !== undefined) req.rawBody = await readUpload(req, res, def.rawBody.upload);

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
    const transaction = (work: (trx: Knex.Transaction) => Promise<TransactionResult>) =>
      withTransaction(api.deps.db, async (trx): Promise<RouteResult> => {
        const { lastInTransaction, ...result } = await work(trx);
        if (scope !== undefined) await completeIdempotentRequest(trx, scope, result.status, storedReplyOf(result));
        await lastInTransaction?.(trx);
        if (scope !== undefined) stored = true;
        return result;
      });
    const ctx = {
      req,
      res,
      params,
      query,
      body,
      tenant,
      principal,
      staffRole,
      // Asked for by the few handlers that log: the request's child logger is made only then.
      get log(): Logger {
        return req.log ?? api.deps.logger;
      },
      transaction,
    };

    let result: RouteResult;
    try {
      result = await def.handler(ctx as Parameters<typeof def.handler>[0]);
    } catch (error) {
      if (scope !== undefined) await settleFailedIdempotentRequest(api.deps.db, scope, error);
      throw error;
    }
    if (scope !== undefined && !stored) await completeIdempotentRequest(api.deps.db, scope, result.status, storedReplyOf(result));
    // A declared response (readiness's 503) is not a problem; any other error answer must be a documented one.
    if (result.status >= 400 && def.responses[result.status] === undefined) checkDocumented((result.body as { code: ErrorCode }).code, result.status);
    sendResult(res, result);
  };
  routesOf(api, def.path)[def.method](expressPath, ...(def.rateLimit ?? []), async (req: Request, res: Response) => {
    try {
      await serve(req, res);
    } catch (error) {
      const appError = toAppError(error);
      checkDocumented(appError.code, appError.status);
      throw error;
    }
  });
}

/** Reads an upload's bytes (after the access checks): of an accepted media type, at most `maxBytes`. */
async function readUpload(req: Request, res: Response, upload: NonNullable<RawBodySpec['upload']>): Promise<Buffer> {
  const type = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!upload.mediaTypes.includes(type)) {
    throw new AppError('unsupported_media_type', 415, `Send the body as ${upload.mediaTypes.join(', ')}${type === '' ? '' : `, not ${type}`}`);
  }
  const megabytes = upload.maxBytes / (1024 * 1024);
  const parse = express.raw({ type: () => true, limit: upload.maxBytes });
  await new Promise<void>((resolve, reject) => {
    parse(req, res, (error?: unknown) => {
      if (error === undefined) resolve();
      else if (typeof error === 'object' && error !== null && 'type' in error && error.type === 'entity.too.large') {
        reject(new AppError('payload_too_large', 413, `The body is larger than ${megabytes} MB`));
      } else reject(error);
    });
  });
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/** What an idempotent route's answer is replayed from: its `body` (JSON text would be stored as a string). */
function storedReplyOf(result: RouteResult): unknown {
  if (result.json !== undefined) throw new Error('an idempotent route must answer with a body, not JSON text');
  return result.body;
}

function sendResult(res: Response, result: RouteResult): void {
  // A handler that streams its answer (Server-Sent Events) has written it itself.
  if (res.headersSent) return;
  if (result.json !== undefined) {
    res.status(result.status).type('json').send(result.json);
  } else if (result.body === undefined || result.body === null) {
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
