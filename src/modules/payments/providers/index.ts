import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../../../config/config.js';
import { StripePaymentProvider } from './stripe-provider.js';
import { TestPaymentProvider } from './test-provider.js';
import type { PaymentProvider } from './types.js';

export type { PaymentProvider } from './types.js';

/** Where the embedded stack keeps the test provider's webhook secret when TEST_WEBHOOK_SECRET is unset. */
export const TEST_WEBHOOK_SECRET_FILE = 'test-webhook-secret';

/** The provider PAYMENT_PROVIDER names. */
export async function createPaymentProvider(config: Pick<Config, 'env' | 'dataDir' | 'payments'>, logger?: Logger): Promise<PaymentProvider> {
  const payments = config.payments;
  if (payments.provider === 'stripe') {
    return new StripePaymentProvider({ secretKey: payments.secretKey, webhookSecret: payments.webhookSecret });
  }
  let webhookSecret = payments.webhookSecret;
  if (webhookSecret === undefined) {
    try {
      webhookSecret = await embeddedTestWebhookSecret(config.dataDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw error;
      // A read-only DATA_DIR (a container image): a secret nobody knows, so no one can sign a test webhook.
      logger?.warn({ dataDir: config.dataDir }, 'DATA_DIR is not writable: test-provider webhooks cannot be signed; set TEST_WEBHOOK_SECRET to use them');
      webhookSecret = `whsec_test_${randomBytes(24).toString('hex')}`;
    }
  }
  return new TestPaymentProvider({ env: config.env, webhookSecret });
}

/**
 * A random secret generated once and kept in DATA_DIR (readable by its owner only), so every process of
 * a development machine signs and checks test webhooks with the same secret and none is ever logged.
 */
async function embeddedTestWebhookSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, TEST_WEBHOOK_SECRET_FILE);
  try {
    const existing = (await fs.readFile(file, 'utf8')).trim();
    if (existing.length >= 16) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await fs.mkdir(dataDir, { recursive: true });
  const secret = `whsec_test_${randomBytes(24).toString('hex')}`;
  try {
    await fs.writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    // Another process wrote it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await fs.readFile(file, 'utf8')).trim();
    throw error;
  }
}
