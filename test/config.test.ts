import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';

const configError = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('runs every part embedded when no variable is set', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ kind: 'embedded', dataDir: '.data' });
    expect(config.queue.kind).toBe('embedded');
    expect(config.cognito.kind).toBe('embedded');
    expect(config.payments).toEqual({ provider: 'test' });
    expect(config.port).toBe(3000);
    expect(config.shutdownTimeoutMs).toBe(10_000);
    expect(config.orderPaymentTimeoutMs).toBe(15 * 60_000);
  });

  it('trusts no proxy by default outside production, one hop (the load balancer) in production, or what TRUST_PROXY says', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).trustProxy).toBe(false);
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://app@db:5432/tablekit',
      SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders',
      COGNITO_USER_POOL_ID: 'eu-west-1_AbC123',
      COGNITO_CLIENT_ID: 'client123',
      PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: 'sk_test_x',
      STRIPE_WEBHOOK_SECRET: 'whsec_x',
      S3_BUCKET: 'tablekit-media',
    };
    expect(loadConfig(production).trustProxy).toBe(1);
    expect(loadConfig({ ...production, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ ...production, TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,2001:db8::/32, 192.0.2.7' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      '2001:db8::/32',
      '192.0.2.7',
    ]);
  });

  it('swaps in each real part by its own variable', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://app@db:5432/tablekit',
      SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders',
      AWS_REGION: 'eu-west-1',
      COGNITO_USER_POOL_ID: 'eu-west-1_AbC123',
      COGNITO_CLIENT_ID: 'client123',
    });
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://app@db:5432/tablekit', poolMax: 10 });
    expect(config.queue).toMatchObject({ kind: 'sqs', region: 'eu-west-1' });
    expect(config.cognito).toMatchObject({ kind: 'cognito', userPoolId: 'eu-west-1_AbC123', region: 'eu-west-1', authFlow: 'USER_SRP_AUTH' });
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT /],
    [{ PORT: '70000' }, /^PORT /],
    [{ NODE_ENV: 'staging' }, /^NODE_ENV must be development, test or production/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL /],
    [{ DATABASE_URL: 'mysql://x@y/z' }, /^DATABASE_URL must start with postgres:\/\//],
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL /],
    [{ SQS_QUEUE_URL: 'nope' }, /^SQS_QUEUE_URL /],
    [{ AWS_ENDPOINT_URL_SQS: 'http://localhost:9324' }, /^AWS_ENDPOINT_URL_SQS is set but SQS_QUEUE_URL is not/],
    [{ COGNITO_USER_POOL_ID: 'eu-west-1_AbC123' }, /^COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID must be set together/],
    [{ COGNITO_USER_POOL_ID: 'not-a-pool', COGNITO_CLIENT_ID: 'c' }, /^COGNITO_USER_POOL_ID must look like/],
    [{ COGNITO_ENDPOINT: 'http://localhost:9229' }, /^COGNITO_ENDPOINT is set but COGNITO_USER_POOL_ID is not/],
    [{ COGNITO_AUTH_FLOW: 'MAGIC' }, /^COGNITO_AUTH_FLOW /],
    [{ PAYMENT_PROVIDER: 'paypal' }, /^PAYMENT_PROVIDER must be test or stripe/],
    [{ PAYMENT_PROVIDER: 'stripe' }, /^PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET/],
    [{ SHUTDOWN_TIMEOUT_MS: '-5' }, /^SHUTDOWN_TIMEOUT_MS must be greater than 0/],
    [{ SHUTDOWN_TIMEOUT_MS: '1.5' }, /^SHUTDOWN_TIMEOUT_MS must be a whole number/],
    [{ DEMO_PASSWORD: 'short' }, /^DEMO_PASSWORD must be at least 8 characters/],
    [{ WORKER_ENABLED: 'maybe' }, /^WORKER_ENABLED must be true or false/],
    [{ ORDER_PAYMENT_TIMEOUT: 'soon' }, /^ORDER_PAYMENT_TIMEOUT must be a duration/],
    [{ AUTH_RATE_LIMIT_PER_IP: '0' }, /^AUTH_RATE_LIMIT_PER_IP must be greater than 0/],
    [{ TRUST_PROXY: 'true' }, /^TRUST_PROXY must be a hop count/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, /^TRUST_PROXY must be a hop count/],
    [{ TRUST_PROXY: 'loopback, the-balancer' }, /^TRUST_PROXY must be a hop count/],
    [{ TRUST_PROXY: '-1' }, /^TRUST_PROXY must be a hop count/],
    [{ TEST_WEBHOOK_SECRET: 'too-short' }, /^TEST_WEBHOOK_SECRET must be at least 16 characters/],
    [{ PAYMENT_RECONCILE_AFTER: 'later' }, /^PAYMENT_RECONCILE_AFTER must be a duration/],
    [{ PAYMENT_RECONCILE_AFTER: '30s' }, /^PAYMENT_RECONCILE_AFTER must be at least 2m/],
  ])('names the variable and the problem for %o', (env, message) => {
    expect(configError(env)).toMatch(message);
  });

  it('reconciles pending payments after 5 minutes by default, and takes the test provider’s webhook secret when given', () => {
    expect(loadConfig({}).paymentReconcileAfterMs).toBe(5 * 60_000);
    expect(loadConfig({ PAYMENT_RECONCILE_AFTER: '2m' }).paymentReconcileAfterMs).toBe(120_000);
    expect(loadConfig({ TEST_WEBHOOK_SECRET: 'whsec_0123456789abcdef' }).payments).toEqual({ provider: 'test', webhookSecret: 'whsec_0123456789abcdef' });
    expect(loadConfig({ PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' }).payments).toEqual({
      provider: 'stripe',
      secretKey: 'sk_test_x',
      webhookSecret: 'whsec_x',
    });
  });

  it('reads durations in seconds, minutes and hours', () => {
    expect(loadConfig({ ORDER_PAYMENT_TIMEOUT: '90' }).orderPaymentTimeoutMs).toBe(90_000);
    expect(loadConfig({ ORDER_PAYMENT_TIMEOUT: '15m' }).orderPaymentTimeoutMs).toBe(900_000);
    expect(loadConfig({ ORDER_PAYMENT_TIMEOUT: '1h' }).orderPaymentTimeoutMs).toBe(3_600_000);
  });

  it('refuses to run embedded parts in production and names every missing variable', () => {
    const message = configError({ NODE_ENV: 'production' });
    for (const name of ['DATABASE_URL', 'SQS_QUEUE_URL', 'COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID', 'PAYMENT_PROVIDER', 'S3_BUCKET']) {
      expect(message).toContain(name);
    }
  });

  it('refuses a single embedded part in production', () => {
    const message = configError({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://app@db/tablekit',
      COGNITO_USER_POOL_ID: 'eu-west-1_AbC123',
      COGNITO_CLIENT_ID: 'client123',
      PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: 'sk_live_x',
      STRIPE_WEBHOOK_SECRET: 'whsec_x',
      S3_BUCKET: 'tablekit-media',
    });
    expect(message).toBe('NODE_ENV=production refuses embedded parts; set SQS_QUEUE_URL');
  });

  it('never trusts an identity emulator in production', () => {
    expect(
      configError({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://app@db/tablekit',
        SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/orders',
        COGNITO_USER_POOL_ID: 'eu-west-1_AbC123',
        COGNITO_CLIENT_ID: 'client123',
        COGNITO_ENDPOINT: 'http://cognito:9229',
        PAYMENT_PROVIDER: 'stripe',
        STRIPE_SECRET_KEY: 'sk_live_x',
        STRIPE_WEBHOOK_SECRET: 'whsec_x',
        S3_BUCKET: 'tablekit-media',
      }),
    ).toMatch(/^COGNITO_ENDPOINT must not be set in production/);
  });

  it('accepts a complete production configuration', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://app@db/tablekit',
      SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/orders',
      COGNITO_USER_POOL_ID: 'eu-west-1_AbC123',
      COGNITO_CLIENT_ID: 'client123',
      PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: 'sk_live_x',
      STRIPE_WEBHOOK_SECRET: 'whsec_x',
      S3_BUCKET: 'tablekit-media',
      MEDIA_BASE_URL: 'https://cdn.example.com/media',
    });
    expect(config.env).toBe('production');
    expect(config.media).toEqual({
      kind: 's3',
      bucket: 'tablekit-media',
      region: 'us-east-1',
      endpoint: undefined,
      publicBaseUrl: 'https://cdn.example.com/media',
    });
  });

  it('keeps pictures in the embedded store unless S3_BUCKET names a bucket, and reads them from the bucket without a CDN', () => {
    expect(loadConfig({}).media).toEqual({ kind: 'embedded', dataDir: '.data' });
    expect(loadConfig({ S3_BUCKET: 'pics', AWS_REGION: 'eu-west-1' }).media).toMatchObject({ publicBaseUrl: 'https://pics.s3.eu-west-1.amazonaws.com' });
    expect(loadConfig({ S3_BUCKET: 'pics', AWS_ENDPOINT_URL_S3: 'http://minio:9000/' }).media).toMatchObject({
      endpoint: 'http://minio:9000/',
      publicBaseUrl: 'http://minio:9000/pics',
    });
    expect(configError({ MEDIA_BASE_URL: 'https://cdn.example.com' })).toMatch(/^MEDIA_BASE_URL is set but S3_BUCKET is not/);
    expect(configError({ S3_BUCKET: 'Not_A_Bucket' })).toMatch(/^S3_BUCKET must be an S3 bucket name/);
  });

  it('names every bad variable at once, values and combinations alike', () => {
    expect(configError({ PORT: 'abc', LOG_LEVEL: 'loud' })).toBe(
      'PORT must be a port number; LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    );
    expect(configError({ SHUTDOWN_TIMEOUT_MS: '0', COGNITO_CLIENT_ID: 'c' })).toBe(
      'SHUTDOWN_TIMEOUT_MS must be greater than 0; COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID must be set together',
    );
  });

  it('exits with status 1 and one JSON log line naming each bad variable', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', PORT: 'not-a-port', DATABASE_URL: 'mysql://x@y/z' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '') as { level: number; msg: string; issues: string[] };
    expect(line.level).toBe(60);
    expect(line.msg).toMatch(/^invalid configuration: PORT .*; DATABASE_URL must start with postgres:\/\//);
    expect(line.issues).toEqual([expect.stringMatching(/^PORT /), expect.stringMatching(/^DATABASE_URL /)]);
  });

  it('refuses to start in production with embedded parts', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/refuses embedded parts; set DATABASE_URL, SQS_QUEUE_URL/);
  });
});

describe('the migration step', () => {
  it('needs only the database URL, also in production', async () => {
    const { loadDatabaseConfig } = await import('../src/config/config.js');
    expect(loadDatabaseConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://app@db/tablekit' })).toEqual({
      kind: 'postgres',
      url: 'postgres://app@db/tablekit',
      poolMax: 1,
    });
    expect(() => loadDatabaseConfig({ NODE_ENV: 'production' })).toThrow(/set DATABASE_URL/);
    expect(() => loadDatabaseConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/^DATABASE_URL /);
    expect(loadDatabaseConfig({})).toEqual({ kind: 'embedded', dataDir: '.data' });
  });
});
