import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from './zod.js';
import { AppError, errorCodes, problemOf, type ErrorCode } from './errors.js';
import { errorCatalog } from './error-catalog.js';
import type { Access } from './principal.js';

export const problemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:tablekit:problem:validation_failed' }),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(errorCodes as [string, ...string[]]).openapi({ description: 'Stable machine code: branch on this, not on the text' }),
    detail: z.string().openapi({ description: 'A human sentence; it may change' }),
    errors: z
      .array(z.object({ path: z.string().openapi({ example: 'items.0.quantity' }), message: z.string() }))
      .optional()
      .openapi({ description: 'What is wrong with which field or item' }),
  })
  // Some problems carry extension members named in API.md beside their code (shortfall_cents, reason, quote, ...).
  .catchall(z.unknown())
  .openapi('Problem', { description: 'RFC 9457 problem details with a stable `code`' });

type HeaderName = 'X-Request-Id' | 'ETag' | 'Cache-Control' | 'Retry-After' | 'Idempotent-Replayed' | 'RateLimit' | 'RateLimit-Policy';

/** Response headers, defined once under components.headers and referenced from each response. */
const headerComponents: Record<HeaderName, { description: string; schema: { type: 'string' | 'integer'; enum?: string[]; minimum?: number } }> = {
  'X-Request-Id': {
    description: "Echoes the request's well-formed X-Request-Id, else a new id: quote it when reporting a problem",
    schema: { type: 'string' },
  },
  ETag: { description: 'Strong validator of the body: send it back as If-None-Match to get 304 when nothing changed', schema: { type: 'string' } },
  'Cache-Control': {
    description: 'public, max-age=5 without a token; private, max-age=5 for a customer; private, no-store for staff',
    schema: { type: 'string' },
  },
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } },
  'Idempotent-Replayed': {
    description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key',
    schema: { type: 'string', enum: ['true'] },
  },
  RateLimit: {
    description: 'The limit, what is left of it and the seconds until it resets (IETF draft 7), e.g. `limit=30, remaining=29, reset=60`',
    schema: { type: 'string' },
  },
  'RateLimit-Policy': { description: 'The limit and its window in seconds, e.g. `30;w=60`', schema: { type: 'string' } },
};
const headerRef = (name: HeaderName) => ({ $ref: `#/components/headers/${name}` });

const apiDescription = `Online ordering for restaurants: menu, ingredient-level stock, cart, checkout, payments.

**Restaurants.** Each restaurant is a tenant known by its domain (\`storeabc.com\`): customers reach it at
\`www.storeabc.com\`, staff at \`staff.storeabc.com\`. A request is for the restaurant named by the
\`X-Restaurant-Domain\` header, else by its \`Host\` with a leading \`www.\`, \`staff.\` or \`api.\` removed;
an unknown domain is \`404 restaurant_not_found\`. Operations marked *platform-wide* need no restaurant.

**Signing in.** \`POST /v1/auth/login\` returns a Cognito access token; send it as
\`Authorization: Bearer <access_token>\`. Any signed-in user is a customer of every restaurant; staff roles
(\`manager\`, \`kitchen\`) are per restaurant; platform admins create restaurants.

**Conventions.** JSON with snake_case fields; ids are positive integers; instants are RFC 3339 UTC; money is
an integer number of minor units of the restaurant's currency in fields ending \`_cents\`. Lists take
\`limit\` (1-100, default 20) and an opaque \`cursor\` and answer \`{data, next_cursor}\`. Bodies over 100 kB are
\`413\`. Every answer carries \`X-Request-Id\`.

**Errors** are \`application/problem+json\` (RFC 9457) with a stable \`code\`; each operation lists the codes
it can answer with, and \`errors\` names the fields or items at fault.

**Idempotency.** Operations that take an \`Idempotency-Key\` header store their first answer for 24 hours
(per restaurant and user): a retry with the same key and body gets that answer again with
\`Idempotent-Replayed: true\` and changes nothing; the same key with another body is
\`422 idempotency_key_reused\`; while the first is still running, \`409 idempotency_key_in_use\`.

**Limits and caching.** Rate-limited operations send \`RateLimit\` headers and answer \`429 rate_limited\`
with \`Retry-After\`. Public menu reads carry a strong \`ETag\`: \`If-None-Match\` gets \`304\`.`;

export function createRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.register('Problem', problemSchema);
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An Amazon Cognito access token (POST /v1/auth/login)',
  });
  for (const [name, header] of Object.entries(headerComponents)) registry.registerComponent('headers', name, header);
  // One example problem per code, referenced (with what it means there) by every response that can carry it.
  for (const code of errorCodes) {
    const { status, example } = errorCatalog[code];
    registry.registerComponent('examples', code, { summary: example, value: problemOf(new AppError(code, status, example)) });
  }
  return registry;
}

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

export function generateOpenApiDocument(registry: OpenAPIRegistry): OpenApiDocument {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Tablekit API',
      version: '1.0.0',
      description: apiDescription,
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: '/', description: 'The restaurant domain (or api.<domain>) this document was fetched from' }],
  });
}

/** The error codes an operation can answer with, each optionally with what it means there. */
export type RouteErrors = readonly ErrorCode[] | Partial<Record<ErrorCode, string>>;

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

/** A body the handler reads itself (raw, e.g. to check a signature over it): documented, not validated by the route. */
export interface RawBodySpec {
  description: string;
  schema: z.ZodType;
  /**
   * An upload (a picture): the only media types accepted (else 415) and its own size limit (else 413). The
   * route reads the body itself, after the sign-in and role checks, so nobody unauthorised can make it read megabytes.
   */
  upload?: { mediaTypes: readonly string[]; maxBytes: number };
}

/** Everything the document says about one operation; built by `defineRoute` from the route's definition. */
export interface OperationSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  operationId: string | undefined;
  summary: string;
  description: string;
  tags: string[];
  access: Access['kind'];
  tenant: boolean;
  params: z.ZodObject<z.ZodRawShape> | undefined;
  query: z.ZodObject<z.ZodRawShape> | undefined;
  headers: z.ZodObject<z.ZodRawShape> | undefined;
  body: z.ZodType | undefined;
  rawBody: RawBodySpec | undefined;
  idempotent: boolean;
  rateLimited: boolean;
  responses: Record<number, ResponseSpec>;
  errors: RouteErrors | undefined;
}

/** `post /v1/orders/{id}/payments` → `postOrdersByIdPayments`: stable, unique per method and path. */
export function operationIdFor(method: string, path: string): string {
  const pascal = (words: string) =>
    words
      .split(/[-_]/)
      .filter((word) => word !== '')
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join('');
  const segments = path
    .split('/')
    .filter((segment) => segment !== '' && segment !== 'v1')
    .map((segment) => (segment.startsWith('{') ? `By${pascal(segment.slice(1, -1))}` : pascal(segment)));
  return `${method}${segments.join('')}`;
}

/** The codes every operation of this kind can answer with, whatever its handler does (middleware, access rule, tenant). */
function impliedErrors(op: OperationSpec): Partial<Record<ErrorCode, string>> {
  const implied: Partial<Record<ErrorCode, string>> = {
    validation_failed: 'The request is not valid; `errors` names each field at fault',
    https_required: 'In production, when the load balancer received the request over plain http',
    internal: 'An unexpected failure; the detail never says more',
  };
  if (op.body !== undefined || op.rawBody !== undefined) {
    const limit = op.rawBody?.upload?.maxBytes;
    implied.payload_too_large = limit === undefined ? 'The body is over 100 kB' : `The body is over ${limit / (1024 * 1024)} MB`;
  }
  if (op.rawBody?.upload !== undefined) implied.unsupported_media_type = `Content-Type is not one of ${op.rawBody.upload.mediaTypes.join(', ')}`;
  if (op.tenant) implied.restaurant_not_found = 'No restaurant is served at this domain';
  if (op.params !== undefined) implied.not_found = 'Nothing the caller may see has this id';
  if (op.access === 'optional') implied.unauthenticated = 'An access token was sent and is not valid';
  else if (op.access !== 'public') implied.unauthenticated = 'The access token is missing, expired or not valid';
  if (op.access === 'staff' || op.access === 'platform-admin')
    implied.forbidden = op.access === 'staff' ? 'The caller has no suitable staff role here' : 'The caller is not a platform admin';
  // The tenant lookup and the token check need the database or the identity service.
  if (op.tenant || op.access !== 'public') implied.service_unavailable = 'The database or the identity service is briefly unavailable';
  if (op.idempotent) {
    implied.idempotency_key_required = 'No Idempotency-Key header was sent';
    implied.idempotency_key_in_use = 'A request with this key is still running';
    implied.idempotency_key_reused = 'This key was used for a different request';
  }
  if (op.rateLimited) implied.rate_limited = 'Too many requests from this client (or for this email); wait for Retry-After';
  return implied;
}

function errorsOf(op: OperationSpec): Map<ErrorCode, string> {
  const declared: Partial<Record<ErrorCode, string>> = Array.isArray(op.errors)
    ? Object.fromEntries((op.errors as readonly ErrorCode[]).map((code) => [code, undefined]))
    : { ...(op.errors as Partial<Record<ErrorCode, string>> | undefined) };
  const merged = new Map<ErrorCode, string>();
  for (const [code, meaning] of Object.entries({ ...impliedErrors(op), ...declared }) as Array<[ErrorCode, string | undefined]>) {
    merged.set(code, meaning ?? impliedErrors(op)[code] ?? errorCatalog[code].example);
  }
  return merged;
}

function responseHeaders(op: OperationSpec, status: number, extra: HeaderName[]): Record<string, { $ref: string }> {
  const names: HeaderName[] = ['X-Request-Id', ...extra];
  // Stored answers (2xx and the client's 4xx) are replayed; 5xx answers release the key instead.
  if (op.idempotent && status < 500) names.push('Idempotent-Replayed');
  if (op.rateLimited) names.push('RateLimit', 'RateLimit-Policy');
  return Object.fromEntries(names.map((name) => [name, headerRef(name)]));
}

/**
 * Registers the operation and returns the `code:status` pairs it documents, so tests can tell when a
 * route answers with a code its document does not list.
 */
export function registerOperation(registry: OpenAPIRegistry, op: OperationSpec): Set<string> {
  const cacheable = op.responses[304] !== undefined;
  const responses: RouteConfig['responses'] = {};
  for (const [status, spec] of Object.entries(op.responses)) {
    const code = Number(status);
    const extra: HeaderName[] = cacheable && (code === 200 || code === 304) ? ['ETag', 'Cache-Control'] : [];
    const response: ResponseConfig = { description: spec.description, headers: responseHeaders(op, code, extra) };
    if (spec.schema !== undefined) response.content = { 'application/json': { schema: spec.schema } };
    responses[status] = response;
  }

  const byStatus = new Map<number, Array<[ErrorCode, string]>>();
  for (const [code, meaning] of errorsOf(op)) {
    const status = errorCatalog[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), [code, meaning]]);
  }
  const documented = new Set<string>();
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    if (responses[status] !== undefined)
      throw new Error(`${op.method} ${op.path}: ${status} is an error status; list its codes in \`errors\`, not \`responses\``);
    for (const [code] of codes) documented.add(`${code}:${status}`);
    responses[status] = {
      description: codes.map(([code, meaning]) => `\`${code}\`: ${meaning}`).join('; '),
      headers: responseHeaders(op, status, codes.some(([code]) => errorCatalog[code].retryAfter === true) ? ['Retry-After'] : []),
      content: {
        'application/problem+json': {
          schema: {
            allOf: [{ $ref: '#/components/schemas/Problem' }, { type: 'object', properties: { code: { type: 'string', enum: codes.map(([code]) => code) } } }],
          },
          examples: Object.fromEntries(codes.map(([code]) => [code, { $ref: `#/components/examples/${code}` }])),
        },
      },
    };
  }

  const bearer = { bearerAuth: [] as string[] };
  const security = { public: [], optional: [{}, bearer], 'signed-in': [bearer], staff: [bearer], 'platform-admin': [bearer] }[op.access];
  const tenantHeader = z.object({
    'x-restaurant-domain': z.string().optional().openapi({ description: 'The restaurant (else taken from Host)' }),
    ...(op.idempotent
      ? { 'idempotency-key': z.string().min(1).max(255).openapi({ description: 'Required. A retry with the same key and body gets the stored answer' }) }
      : {}),
  });
  const headers = op.tenant ? (op.headers === undefined ? tenantHeader : tenantHeader.extend(op.headers.shape)) : op.headers;
  const body = op.body ?? op.rawBody?.schema;
  registry.registerPath({
    method: op.method,
    path: op.path,
    operationId: op.operationId ?? operationIdFor(op.method, op.path),
    summary: op.summary,
    description: op.description,
    tags: op.tags,
    security,
    request: {
      ...(op.params === undefined ? {} : { params: op.params }),
      ...(op.query === undefined ? {} : { query: op.query }),
      ...(headers === undefined ? {} : { headers }),
      ...(body === undefined
        ? {}
        : {
            body: {
              required: true,
              ...(op.rawBody === undefined ? {} : { description: op.rawBody.description }),
              content: Object.fromEntries((op.rawBody?.upload?.mediaTypes ?? ['application/json']).map((type) => [type, { schema: body }])),
            },
          }),
    },
    responses,
  });
  return documented;
}
