import type { Logger } from 'pino';
import type { CognitoConfig } from '../config/config.js';
import { createCognitoVerifier, createEmulatorVerifier, type AccessTokenVerifier } from './token-verifier.js';
import { PLATFORM_ADMIN_GROUP } from './authenticator.js';
import { createUserPoolAdmin, type UserDirectory } from './user-pool-admin.js';
import { createUserPoolFlows, type UserPoolFlows } from './user-pool-flows.js';

/** Where sign-up and login go, and how the tokens they yield are verified. */
export interface IdentityProvider {
  kind: 'cognito' | 'embedded';
  userPoolId: string;
  clientId: string;
  /** Set for the emulator (and any endpoint override); unset means AWS's regional endpoint. */
  endpoint: string | undefined;
  region: string;
  authFlow: 'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH';
  verifier: AccessTokenVerifier;
  /** Subs of the demo users, when the embedded identity server created them. */
  demoUsers: { admin: DemoUser; manager: DemoUser; bistroManager: DemoUser } | undefined;
  stop(): Promise<void>;
}

export interface DemoUser {
  email: string;
  sub: string;
}

export const DEMO_ADMIN_EMAIL = 'admin@demo.localhost';
export const DEMO_MANAGER_EMAIL = 'manager@demo.localhost';
export const BISTRO_MANAGER_EMAIL = 'manager@bistro.localhost';

export async function startIdentity(config: CognitoConfig, options: { demoPassword: string; logger: Logger }): Promise<IdentityProvider> {
  if (config.kind === 'cognito') {
    return {
      kind: 'cognito',
      userPoolId: config.userPoolId,
      clientId: config.clientId,
      endpoint: config.endpoint,
      region: config.region,
      authFlow: config.authFlow,
      // An endpoint override (a cognito-local container in docker compose) issues tokens under its own
      // issuer; production refuses the override in config.ts, so this branch never trusts it there.
      verifier:
        config.endpoint === undefined
          ? createCognitoVerifier({ userPoolId: config.userPoolId, clientId: config.clientId })
          : createEmulatorVerifier({
              issuer: `${config.endpoint.replace(/\/$/, '')}/${config.userPoolId}`,
              jwksUri: `${config.endpoint.replace(/\/$/, '')}/${config.userPoolId}/.well-known/jwks.json`,
              clientId: config.clientId,
            }),
      demoUsers: undefined,
      stop: async () => {},
    };
  }
  // Dev dependency, loaded only when the embedded identity server is wanted (never in production).
  const { startEmbeddedCognito, ensureUser } = await import('../local/cognito.js');
  const cognito = await startEmbeddedCognito({ dataDir: config.dataDir, logger: options.logger });
  const admin = await ensureUser(cognito, { email: DEMO_ADMIN_EMAIL, password: options.demoPassword, groups: [PLATFORM_ADMIN_GROUP] });
  const manager = await ensureUser(cognito, { email: DEMO_MANAGER_EMAIL, password: options.demoPassword });
  const bistroManager = await ensureUser(cognito, { email: BISTRO_MANAGER_EMAIL, password: options.demoPassword });
  return {
    kind: 'embedded',
    userPoolId: cognito.userPoolId,
    clientId: cognito.clientId,
    endpoint: cognito.endpoint,
    region: 'us-east-1',
    // The emulator has no SRP.
    authFlow: 'USER_PASSWORD_AUTH',
    verifier: createEmulatorVerifier({ issuer: cognito.issuer, jwksUri: cognito.jwksUri, clientId: cognito.clientId }),
    demoUsers: {
      admin: { email: DEMO_ADMIN_EMAIL, sub: admin.sub },
      manager: { email: DEMO_MANAGER_EMAIL, sub: manager.sub },
      bistroManager: { email: BISTRO_MANAGER_EMAIL, sub: bistroManager.sub },
    },
    stop: () => cognito.stop(),
  };
}

/** What the routes use of the user pool: its user-facing flows (/v1/auth) and its directory of users. */
export interface IdentityServices {
  flows: UserPoolFlows;
  directory: UserDirectory;
}

export function createIdentityServices(
  pool: Pick<IdentityProvider, 'kind' | 'userPoolId' | 'clientId' | 'endpoint' | 'region' | 'authFlow'>,
  logger: Logger,
): IdentityServices {
  const admin = createUserPoolAdmin({ userPoolId: pool.userPoolId, region: pool.region, endpoint: pool.endpoint, logger });
  // An endpoint override is an emulator: config.ts refuses one in production.
  const emulator = pool.kind === 'embedded' || pool.endpoint !== undefined;
  const flows = createUserPoolFlows({
    userPoolId: pool.userPoolId,
    clientId: pool.clientId,
    region: pool.region,
    endpoint: pool.endpoint,
    authFlow: pool.authFlow,
    emulator,
    admin,
    logger,
  });
  return { flows, directory: admin };
}
