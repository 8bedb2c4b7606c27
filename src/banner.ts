import { DEFAULT_DEMO_PASSWORD, type Config } from './config/config.js';
import { BISTRO_MANAGER_EMAIL, DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL } from './auth/identity.js';
import { BISTRO_DOMAIN } from '../seeds/bistro-restaurant.js';

/** What the banner needs of the running service. */
export interface BannerFacts {
  url: string;
  /** Set when the demo restaurant was seeded at start. */
  demoDomain: string | undefined;
  /** Whether the embedded identity server created the demo users. */
  demoUsers: boolean;
}

/**
 * The lines `npm start` prints once listening: where, the demo restaurant and ready-to-paste curl lines.
 * README.md's quick start shows them as printed (test/readme.test.ts compares).
 */
export function banner(facts: BannerFacts, config: Config): string {
  const { url, demoDomain } = facts;
  const lines = [`Tablekit is listening on ${url}  (API reference: ${url}/docs)`];
  if (demoDomain !== undefined) {
    lines.push(
      `Demo restaurant: ${demoDomain}`,
      `  curl -H 'X-Restaurant-Domain: ${demoDomain}' ${url}/v1/recipes`,
      `And ${BISTRO_DOMAIN}, with opening hours and slots (manager ${BISTRO_MANAGER_EMAIL}):`,
      `  curl -H 'X-Restaurant-Domain: ${BISTRO_DOMAIN}' ${url}/v1/restaurant/slots`,
    );
  }
  if (facts.demoUsers) {
    lines.push(
      `Demo users (password from DEMO_PASSWORD${config.demoPassword === DEFAULT_DEMO_PASSWORD ? `, default ${DEFAULT_DEMO_PASSWORD}` : ''}):`,
      `  manager: ${DEMO_MANAGER_EMAIL}    platform admin: ${DEMO_ADMIN_EMAIL}`,
      `  curl -X POST -H 'Content-Type: application/json' -H 'X-Restaurant-Domain: ${demoDomain ?? 'demo.localhost'}' ` +
        // The documented default is no secret; a password the operator chose is never printed.
        `-d '{"email":"${DEMO_MANAGER_EMAIL}","password":"${config.demoPassword === DEFAULT_DEMO_PASSWORD ? DEFAULT_DEMO_PASSWORD : '<DEMO_PASSWORD>'}"}' ${url}/v1/auth/login`,
    );
  }
  const embedded = [
    config.database.kind === 'embedded' ? `database (PGlite in ${config.dataDir})` : undefined,
    config.queue.kind === 'embedded' ? 'queue (local SQS)' : undefined,
    config.cognito.kind === 'embedded' ? 'identity (local Cognito)' : undefined,
    config.payments.provider === 'test' ? 'payments (test provider)' : undefined,
  ].filter((part) => part !== undefined);
  if (embedded.length > 0) lines.push(`Embedded: ${embedded.join(', ')}. Set the variables in README.md to use real services.`);
  return lines.join('\n');
}
