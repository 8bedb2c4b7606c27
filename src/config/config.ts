import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The environment, validated once at start. Nothing else in the service reads `process.env`:
 * every part receives the typed `Config` it needs.
 *
 * Each infrastructure part whose variable is unset runs embedded (PGlite, local SQS, local Cognito,
 * the `test` payment provider), so `npm start` works with no other software installed. Production
 * refuses every embedded part.
 */

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const positiveInt = (fallback: number) =>
  z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').positive('must be greater than 0').default(fallback);

const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

/** Durations are written as `900`, `900s`, `15m` or `1h`; a bare number is seconds. */
const duration = (fallbackSeconds: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(ms|s|m|h)?$/, 'must be a duration such as 900s, 15m or 1h')
    .default(String(fallbackSeconds))
    .transform((value) => {
      const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
      const amount = Number(match?.[1] ?? 0);
      const unit = match?.[2] ?? 's';
      const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit] ?? 1000;
      return amount * factor;
    })
    .refine((ms) => ms > 0, 'must be greater than 0');

const url = (what: string) => optionalString.refine((value) => value === undefined || URL.canParse(value), `must be a ${what} URL`);

/** Which proxies' X-Forwarded-For to believe: none, the nearest N hops, or these addresses (express's `trust proxy`). */
export type TrustProxy = false | number | string[];

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function isAddressOrRange(entry: string): boolean {
  if (PROXY_NAMES.includes(entry)) return true;
  const [address = '', bits, extra] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128));
}

/**
 * TRUST_PROXY: unset or `false` trusts no proxy (the client address is the socket's, so a forged
 * X-Forwarded-For changes nothing); a whole number trusts that many hops; otherwise a comma-separated
 * list of addresses, CIDR ranges or `loopback`/`linklocal`/`uniquelocal`. `true` (trust everyone) is
 * refused: any client could then pick its own address.
 */
const trustProxy = z
  .string()
  .trim()
  .optional()
  .transform((value, ctx): TrustProxy | undefined => {
    if (value === undefined || value === '') return undefined;
    if (value === 'false' || value === 'none') return false;
    if (/^\d+$/.test(value)) return Number(value) === 0 ? false : Number(value);
    const entries = value.split(',').map((entry) => entry.trim().toLowerCase());
    if (value === 'true' || entries.some((entry) => !isAddressOrRange(entry))) {
      ctx.addIssue({ code: 'custom', message: 'must be a hop count (e.g. 1), or comma-separated addresses, CIDR ranges or loopback/linklocal/uniquelocal' });
      return z.NEVER;
    }
    return entries;
  });

/** The demo users' password when DEMO_PASSWORD is unset; documented in the README, so not a secret. */
export const DEFAULT_DEMO_PASSWORD = 'Demo-password-1!';

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production'], { error: 'must be development, test or production' }).default('development'),
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535, 'must be a port number (0-65535)').default(3000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  TRUST_PROXY: trustProxy,
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' })
    .default('info'),
  DATA_DIR: z.string().trim().min(1).default('.data'),
  DEMO_PASSWORD: z.string().min(8, 'must be at least 8 characters').default(DEFAULT_DEMO_PASSWORD),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
  MAX_STREAMS: positiveInt(1000),
  // Prometheus scrapes its own listener, never the API's: loopback unless the operator opens it (README).
  METRICS_PORT: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .union([z.literal('off'), z.coerce.number({ error: 'must be a port number or off' }).int().min(0).max(65535, 'must be a port number (0-65535) or off')])
      .default(9464),
  ),
  METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),

  DATABASE_URL: url('postgres://').refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), 'must start with postgres:// or postgresql://'),
  DATABASE_POOL_MAX: positiveInt(10),

  SQS_QUEUE_URL: url('https://'),
  AWS_REGION: z.string().trim().min(1).default('us-east-1'),
  AWS_ENDPOINT_URL_SQS: url('http(s)://'),
  WORKER_ENABLED: booleanFlag(true),
  ORDER_PAYMENT_TIMEOUT: duration(15 * 60),
  MAX_OPEN_UNPAID_ORDERS: positiveInt(3),
  ORDER_RATE_LIMIT_PER_CUSTOMER: positiveInt(10),
  PAYMENT_RATE_LIMIT_PER_CUSTOMER: positiveInt(10),

  COGNITO_USER_POOL_ID: optionalString.refine(
    (value) => value === undefined || /^[\w-]+_[0-9a-zA-Z]+$/.test(value),
    'must look like <region>_<id>, e.g. eu-west-1_AbC123',
  ),
  COGNITO_CLIENT_ID: optionalString,
  COGNITO_ENDPOINT: url('http(s)://'),
  COGNITO_AUTH_FLOW: z.enum(['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'], { error: 'must be USER_SRP_AUTH or USER_PASSWORD_AUTH' }).default('USER_SRP_AUTH'),
  AUTH_RATE_LIMIT_PER_IP: positiveInt(30),
  AUTH_RATE_LIMIT_FAILED_PER_EMAIL: positiveInt(5),

  PAYMENT_PROVIDER: z.enum(['test', 'stripe'], { error: 'must be test or stripe' }).default('test'),
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_WEBHOOK_SECRET: optionalString,
  TEST_WEBHOOK_SECRET: optionalString.refine((value) => value === undefined || value.length >= 16, 'must be at least 16 characters'),
  // Below this a charge may still be on its way (the Stripe client's timeout and retries) or not yet searchable at Stripe.
  PAYMENT_RECONCILE_AFTER: duration(5 * 60).refine((ms) => ms >= 120_000, 'must be at least 2m: a charge may still be on its way before that'),

  S3_BUCKET: optionalString.refine((value) => value === undefined || /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value), 'must be an S3 bucket name'),
  AWS_ENDPOINT_URL_S3: url('http(s)://'),
  MEDIA_BASE_URL: url('http(s)://'),
});

export type Env = z.input<typeof envSchema>;

export type DatabaseConfig = { kind: 'postgres'; url: string; poolMax: number } | { kind: 'embedded'; dataDir: string };

export type QueueConfig = { kind: 'sqs'; queueUrl: string; region: string; endpoint: string | undefined } | { kind: 'embedded'; region: string };

export type CognitoConfig =
  | { kind: 'cognito'; userPoolId: string; clientId: string; region: string; endpoint: string | undefined; authFlow: 'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH' }
  | { kind: 'embedded'; dataDir: string };

export type MediaConfig =
  | { kind: 's3'; bucket: string; region: string; endpoint: string | undefined; publicBaseUrl: string }
  /** The embedded S3-compatible server, objects under DATA_DIR/s3, served from its own loopback port. */
  | { kind: 'embedded'; dataDir: string };

export type PaymentsConfig =
  /** Without a webhook secret the embedded stack generates one and keeps it in DATA_DIR. */
  { provider: 'test'; webhookSecret?: string | undefined } | { provider: 'stripe'; secretKey: string; webhookSecret: string };

export interface Config {
  env: 'development' | 'test' | 'production';
  port: number;
  host: string;
  /** express's `trust proxy`: decides `req.ip`, and so the per-IP rate limits. */
  trustProxy: TrustProxy;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  dataDir: string;
  demoPassword: string;
  shutdownTimeoutMs: number;
  /** Order event streams (SSE) one process holds open at most; beyond, 503. */
  maxStreams: number;
  /** Where /metrics is served (0: any free port); undefined with METRICS_PORT=off. */
  metrics: { host: string; port: number } | undefined;
  database: DatabaseConfig;
  queue: QueueConfig;
  workerEnabled: boolean;
  orderPaymentTimeoutMs: number;
  /** Unpaid card orders one customer may hold open in one restaurant (API.md "Limits on one customer"). */
  maxOpenUnpaidOrders: number;
  /** Checkouts (POST /v1/orders) and card payment attempts one customer may make a minute. */
  checkoutsPerMinute: number;
  paymentAttemptsPerMinute: number;
  /** A payment or refund still pending after this long is settled by asking the provider. */
  paymentReconcileAfterMs: number;
  cognito: CognitoConfig;
  authRateLimit: { perIpPerMinute: number; failedPerEmailPerMinute: number };
  payments: PaymentsConfig;
  media: MediaConfig;
}

/**
 * Thrown for a configuration the service cannot run with: every problem found, each one line fit for an
 * operator that names its variable; `message` joins them.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: readonly string[];

  constructor(issues: string | readonly string[]) {
    const list = typeof issues === 'string' ? [issues] : issues;
    super(list.join('; '));
    this.issues = list;
  }
}

/** One line per variable: the first problem zod found with it. */
function schemaIssues(error: z.ZodError): string[] {
  const byVariable = new Map<string, string>();
  for (const issue of error.issues) {
    const variable = String(issue.path[0] ?? 'environment');
    if (!byVariable.has(variable)) byVariable.set(variable, `${variable} ${issue.message}`);
  }
  return [...byVariable.values()];
}

/**
 * The rules between variables. They look only at which variables are set (unset and empty are the same)
 * and at two enum values, so they are checked, and reported with the rest, even when some value is bad.
 */
function combinationIssues(env: Record<string, string | undefined>): string[] {
  const isSet = (name: string) => (env[name]?.trim() ?? '') !== '';
  const issues: string[] = [];
  if (!isSet('SQS_QUEUE_URL') && isSet('AWS_ENDPOINT_URL_SQS')) {
    issues.push('AWS_ENDPOINT_URL_SQS is set but SQS_QUEUE_URL is not: name the queue to use');
  }
  if (isSet('COGNITO_USER_POOL_ID') !== isSet('COGNITO_CLIENT_ID')) {
    issues.push('COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID must be set together');
  }
  if (!isSet('COGNITO_USER_POOL_ID') && isSet('COGNITO_ENDPOINT')) {
    issues.push('COGNITO_ENDPOINT is set but COGNITO_USER_POOL_ID is not: name the user pool to use');
  }
  const provider = env.PAYMENT_PROVIDER ?? 'test';
  if (provider === 'stripe' && (!isSet('STRIPE_SECRET_KEY') || !isSet('STRIPE_WEBHOOK_SECRET'))) {
    const missing = ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'].filter((name) => !isSet(name));
    issues.push(`PAYMENT_PROVIDER=stripe needs ${missing.join(' and ')}`);
  }
  if (!isSet('S3_BUCKET') && (isSet('AWS_ENDPOINT_URL_S3') || isSet('MEDIA_BASE_URL'))) {
    issues.push(`${isSet('AWS_ENDPOINT_URL_S3') ? 'AWS_ENDPOINT_URL_S3' : 'MEDIA_BASE_URL'} is set but S3_BUCKET is not: name the bucket pictures go to`);
  }

  if (env.NODE_ENV === 'production') {
    const embedded: string[] = [];
    if (!isSet('DATABASE_URL')) embedded.push('DATABASE_URL');
    if (!isSet('SQS_QUEUE_URL')) embedded.push('SQS_QUEUE_URL');
    if (!isSet('COGNITO_USER_POOL_ID')) embedded.push('COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID');
    if (provider === 'test') embedded.push('PAYMENT_PROVIDER (the test provider is not for production)');
    if (!isSet('S3_BUCKET')) embedded.push('S3_BUCKET');
    if (embedded.length > 0) {
      issues.push(`NODE_ENV=production refuses embedded parts; set ${embedded.join(', ')}`);
    }
    if (isSet('COGNITO_ENDPOINT')) {
      issues.push('COGNITO_ENDPOINT must not be set in production: tokens are only accepted from Amazon Cognito');
    }
  }
  return issues;
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  const issues = [...(parsed.success ? [] : schemaIssues(parsed.error)), ...combinationIssues(env)];
  if (!parsed.success || issues.length > 0) throw new ConfigError(issues);
  const e = parsed.data;

  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    // Production runs behind one load balancer (README); elsewhere nothing is trusted unless told.
    trustProxy: e.TRUST_PROXY ?? (e.NODE_ENV === 'production' ? 1 : false),
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    demoPassword: e.DEMO_PASSWORD,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    maxStreams: e.MAX_STREAMS,
    metrics: e.METRICS_PORT === 'off' ? undefined : { host: e.METRICS_HOST, port: e.METRICS_PORT },
    database:
      e.DATABASE_URL === undefined ? { kind: 'embedded', dataDir: e.DATA_DIR } : { kind: 'postgres', url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX },
    queue:
      e.SQS_QUEUE_URL === undefined
        ? { kind: 'embedded', region: e.AWS_REGION }
        : { kind: 'sqs', queueUrl: e.SQS_QUEUE_URL, region: e.AWS_REGION, endpoint: e.AWS_ENDPOINT_URL_SQS },
    workerEnabled: e.WORKER_ENABLED,
    orderPaymentTimeoutMs: e.ORDER_PAYMENT_TIMEOUT,
    maxOpenUnpaidOrders: e.MAX_OPEN_UNPAID_ORDERS,
    checkoutsPerMinute: e.ORDER_RATE_LIMIT_PER_CUSTOMER,
    paymentAttemptsPerMinute: e.PAYMENT_RATE_LIMIT_PER_CUSTOMER,
    paymentReconcileAfterMs: e.PAYMENT_RECONCILE_AFTER,
    cognito:
      e.COGNITO_USER_POOL_ID === undefined || e.COGNITO_CLIENT_ID === undefined
        ? { kind: 'embedded', dataDir: e.DATA_DIR }
        : {
            kind: 'cognito',
            userPoolId: e.COGNITO_USER_POOL_ID,
            clientId: e.COGNITO_CLIENT_ID,
            region: e.COGNITO_USER_POOL_ID.split('_')[0] ?? e.AWS_REGION,
            endpoint: e.COGNITO_ENDPOINT,
            authFlow: e.COGNITO_AUTH_FLOW,
          },
    authRateLimit: {
      perIpPerMinute: e.AUTH_RATE_LIMIT_PER_IP,
      failedPerEmailPerMinute: e.AUTH_RATE_LIMIT_FAILED_PER_EMAIL,
    },
    payments:
      e.PAYMENT_PROVIDER === 'stripe'
        ? { provider: 'stripe', secretKey: e.STRIPE_SECRET_KEY ?? '', webhookSecret: e.STRIPE_WEBHOOK_SECRET ?? '' }
        : { provider: 'test', ...(e.TEST_WEBHOOK_SECRET === undefined ? {} : { webhookSecret: e.TEST_WEBHOOK_SECRET }) },
    media:
      e.S3_BUCKET === undefined
        ? { kind: 'embedded', dataDir: e.DATA_DIR }
        : {
            kind: 's3',
            bucket: e.S3_BUCKET,
            region: e.AWS_REGION,
            endpoint: e.AWS_ENDPOINT_URL_S3,
            // Without a CDN in front, pictures are read from the bucket itself.
            publicBaseUrl:
              e.MEDIA_BASE_URL ??
              (e.AWS_ENDPOINT_URL_S3 === undefined
                ? `https://${e.S3_BUCKET}.s3.${e.AWS_REGION}.amazonaws.com`
                : `${e.AWS_ENDPOINT_URL_S3.replace(/\/+$/, '')}/${e.S3_BUCKET}`),
          },
  };
}

/**
 * Only what the migration step needs, so `migrate` runs in a production image that has the database
 * URL but (rightly) none of the service's other settings.
 */
export function loadDatabaseConfig(env: Record<string, string | undefined>): DatabaseConfig {
  const parsed = envSchema.pick({ DATABASE_URL: true, DATABASE_POOL_MAX: true, DATA_DIR: true, NODE_ENV: true }).safeParse(env);
  if (!parsed.success) throw new ConfigError(schemaIssues(parsed.error));
  const e = parsed.data;
  if (e.DATABASE_URL === undefined) {
    if (e.NODE_ENV === 'production') throw new ConfigError('NODE_ENV=production refuses embedded parts; set DATABASE_URL');
    return { kind: 'embedded', dataDir: e.DATA_DIR };
  }
  return { kind: 'postgres', url: e.DATABASE_URL, poolMax: 1 };
}

/** The variable names the service understands; deployment files are checked against this list. */
export const knownEnvironmentVariables: readonly string[] = Object.keys(envSchema.shape);
