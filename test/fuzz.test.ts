// Fuzzing every documented route from /openapi.json: random and malformed path ids, queries, headers and
// bodies (wrong types, huge and negative numbers, unicode, SQL and script fragments, missing and extra
// fields, broken JSON, odd content types; NUL and other control characters, lone surrogates and bytes that
// are not UTF-8, raw in bodies and %-escaped in paths and queries), as a manager, a customer, a platform admin, with a bad token
// and with none. The service must never answer 5xx, and every 4xx must be problem+json with a known code.
//
// Reproducible: a fixed seed by default; FUZZ_SEED=<n> and FUZZ_RUNS=<requests per operation> override it.
// A failure lists each offending request (method, URL, headers, body) with the answer it got; FUZZ_DUMP=<file>
// writes them all as JSON, and FUZZ_TRACE='post /v1/orders' prints every request to one operation.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerClientError, errorCodes } from '../src/http/errors.js';
import { createTestApp, type TestApp } from './support/app.js';
import { insertIngredientRow, insertRecipeRows } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { signInCustomer, signInPlatformAdmin, signInStaff, type SignedInUser } from './support/users.js';
import { openSse } from './support/sse.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
};

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}

interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body: Schema | undefined;
  secured: boolean;
}

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Sent as is: a JSON text, broken JSON, another media type's body, or bytes that are not UTF-8. */
  body: string | Buffer | undefined;
}

interface Finding {
  request: FuzzRequest;
  status: number;
  contentType: string;
  body: string;
  problem: string;
}

// --- nasty values ---------------------------------------------------------------------------------

const nastyStrings = [
  '',
  ' ',
  "' OR '1'='1",
  '1; DROP TABLE orders; --',
  "'); SELECT pg_sleep(5); --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection probe, meant literally
  '${jndi:ldap://example.com/a}',
  '{{7*7}}',
  '../../../etc/passwd',
  '%00',
  '\u0000',
  'a\u0000b',
  '\u0007\u0008\u001b[31m',
  '\u007f',
  'two\nlines',
  'a\ttab',
  '\r\n',
  '\\',
  '"',
  "'",
  '\ud800',
  '\udfff',
  'x\ud83d',
  '\udc00\ud800',
  '\ufffd',
  '🍕🍔🌮',
  'Ω≈ç√∫˜µ≤≥÷',
  'ﷺ',
  '\u202egnp.exe',
  'zalgơ̴̢̞̳͔̣̦̣̝̩͈͇̰͋',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '9'.repeat(40),
  'null',
  'true',
  '[]',
  '{}',
  'x'.repeat(300),
  'é'.repeat(5000),
];
const nastyNumbers = [
  0,
  -0,
  -1,
  1.5,
  -1.5,
  0.1,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 63,
  -(2 ** 63),
  1e21,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  Number.EPSILON,
  5e-324,
];

const nastyString = fc.constantFrom(...nastyStrings);
/** Characters no text input may hold (src/lib/text.ts), and some that free text may. */
const badCharacter = fc.constantFrom('\u0000', '\u0001', '\u0007', '\u001b', '\u001f', '\u007f', '\t', '\n', '\r', '\ud800', '\udbff', '\udc00', '\udfff');
/** Byte sequences that are not UTF-8: a truncated sequence, an encoded surrogate, an overlong form, bytes never used. */
const invalidUtf8 = fc.constantFrom([0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe0, 0x80], [0xff], [0xfe, 0xff], [0x80], [0xf4, 0x90, 0x80, 0x80]);
/** The same as %-escapes, and a NUL, for paths and queries. */
const badEscapes = ['%00', 'a%00b', '%C3%28', '%ED%A0%80', '%C0%AF', '%FF', '%F4%90%80%80', '%01', '%1B', '%7F', '%0A'];
const nastyNumber = fc.constantFrom(...nastyNumbers);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  nastyNumber,
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.oneof(nastyString, nastyNumber), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(nastyString, nastyNumber), { maxKeys: 3 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  anyJson,
);

// --- values from the document's JSON schemas --------------------------------------------------------

function valueArbitrary(
  schema: Schema,
  resolve: (ref: string) => Schema,
  knownIds: () => number[],
  name = '',
  depth = 0,
  mutate = true,
): fc.Arbitrary<unknown> {
  if (schema.$ref !== undefined) return valueArbitrary(resolve(schema.$ref), resolve, knownIds, name, depth, mutate);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) return fc.oneof(...alternatives.map((s) => valueArbitrary(s, resolve, knownIds, name, depth, mutate)));
  if (schema.allOf !== undefined)
    return valueArbitrary(Object.assign({}, ...schema.allOf.map((s) => (s.$ref ? resolve(s.$ref) : s))), resolve, knownIds, name, depth, mutate);
  const types = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type];
  const nullable = types.includes('null') || schema.nullable === true;
  const type = types.find((t) => t !== 'null');
  let valid: fc.Arbitrary<unknown>;
  if (schema.enum !== undefined) {
    valid = fc.constantFrom(...schema.enum);
  } else if (type === 'string') {
    const minLength = schema.minLength ?? 0;
    const maxLength = Math.min(schema.maxLength ?? 60, 60);
    if (schema.format === 'email' || /email/.test(name)) valid = fc.oneof(fc.emailAddress(), fc.string({ minLength, maxLength }));
    else if (schema.format === 'date-time') valid = fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'not a date' : d.toISOString()));
    else {
      const words = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]*$/).filter((v) => v.length >= Math.max(minLength, 1) && v.length <= maxLength);
      valid = mutate
        ? fc.oneof(
            { weight: 2, arbitrary: words },
            { weight: 1, arbitrary: fc.string({ minLength, maxLength }) },
            { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength }) },
            // Otherwise valid, so it gets past length and format checks with the bad character still in it.
            {
              weight: 1,
              arbitrary: fc
                .tuple(words, badCharacter, fc.nat())
                .map(([word, bad, at]) => word.slice(0, at % (word.length + 1)) + bad + word.slice(at % (word.length + 1))),
            },
          )
        : words;
    }
  } else if (type === 'integer' || type === 'number') {
    const min = schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : (schema.minimum ?? -1_000_000);
    const max = Math.min(schema.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER);
    const inRange = fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.max(min, max) });
    const edges = mutate ? fc.constantFrom(min, max, min - 1, max + 1) : fc.constantFrom(min, max);
    valid = /_id$|^id$/.test(name) ? fc.oneof(fc.constantFrom(...knownIds()), inRange, edges) : fc.oneof(inRange, edges);
    if (type === 'number') valid = fc.oneof(valid, fc.double({ noNaN: true, noDefaultInfinity: true }));
  } else if (type === 'boolean') {
    valid = fc.boolean();
  } else if (type === 'array') {
    const item = valueArbitrary(schema.items ?? {}, resolve, knownIds, name, depth + 1, mutate);
    valid = fc.array(item, { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) });
  } else if (type === 'object' || schema.properties !== undefined) {
    valid = objectArbitrary(schema, resolve, knownIds, depth, mutate);
  } else {
    valid = anyJson;
  }
  if (nullable) valid = fc.oneof(valid, fc.constant(null));
  // Mostly well-formed, so requests get past validation into the code behind it; sometimes anything at all.
  return depth > 3 || !mutate ? valid : fc.oneof({ weight: 9, arbitrary: valid }, { weight: 1, arbitrary: nastyValue });
}

function objectArbitrary(
  schema: Schema,
  resolve: (ref: string) => Schema,
  knownIds: () => number[],
  depth: number,
  mutate: boolean,
): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const keys = Object.keys(properties);
  const required = keys.filter((key) => (schema.required ?? []).includes(key));
  // Required fields are there (wrapped, so a generated `undefined` still counts as present), optional ones
  // come and go; now and then one required field is left out and an unknown one is added.
  const fields = keys.map((key) => {
    const value = valueArbitrary(properties[key] ?? {}, resolve, knownIds, key, depth + 1, mutate).map((v) => ({ v }));
    return required.includes(key) ? value : fc.option(value, { freq: 2, nil: undefined });
  });
  const extraKey = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'restaurant_id', 'id', 'status', 'stock', 'user_sub'));
  return fc
    .record({
      values: fc.tuple(...fields),
      drop: required.length === 0 || !mutate ? fc.constant(undefined) : fc.option(fc.constantFrom(...required), { freq: 12, nil: undefined }),
      extra: mutate ? fc.option(fc.tuple(extraKey, nastyValue), { freq: 10, nil: undefined }) : fc.constant(undefined),
    })
    .map(({ values, drop, extra }) => {
      const object: Record<string, unknown> = {};
      keys.forEach((key, i) => {
        const field = values[i];
        if (field !== undefined && key !== drop) object[key] = field.v;
      });
      if (extra !== undefined) Object.defineProperty(object, extra[0], { value: extra[1], enumerable: true, writable: true, configurable: true });
      return object;
    });
}

// --- requests ---------------------------------------------------------------------------------------

/** encodeURIComponent, except that a lone surrogate (which it refuses) goes as the bytes a lenient encoder would send. */
const encode = (value: string) => {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '\ufffd')).concat('%ED%A0%80');
  }
};

/** Header values must stay within what HTTP (and Node) can carry: visible ASCII and Latin-1. */
const headerSafe = (value: string) => value.replace(/[^\x20-\x7e\xa0-\xff]/g, '?').slice(0, 4000);

const malformedBodies = [
  '{',
  '{"a":',
  '[1, 2,',
  'not json',
  '{"__proto__": {"admin": true}}',
  '{"quantity": 1e999}',
  '{"quantity": 123456789012345678901234567890}',
  '{"recipe_id": 1, "recipe_id": "duplicate key"}',
  '\u0000',
  '"just a string"',
  '42',
  'null',
  '[]',
  `{"deep": ${'['.repeat(2000)}${']'.repeat(2000)}}`,
];

/** A JSON text with raw bytes put inside its first string (a value if it has one), so only their encoding is wrong. */
function spliceBytes(json: string, bytes: readonly number[]): Buffer {
  const value = json.indexOf('":"');
  const at = value !== -1 ? value + 3 : json.indexOf('"') + 1;
  if (at <= 0) return Buffer.concat([Buffer.from('"'), Buffer.from(bytes), Buffer.from('"')]);
  return Buffer.concat([Buffer.from(json.slice(0, at)), Buffer.from(bytes), Buffer.from(json.slice(at))]);
}

/**
 * Two kinds of request, mixed: well-formed ones (the right method, a valid domain, a real user's token, a
 * body that fits the schema), which get past validation into the services and the database, and anything
 * at all.
 */
function requestArbitrary(op: Operation, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { weight: 1, arbitrary: cleanRequestArbitrary(op, ctx) },
    { weight: 1, arbitrary: poisonedRequestArbitrary(op, ctx) },
    { weight: 2, arbitrary: anyRequestArbitrary(op, ctx) },
  );
}

/** Every string leaf of a parsed JSON body, as the object or array holding it and its key. */
function stringLeaves(value: unknown): Array<[Record<string, unknown>, string]> {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(
    ([key, item]): Array<[Record<string, unknown>, string]> => (typeof item === 'string' ? [[value as Record<string, unknown>, key]] : stringLeaves(item)),
  );
}

/**
 * A well-formed request with one bad character (a NUL, a control character, a lone surrogate) put into
 * one of its strings: a body field, a query parameter or a path segment. Everything else being valid, it
 * reaches the code (and the SQL) behind the field, which is where such characters did harm.
 */
function poisonedRequestArbitrary(op: Operation, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(cleanRequestArbitrary(op, ctx), badCharacter, fc.nat(), fc.constantFrom('body', 'query', 'path')).map(([r, bad, pick, where]) => {
    const insert = (text: string) => text.slice(0, pick % (text.length + 1)) + bad + text.slice(pick % (text.length + 1));
    const body = r.body === undefined || typeof r.body !== 'string' ? undefined : (JSON.parse(r.body) as unknown);
    const leaves = stringLeaves(body);
    const [pathname = '', query] = r.url.split('?');
    const queryParts = query === undefined ? [] : query.split('&');
    if ((where === 'body' || (queryParts.length === 0 && where === 'query')) && leaves.length > 0) {
      const [holder, key] = leaves[pick % leaves.length]!;
      holder[key] = insert(String(holder[key]));
      return { ...r, body: JSON.stringify(body) };
    }
    if (where !== 'path' && queryParts.length > 0) {
      const i = pick % queryParts.length;
      queryParts[i] = `${queryParts[i]}${encode(bad)}`;
      return { ...r, url: `${pathname}?${queryParts.join('&')}` };
    }
    const segments = pathname.split('/');
    segments[segments.length - 1] = `${segments[segments.length - 1]}${encode(bad)}`;
    return { ...r, url: `${segments.join('/')}${query === undefined ? '' : `?${query}`}` };
  });
}

function cleanRequestArbitrary(op: Operation, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const known = (p: Parameter) => (p.name === 'user_sub' ? ctx.subs() : p.name === 'provider' ? ['test'] : ctx.ids().map(String));
  return fc
    .record({
      path: fc.tuple(...pathParams.map((p) => fc.constantFrom(...known(p)).map(encode))),
      query: fc.tuple(
        ...queryParams.map((p) =>
          fc.option(
            valueArbitrary(p.schema, ctx.resolve, ctx.ids, p.name, 0, false).map((v) => `${p.name}=${encode(String(v))}`),
            { nil: undefined },
          ),
        ),
      ),
      user: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(ctx.manager, ctx.customer) }, { weight: 1, arbitrary: fc.constant(ctx.admin) }),
      body: op.body === undefined ? fc.constant(undefined) : valueArbitrary(op.body, ctx.resolve, ctx.ids, '', 0, false),
    })
    .map((r) => {
      let i = 0;
      const query = r.query.filter((part): part is string => part !== undefined).join('&');
      const headers: Record<string, string> = { 'x-restaurant-domain': ctx.domain, authorization: r.user.auth, 'idempotency-key': randomUUID() };
      if (r.body !== undefined) headers['content-type'] = 'application/json';
      return {
        method: op.method,
        url: `${op.path.replace(/\{\w+\}/g, () => r.path[i++] ?? '')}${query === '' ? '' : `?${query}`}`,
        headers,
        body: r.body === undefined ? undefined : JSON.stringify(r.body),
      };
    });
}

function anyRequestArbitrary(op: Operation, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const resolve = ctx.resolve;
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const pathValue = (p: Parameter): fc.Arbitrary<string> => {
    const known = p.name === 'user_sub' ? ctx.subs() : p.name === 'provider' ? ['test', 'stripe'] : ctx.ids().map(String);
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...known).map(encode) },
      { weight: 2, arbitrary: fc.oneof(nastyString, nastyNumber.map(String), fc.string({ unit: 'grapheme', maxLength: 30 })).map((v) => encode(String(v))) },
      // Raw, not encoded: broken percent-escapes, dots, an empty segment.
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '%',
          '%zz',
          '%E0%A4%A',
          '%C0%AF',
          '..',
          '.',
          '%2e%2e',
          '%2F',
          ';',
          '1;2',
          '1,2',
          '0x10',
          '1e3',
          ' 1',
          '%20',
          ...badEscapes,
          ...badEscapes.map((e) => `1${e}`),
        ),
      },
    );
  };
  const queryPart = (p: Parameter): fc.Arbitrary<string | undefined> =>
    fc.option(
      fc.oneof(
        {
          weight: 4,
          arbitrary: valueArbitrary(p.schema, resolve, ctx.ids, p.name).map(
            (v) => `${p.name}=${encode(typeof v === 'string' ? v : String(JSON.stringify(v)))}`,
          ),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            `${p.name}=1&${p.name}=2`,
            `${p.name}[a]=1`,
            `${p.name}[]=x`,
            `${p.name}`,
            `${p.name}=`,
            `${p.name}=%zz`,
            `${p.name}=%E0%A4%A`,
            ...badEscapes.map((e) => `${p.name}=${e}`),
          ),
        },
      ),
      { freq: 3, nil: undefined },
    );
  const extraQuery = fc.option(
    fc.constantFrom(
      'unknown=1',
      'limit=0',
      'cursor=WzFd',
      'cursor=%FF',
      'a[b][c]=d',
      '__proto__[x]=1',
      'x='.concat('y'.repeat(3000)),
      // Cursors that decode to keys holding a NUL or a lone surrogate, or to bytes that are not UTF-8.
      `cursor=${Buffer.from(JSON.stringify(['a\u0000', 'b'])).toString('base64url')}`,
      `cursor=${Buffer.from('["\\u0000","\\ud800"]').toString('base64url')}`,
      `cursor=${Buffer.from([0x5b, 0x22, 0xc3, 0x28, 0x22, 0x5d]).toString('base64url')}`,
      '%00=1',
      'a%00=1',
      '%ED%A0%80=%ED%A0%80',
    ),
    { freq: 6, nil: undefined },
  );
  const auth = fc.constantFrom<'manager' | 'customer' | 'admin' | 'none' | 'garbage' | 'basic'>(
    'manager',
    'manager',
    'customer',
    'customer',
    'admin',
    'none',
    'garbage',
    'basic',
  );
  const domain = fc.oneof(
    { weight: 8, arbitrary: fc.constant(ctx.domain) },
    { weight: 1, arbitrary: fc.constant(ctx.rivalDomain) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.oneof(nastyString, fc.string({ maxLength: 300 }), fc.constant(`WWW.${ctx.domain.toUpperCase()}.:443`)).map(headerSafe) },
  );
  const idempotencyKey = fc.oneof(
    { weight: 6, arbitrary: fc.constant('fresh') },
    { weight: 1, arbitrary: fc.constant('reused') },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.oneof(nastyString, fc.constant('k'.repeat(256))).map(headerSafe) },
  );
  type Body = { text: string | Buffer | undefined; type: string | undefined; encoding: string | undefined };
  const bodies: Array<fc.WeightedArbitrary<Body>> = [
    {
      weight: op.body === undefined ? 1 : 8,
      arbitrary: (op.body === undefined ? fc.constant(undefined) : valueArbitrary(op.body, resolve, ctx.ids)).map((v) => ({
        text: v === undefined ? undefined : JSON.stringify(v),
        type: 'application/json',
        encoding: undefined,
      })),
    },
    { weight: 1, arbitrary: anyJson.map((v) => ({ text: JSON.stringify(v), type: 'application/json', encoding: undefined })) },
    { weight: 1, arbitrary: fc.constantFrom(...malformedBodies).map((text) => ({ text, type: 'application/json', encoding: undefined })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(op.body === undefined ? anyJson : valueArbitrary(op.body, resolve, ctx.ids, '', 0, false), invalidUtf8)
        .map(([value, bytes]) => ({ text: spliceBytes(JSON.stringify(value) ?? 'null', bytes), type: 'application/json', encoding: undefined })),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        text: fc.constantFrom('{"quantity": 1}', 'a=1&b=2', '<x/>', ''),
        type: fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/xml',
          'application/json; charset=latin1',
          'application/json; charset=utf-16',
          'multipart/form-data; boundary=x',
          'application/vnd.api+json',
        ),
        encoding: fc.constantFrom(undefined, 'gzip', 'deflate', 'br', 'identity', 'compress', 'x-unknown'),
      }),
    },
  ];
  if (op.body !== undefined)
    bodies.push({ weight: 1, arbitrary: fc.constant({ text: `{"name":"${'x'.repeat(110 * 1024)}"}`, type: 'application/json', encoding: undefined }) });
  const body = fc.oneof(...bodies);
  return fc
    .record({
      path: fc.tuple(...pathParams.map(pathValue)),
      query: fc.tuple(...queryParams.map(queryPart)),
      extraQuery,
      auth,
      domain,
      idempotencyKey,
      body,
      requestId: fc.option(fc.oneof(fc.uuid(), nastyString.map(headerSafe)), { freq: 4, nil: undefined }),
      method: fc.oneof({ weight: 12, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom('get', 'post', 'put', 'patch', 'delete') }),
    })
    .map((r) => {
      let i = 0;
      const pathname = op.path.replace(/\{\w+\}/g, () => r.path[i++] ?? '');
      const query = [...r.query, r.extraQuery].filter((part): part is string => part !== undefined).join('&');
      const headers: Record<string, string> = {};
      if (r.domain !== undefined) headers['x-restaurant-domain'] = r.domain;
      const token = {
        manager: ctx.manager.auth,
        customer: ctx.customer.auth,
        admin: ctx.admin.auth,
        none: undefined,
        garbage: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        basic: 'Basic YWRtaW46YWRtaW4=',
      }[r.auth];
      if (token !== undefined) headers.authorization = token;
      if (r.idempotencyKey === 'fresh') headers['idempotency-key'] = randomUUID();
      else if (r.idempotencyKey === 'reused') headers['idempotency-key'] = 'fuzz-reused-key';
      else if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey;
      if (r.requestId !== undefined) headers['x-request-id'] = r.requestId;
      if (r.body.text !== undefined) {
        if (r.body.type !== undefined) headers['content-type'] = r.body.type;
        if (r.body.encoding !== undefined) headers['content-encoding'] = r.body.encoding;
      }
      return { method: r.method, url: `${pathname}${query === '' ? '' : `?${query}`}`, headers, body: r.body.text };
    });
}

interface FuzzContext {
  domain: string;
  rivalDomain: string;
  manager: SignedInUser;
  customer: SignedInUser;
  admin: SignedInUser;
  ids: () => number[];
  subs: () => string[];
  resolve: (ref: string) => Schema;
}

/** A stable number per operation, so adding a route does not change what the others are sent. */
const seedFor = (op: Operation) => [...`${op.method} ${op.path}`].reduce((hash, char) => (Math.imul(hash, 31) + char.charCodeAt(0)) | 0, SEED);

/** What makes an answer wrong: any 5xx, and any 4xx that is not problem+json with a known code. */
function findProblem(status: number, contentType: string, text: string): string | undefined {
  if (status >= 500) return `answered ${status}`;
  if (status < 400) return undefined;
  if (!/^application\/problem\+json/.test(contentType)) return `a ${status} that is not problem+json (${contentType || 'no content type'})`;
  let body: { code?: unknown; status?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return `a ${status} whose body is not JSON`;
  }
  if (!(errorCodes as readonly unknown[]).includes(body.code)) return `a ${status} with an unknown code ${JSON.stringify(body.code)}`;
  if (body.status !== status) return `a ${status} whose problem says status ${JSON.stringify(body.status)}`;
  return undefined;
}

describe(`fuzzing every route of /openapi.json (seed ${SEED}, ${RUNS} requests per operation; FUZZ_SEED / FUZZ_RUNS to change)`, () => {
  let t: TestApp;
  let server: http.Server;
  let ctx: FuzzContext;
  let operations: Operation[];
  let restaurantId: number;
  const findings: Finding[] = [];
  let remember: (text: string) => void = () => undefined;
  let restore: () => Promise<void> = async () => undefined;
  let fillCart: () => Promise<void> = async () => undefined;
  const counts = { requests: 0, byStatus: new Map<number, number>() };

  const send = async (r: FuzzRequest) => {
    // An accepted order stream never ends by itself: its head is the answer, then it is closed.
    if (r.method === 'get' && r.url.startsWith('/v1/orders/stream')) {
      const stream = await openSse(`http://127.0.0.1:${(server.address() as AddressInfo).port}${r.url}`, r.headers);
      if (stream.status !== 200) await stream.ended;
      stream.close();
      return { status: stream.status, contentType: String(stream.headers['content-type'] ?? ''), text: stream.status === 200 ? '' : stream.text() };
    }
    let req = request(server)[r.method as 'get'](r.url);
    for (const [name, value] of Object.entries(r.headers)) req = req.set(name, value);
    // A Buffer goes as its bytes (superagent would otherwise send it as JSON of its bytes).
    const res =
      r.body === undefined
        ? await req
        : typeof r.body === 'string'
          ? await req.send(r.body)
          : await req.serialize((raw: Buffer) => raw as unknown as string).send(r.body);
    return { status: res.status, contentType: String(res.headers['content-type'] ?? ''), text: res.text ?? '' };
  };

  beforeAll(async () => {
    t = await createTestApp({ authRateLimit: { perIpPerMinute: 100_000, failedPerEmailPerMinute: 100_000 } });
    // As src/service.ts serves the app: with problem+json for requests Node's HTTP parser refuses.
    server = http.createServer(t.app);
    server.on('clientError', answerClientError);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const restaurant = await createRestaurant(t.db.knex, { domain: 'fuzz.example.com' });
    const rival = await createRestaurant(t.db.knex, { domain: 'rival-fuzz.example.com' });
    restaurantId = restaurant.id;
    const manager = await signInStaff(t.cognito, t.db.knex, restaurantId, 'manager');
    const customer = await signInCustomer(t.cognito);
    const admin = await signInPlatformAdmin(t.cognito);
    const ingredients: number[] = [];
    for (const [name, stock] of [
      ['Flour', 500],
      ['Tomato', 200],
      ['Cheese', 100],
      ['Basil', 5],
      ['Truffle', 0],
    ] as const) {
      ingredients.push(await insertIngredientRow(t.db.knex, restaurantId, { name, stock, price_cents: 120 }));
    }
    const rivalIngredient = await insertIngredientRow(t.db.knex, rival.id, { name: 'Rival flour', stock: 10 });
    const recipes = await insertRecipeRows(t.db.knex, restaurantId, [
      {
        name: 'Margherita',
        lines: [
          { ingredient_id: ingredients[0]!, quantity: 2 },
          { ingredient_id: ingredients[1]!, quantity: 1 },
          { ingredient_id: ingredients[2]!, quantity: 1 },
        ],
      },
      {
        name: 'Marinara',
        lines: [
          { ingredient_id: ingredients[0]!, quantity: 2 },
          { ingredient_id: ingredients[1]!, quantity: 2 },
        ],
      },
      { name: 'Truffle special', lines: [{ ingredient_id: ingredients[4]!, quantity: 1 }] },
    ]);
    await t.db.knex('recipe_ingredients').where({ restaurant_id: restaurantId, ingredient_id: ingredients[2]! }).update({ removable: true, max_quantity: 3 });
    const rivalRecipes = await insertRecipeRows(t.db.knex, rival.id, [{ name: 'Rival pizza', lines: [{ ingredient_id: rivalIngredient, quantity: 1 }] }]);

    // An order and a cart line, so path ids reach real rows.
    const api = (method: 'post' | 'get', url: string, user: SignedInUser) =>
      request(server)[method](url).set('X-Restaurant-Domain', restaurant.domain).set('Authorization', user.auth);
    expect((await api('post', '/v1/cart/items', customer).send({ recipe_id: recipes[0], quantity: 1 })).status).toBe(201);
    const placed = await api('post', '/v1/orders', customer).set('Idempotency-Key', randomUUID()).send({ fulfillment: 'pickup', payment_method: 'card' });
    expect(placed.status, placed.text).toBe(201);
    const line = await api('post', '/v1/cart/items', customer).send({ recipe_id: recipes[1], quantity: 2 });
    expect(line.status).toBe(201);
    const me = await api('get', '/v1/customers/me', customer);

    const seen = new Set<number>();
    const seededIds = [...ingredients, ...recipes, ...rivalRecipes, rivalIngredient, Number(placed.body.id), Number(line.body.id), Number(me.body.id), 1, 2];
    remember = (text: string) => {
      // Ids the answers name (new ingredients, recipes, orders, cart lines…) become path ids and body ids too.
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return;
      }
      const rows = Array.isArray((body as { data?: unknown }).data) ? (body as { data: unknown[] }).data : [body];
      for (const row of rows) {
        const id = (row as { id?: unknown } | null)?.id;
        if (typeof id === 'number' && seen.size < 200) seen.add(id);
      }
    };
    // What fuzzing takes away (archived recipes and ingredients, stock, the cart) is put back before each
    // operation, so every route is also tried against a menu that can be ordered from.
    restore = async () => {
      const knex = t.db.knex;
      await knex('staff_members')
        .insert({ restaurant_id: restaurantId, user_sub: manager.sub, email: manager.email, role: 'manager' })
        .onConflict(['restaurant_id', 'user_sub'])
        .merge({ role: 'manager' });
      await knex('recipes')
        .whereIn('id', recipes)
        .update({ archived_at: null })
        .catch(() => undefined);
      await knex('ingredients')
        .whereIn('id', ingredients)
        .update({ archived_at: null, available: true, unavailable_until: null, stock: 500 })
        .catch(() => undefined);
    };
    fillCart = async () => {
      const customerId = Number(me.body.id);
      const lines = await t.db.knex('cart_items').where({ restaurant_id: restaurantId, customer_id: customerId }).count({ n: '*' }).first();
      if (Number(lines?.n) === 0)
        await t.db.knex('cart_items').insert({ restaurant_id: restaurantId, customer_id: customerId, recipe_id: recipes[0], quantity: 1 });
    };
    ctx = {
      domain: restaurant.domain,
      rivalDomain: rival.domain,
      manager,
      customer,
      admin,
      ids: () => [...seededIds, ...seen],
      subs: () => [manager.sub, customer.sub, admin.sub, 'no-such-user'],
      resolve: () => ({}),
    };

    const document = (await request(server).get('/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: Schema }> }; security?: unknown[] }>
      >;
      components?: { schemas?: Record<string, Schema> };
    };
    const schemas = document.components?.schemas ?? {};
    ctx.resolve = (ref) => {
      const schema = schemas[ref.replace('#/components/schemas/', '')];
      if (schema === undefined) throw new Error(`unresolvable $ref ${ref}`);
      return schema;
    };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method,
        path,
        parameters: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema,
        secured: (op.security ?? []).length > 0,
      })),
    );
  }, 120_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.close();
  });

  it('finds routes to fuzz in the document', () => {
    expect(operations.length).toBeGreaterThan(30);
  });

  it(
    'answers every generated request without a 5xx, and every 4xx as problem+json with a known code',
    async () => {
      const started = performance.now();
      for (const op of operations) {
        await restore();
        for (const r of fc.sample(requestArbitrary(op, ctx), { seed: seedFor(op), numRuns: RUNS })) {
          if (op.method === 'post' && op.path === '/v1/orders') await fillCart();
          const res = await send(r);
          if (res.status >= 200 && res.status < 300) remember(res.text);
          if (process.env.FUZZ_TRACE !== undefined && `${op.method} ${op.path}` === process.env.FUZZ_TRACE)
            console.log(r.method, r.url, JSON.stringify(r.headers).slice(0, 150), r.body?.slice(0, 150), '→', res.status, res.text.slice(0, 150));
          counts.requests += 1;
          counts.byStatus.set(res.status, (counts.byStatus.get(res.status) ?? 0) + 1);
          const problem = findProblem(res.status, res.contentType, res.text);
          if (problem !== undefined) findings.push({ request: r, status: res.status, contentType: res.contentType, body: res.text.slice(0, 300), problem });
        }
      }
      // Paths and methods the document does not have.
      for (const r of fc.sample(
        fc.record({
          method: fc.constantFrom('get', 'post', 'put', 'patch', 'delete', 'options', 'head'),
          url: fc.oneof(
            fc.constantFrom(
              '/v2/recipes',
              '/v1',
              '/v1/',
              '/v1/recipes/',
              '//v1//recipes',
              '/v1/recipes/1/2',
              '/%',
              '/v1/%E0%A4%A',
              '/.env',
              '/v1/orders/1/payments/cash/x',
            ),
            fc.string({ maxLength: 20 }).map((s) => `/v1/${encode(s)}`),
          ),
        }),
        { seed: SEED, numRuns: RUNS * 2 },
      )) {
        const fuzz = { method: r.method, url: r.url, headers: { 'x-restaurant-domain': ctx.domain }, body: undefined };
        const res = await send(fuzz);
        counts.requests += 1;
        const problem =
          r.method === 'head' || r.method === 'options'
            ? res.status >= 500
              ? `answered ${res.status}`
              : undefined
            : findProblem(res.status, res.contentType, res.text);
        if (problem !== undefined) findings.push({ request: fuzz, status: res.status, contentType: res.contentType, body: res.text.slice(0, 300), problem });
      }
      const seconds = (performance.now() - started) / 1000;
      const statuses = [...counts.byStatus]
        .sort(([a], [b]) => a - b)
        .map(([status, n]) => `${status}×${n}`)
        .join(' ');
      console.info(`fuzz: ${counts.requests} requests over ${operations.length} operations in ${seconds.toFixed(1)} s (seed ${SEED}): ${statuses}`);
      if (process.env.FUZZ_DUMP !== undefined) writeFileSync(process.env.FUZZ_DUMP, JSON.stringify(findings, null, 1));
      const report = findings
        .slice(0, 25)
        .map(
          (f) =>
            `${f.problem}: ${f.request.method.toUpperCase()} ${f.request.url}\n  headers ${JSON.stringify(f.request.headers)}\n  body ${f.request.body?.slice(0, 200) ?? '(none)'}\n  → ${f.status} ${f.contentType} ${f.body}`,
        )
        .join('\n');
      expect(findings, `${findings.length} bad answers (seed ${SEED}; rerun with FUZZ_SEED=${SEED}):\n${report}`).toEqual([]);
      // The 2xx answers show the generator gets past validation into the code behind it.
      expect([...counts.byStatus.keys()].some((status) => status >= 200 && status < 300)).toBe(true);
    },
    Math.max(300_000, RUNS * 2_000),
  );
});
