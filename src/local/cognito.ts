// Embedded Cognito for development: cognito-local served in this process on a loopback port
// (see DESIGN.md, "Configuration and the embedded default").
//
// We compose the server from cognito-local's parts instead of calling createDefaultServer,
// because that one hard-codes ./.cognito relative to the working directory and takes its
// port and issuer from PORT/HOST, which are ours.
//
// Emulator quirks callers must respect (measured against cognito-local 5.3.0):
// - No SRP: only USER_PASSWORD_AUTH and REFRESH_TOKEN(_AUTH). ExplicitAuthFlows are stored but
//   never enforced.
// - A wrong password is InvalidPasswordException (real Cognito: NotAuthorizedException); an
//   unknown user is NotAuthorizedException (real Cognito: UserNotFoundException unless user
//   existence errors are prevented). Treat all three as "wrong credentials".
// - AuthenticationResult carries no ExpiresIn and no TokenType: read `exp` from the token.
// - Access tokens carry no `email` claim (like real Cognito); `username` is the user's sub.
// - Email lookups are case-sensitive (real Cognito pools are case-insensitive by default), so
//   emails are stored lower-cased: callers must lower-case them too.
// - Password policy is not enforced by AdminCreateUser/AdminSetUserPassword.
// - CreateGroup on an existing group silently replaces it and drops its members.
// - AdminListGroupsForUser only matches the real username (the sub), not the email alias.
// - Every login appends its refresh token to the user record, forever, and refresh tokens are
//   not checked for expiry or client.
// - Signing key is the fixed one shipped in cognito-local/lib/keys: anyone can mint tokens for
//   this issuer. Never accept it outside development.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino, type Logger } from 'pino';
// Types only (erased): the package itself is loaded by loadCognitoLocal, when the emulator is wanted.
import type { CognitoService } from 'cognito-local/lib/services/cognitoService.js';
import type { Context } from 'cognito-local/lib/services/context.js';

export interface EmbeddedCognito {
  /** http://127.0.0.1:PORT, what amazon-cognito-identity-js (`endpoint`) and the AWS SDK take */
  endpoint: string;
  userPoolId: string;
  clientId: string;
  /** exactly the `iss` claim of the emulator's tokens */
  issuer: string;
  jwksUri: string;
  stop(): Promise<void>;
}

export interface EmbeddedCognitoOptions {
  /** all emulator state lives under `${dataDir}/cognito` */
  dataDir: string;
  /** loopback address to bind; default 127.0.0.1 */
  host?: string;
  /** 0 or unset = the port used last time if free, else any free port */
  port?: number;
  logger: Logger;
  /**
   * Serve the pool and app client with these ids (created if missing), with the endpoint itself as the
   * token issuer: for processes that know the emulator only by its address and these ids, as they would
   * know Amazon Cognito (the shared emulator of src/cli/embedded.ts). Unset: the emulator's own ids,
   * remembered in dataDir.
   */
  shared?: { userPoolId: string; clientId: string };
}

export const POOL_NAME = 'tablekit';
export const CLIENT_NAME = 'tablekit';
export const PLATFORM_ADMIN_GROUP = 'platform-admin';

const STATE_FILE = 'tablekit.json';

const APP_CLIENT_SETTINGS = {
  ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  // Real Cognito's defaults, so expiry handling is exercised in development too.
  AccessTokenValidity: 60,
  IdTokenValidity: 60,
  RefreshTokenValidity: 30,
  TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'days' },
};

interface PersistedState {
  userPoolId: string;
  clientId: string;
  /** scheme://host:port of the first start: the issuer must not move, or earlier tokens die */
  issuerDomain: string;
  port: number;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

// ---------------------------------------------------------------------------------------------
// The AWS JSON 1.1 protocol, unsigned: the emulator checks no credentials, and this keeps the
// AWS SDK out of the dependencies.

class CognitoApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'CognitoApiError';
  }
}

/** One call to the emulator's AWS JSON 1.1 API (unsigned: it checks no credentials). */
export async function callCognito<T>(endpoint: string, operation: string, body: object): Promise<T> {
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let data: Record<string, unknown> = {};
  try {
    data = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    // Fall through with no body: the status decides.
  }
  if (!response.ok) {
    const type = typeof data.__type === 'string' ? data.__type : `HTTP${response.status}`;
    const message = typeof data.message === 'string' ? data.message : response.statusText;
    // Never echo the request: it may hold a password.
    throw new CognitoApiError(type.split('#').pop() ?? type, `${operation} failed: ${message}`);
  }
  return data as T;
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof CognitoApiError && codes.includes(error.code);
}

interface AttributeType {
  Name: string;
  Value?: string;
}

interface UserType {
  Username: string;
  UserStatus?: string;
  Attributes?: AttributeType[];
}

interface AdminGetUserResponse {
  Username: string;
  UserStatus?: string;
  UserAttributes?: AttributeType[];
}

// ---------------------------------------------------------------------------------------------
// Logging. cognito-local logs expected client errors (wrong password) at warn with a stack, and
// at debug dumps whole data files, plain-text passwords and refresh tokens included. It gets its
// own pino, with those fields removed, whose lines are re-emitted on our logger at debug; only
// its errors (unsupported operation, crash) keep their level.

const REDACTED_PATHS = ['store', 'value', 'user', 'refreshToken', 'config', 'plaintext', 'encryptedCode', 'req.headers', 'res.headers'];

function emulatorLogger(target: Logger): Logger {
  const sink = {
    write(line: string): void {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...rest } = record;
      const message = typeof msg === 'string' ? msg : '';
      if (typeof level === 'number' && level >= 50) target.error(rest, message);
      else target.debug(rest, message);
    },
  };
  // Below debug nothing would be kept, so skip the serialising work; errors always pass.
  const level = target.isLevelEnabled('debug') ? 'debug' : 'error';
  return pino({ level, base: null, redact: { paths: REDACTED_PATHS, remove: true } }, sink);
}

// ---------------------------------------------------------------------------------------------

async function readState(file: string): Promise<Partial<PersistedState>> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Partial<PersistedState>) : {};
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

async function writeState(file: string, state: PersistedState): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, file);
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const force = setTimeout(() => server.closeAllConnections(), 2_000);
    force.unref();
    server.close((error) => {
      clearTimeout(force);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

async function loadCognitoLocal() {
  // Dynamic, so the production image never needs the dev dependency.
  const [server, router, clock, stormDb, cognitoService, userPoolService, triggers, lambda, messages, messageDelivery, otp, tokenGenerator] = await Promise.all(
    [
      import('cognito-local/lib/server/server.js'),
      import('cognito-local/lib/server/Router.js'),
      import('cognito-local/lib/services/clock.js'),
      import('cognito-local/lib/services/dataStore/stormDb.js'),
      import('cognito-local/lib/services/cognitoService.js'),
      import('cognito-local/lib/services/userPoolService.js'),
      import('cognito-local/lib/services/triggers/triggers.js'),
      import('cognito-local/lib/services/lambda.js'),
      import('cognito-local/lib/services/messages.js'),
      import('cognito-local/lib/services/messageDelivery/messageDelivery.js'),
      import('cognito-local/lib/services/otp.js'),
      import('cognito-local/lib/services/tokenGenerator.js'),
    ],
  );
  return { server, router, clock, stormDb, cognitoService, userPoolService, triggers, lambda, messages, messageDelivery, otp, tokenGenerator };
}

export async function startEmbeddedCognito(options: EmbeddedCognitoOptions): Promise<EmbeddedCognito> {
  const startedAt = performance.now();
  const host = options.host ?? '127.0.0.1';
  // The emulator has no authentication at all (admin operations included): loopback only.
  if (!isLoopback(host)) throw new Error(`embedded Cognito must bind a loopback address, got ${host}`);
  const log = options.logger.child({ component: 'cognito-local' });

  const baseDir = path.resolve(options.dataDir, 'cognito');
  // Pools live in db/ because cognito-local treats every *.json there as a pool; our state file
  // sits one level up.
  const dbDir = path.join(baseDir, 'db');
  const stateFile = path.join(baseDir, STATE_FILE);
  await mkdir(dbDir, { recursive: true });
  const state = await readState(stateFile);

  const lib = await loadCognitoLocal();
  const emulatorLog = emulatorLogger(log);
  const ctx = { logger: emulatorLog };

  // Read at token-signing time, so it can be filled in once the port is known.
  const tokenConfig = { IssuerDomain: '' };
  const userPoolDefaults = { UsernameAttributes: ['email'] };
  const config = {
    LambdaClient: {},
    TriggerFunctions: {},
    UserPoolDefaults: userPoolDefaults,
    TokenConfig: tokenConfig,
    ServerConfig: { hostname: host, port: 0, development: false, https: false as const },
  };

  const clock = new lib.clock.DateClock();
  const dataStoreFactory = new lib.stormDb.StormDBDataStoreFactory(dbDir);
  const cognito = await new lib.cognitoService.CognitoServiceFactoryImpl(
    dbDir,
    dataStoreFactory,
    new lib.userPoolService.UserPoolServiceFactoryImpl(clock, dataStoreFactory),
  ).create(ctx, userPoolDefaults);
  // No trigger functions are configured, so neither the Lambda client nor the KMS-backed
  // crypto service is ever called: stubs keep aws-sdk v2 and @aws-crypto from loading.
  const triggers = new lib.triggers.TriggersService(clock, cognito, new lib.lambda.LambdaService({}, {} as never), {} as never);
  const sender = {
    // Nobody receives mail in development: the code is what a developer needs to go on.
    async sendEmail(_ctx: unknown, user: { Username: string }, destination: string, message: { __code?: string }) {
      log.info({ username: user.Username, destination, code: message.__code }, 'cognito-local: verification code (not sent)');
    },
    async sendSms(_ctx: unknown, user: { Username: string }, destination: string, message: { __code?: string }) {
      log.info({ username: user.Username, destination, code: message.__code }, 'cognito-local: verification code (not sent)');
    },
  };
  const services = {
    clock,
    cognito,
    config,
    messages: new lib.messages.MessagesService(triggers, new lib.messageDelivery.MessageDeliveryService(sender)),
    otp: lib.otp.otp,
    tokenGenerator: new lib.tokenGenerator.JwtTokenGenerator(clock, triggers, tokenConfig),
    triggers,
  };
  // Two pinos (ours 10, its 7): same runtime shape, different declared types.
  const emulator = lib.server.createServer(lib.router.Router(services), emulatorLog as never, config.ServerConfig, services);
  const application = emulator.application as (req: IncomingMessage, res: ServerResponse) => void;

  // Each data file is rewritten whole, with a non-atomic fs.writeFile, on every change: two
  // requests writing at once can interleave into invalid JSON that stops the next start.
  // Handlers finish their writes before they answer, so one request at a time rules that out.
  let queue: Promise<void> = Promise.resolve();
  const server = createServer((req, res) => {
    queue = queue.then(
      () =>
        new Promise<void>((resolve) => {
          res.once('close', () => resolve());
          application(req, res);
        }),
    );
  });

  let address: AddressInfo;
  const wanted = options.port ?? 0;
  if (wanted === 0 && typeof state.port === 'number' && state.port > 0) {
    // Same port as last time when possible, so the issuer (fixed at first start) stays a live URL.
    try {
      address = await listen(server, state.port, host);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      address = await listen(server, 0, host);
    }
  } else {
    address = await listen(server, wanted, host);
  }

  const endpoint = `http://${urlHost(host)}:${address.port}`;
  const rememberedIssuer = typeof state.issuerDomain === 'string' && state.issuerDomain !== '' ? state.issuerDomain : undefined;
  tokenConfig.IssuerDomain = options.shared === undefined ? (rememberedIssuer ?? endpoint) : endpoint;

  try {
    if (options.shared !== undefined) await ensureSharedPoolAndClient(cognito, ctx, clock.get(), options.shared);
    const userPoolId = options.shared?.userPoolId ?? (await ensureUserPool(endpoint, state.userPoolId));
    const clientId = options.shared?.clientId ?? (await ensureClient(endpoint, userPoolId, state.userPoolId === userPoolId ? state.clientId : undefined));
    await ensureGroup(endpoint, userPoolId, PLATFORM_ADMIN_GROUP, 'Creates restaurants and their first manager');
    await writeState(stateFile, { userPoolId, clientId, issuerDomain: tokenConfig.IssuerDomain, port: address.port });

    const issuer = `${tokenConfig.IssuerDomain}/${userPoolId}`;
    const jwksUri = `${endpoint}/${userPoolId}/.well-known/jwks.json`;
    log.info({ endpoint, userPoolId, clientId, ms: Math.round(performance.now() - startedAt) }, 'embedded Cognito (cognito-local) ready');

    let stopping: Promise<void> | undefined;
    return {
      endpoint,
      userPoolId,
      clientId,
      issuer,
      jwksUri,
      stop() {
        stopping ??= close(server);
        return stopping;
      },
    };
  } catch (error) {
    await close(server).catch(() => undefined);
    throw error;
  }
}

/**
 * The pool and client with ids of our choosing. The API (CreateUserPool, CreateUserPoolClient) makes up
 * its own ids, so these are written through the emulator's services, with what those calls would write
 * for the requests ensureUserPool and ensureClient send.
 */
async function ensureSharedPoolAndClient(cognito: CognitoService, ctx: Context, now: Date, ids: { userPoolId: string; clientId: string }): Promise<void> {
  const pools = await cognito.listUserPools(ctx);
  if (!pools.some((pool) => pool.Id === ids.userPoolId)) {
    // createUserPool fills in AWS's defaults (schema attributes, policies) under what is given here.
    await cognito.createUserPool(ctx, {
      Id: ids.userPoolId,
      Name: POOL_NAME,
      Arn: `arn:aws:cognito-idp:local:local:userpool/${ids.userPoolId}`,
      CreationDate: now,
      LastModifiedDate: now,
      UsernameAttributes: ['email'],
      UsernameConfiguration: { CaseSensitive: false },
      AutoVerifiedAttributes: ['email'],
    });
  }
  if ((await cognito.getAppClient(ctx, ids.clientId)) === null) {
    const pool = await cognito.getUserPool(ctx, ids.userPoolId);
    await pool.saveAppClient(ctx, {
      ClientId: ids.clientId,
      ClientName: CLIENT_NAME,
      UserPoolId: ids.userPoolId,
      CreationDate: now,
      LastModifiedDate: now,
      ...APP_CLIENT_SETTINGS,
    });
  }
}

async function ensureUserPool(endpoint: string, remembered: string | undefined): Promise<string> {
  if (remembered) {
    try {
      await callCognito(endpoint, 'DescribeUserPool', { UserPoolId: remembered });
      return remembered;
    } catch (error) {
      if (!isCode(error, 'ResourceNotFoundException')) throw error;
    }
  }
  // The state file may be lost while the pool survives: adopt it rather than start a second one.
  const { UserPools = [] } = await callCognito<{ UserPools?: { Id: string; Name?: string }[] }>(endpoint, 'ListUserPools', {
    MaxResults: 60,
  });
  const existing = UserPools.find((pool) => pool.Name === POOL_NAME);
  if (existing) return existing.Id;

  const created = await callCognito<{ UserPool: { Id: string } }>(endpoint, 'CreateUserPool', {
    PoolName: POOL_NAME,
    // Email as the username attribute, as in production: the emulator then stores the sub as the
    // username and finds users by email, so tokens carry the same `username` as real Cognito.
    UsernameAttributes: ['email'],
    UsernameConfiguration: { CaseSensitive: false },
    AutoVerifiedAttributes: ['email'],
  });
  return created.UserPool.Id;
}

async function ensureClient(endpoint: string, userPoolId: string, remembered: string | undefined): Promise<string> {
  if (remembered) {
    try {
      await callCognito(endpoint, 'DescribeUserPoolClient', { UserPoolId: userPoolId, ClientId: remembered });
      return remembered;
    } catch (error) {
      if (!isCode(error, 'ResourceNotFoundException')) throw error;
    }
  }
  const { UserPoolClients = [] } = await callCognito<{ UserPoolClients?: { ClientId: string; ClientName?: string }[] }>(endpoint, 'ListUserPoolClients', {
    UserPoolId: userPoolId,
    MaxResults: 60,
  });
  const existing = UserPoolClients.find((client) => client.ClientName === CLIENT_NAME);
  if (existing) return existing.ClientId;

  const created = await callCognito<{ UserPoolClient: { ClientId: string } }>(endpoint, 'CreateUserPoolClient', {
    UserPoolId: userPoolId,
    ClientName: CLIENT_NAME,
    GenerateSecret: false,
    ...APP_CLIENT_SETTINGS,
  });
  return created.UserPoolClient.ClientId;
}

async function ensureGroup(endpoint: string, userPoolId: string, groupName: string, description?: string): Promise<void> {
  // ListGroups, not GetGroup: the emulator's GetGroup crashes (500) on a pool that has no group yet.
  const { Groups = [] } = await callCognito<{ Groups?: { GroupName: string }[] }>(endpoint, 'ListGroups', { UserPoolId: userPoolId });
  if (Groups.some((group) => group.GroupName === groupName)) return;
  // Only after looking: CreateGroup on an existing group would drop its members.
  await callCognito(endpoint, 'CreateGroup', { UserPoolId: userPoolId, GroupName: groupName, Description: description });
}

function attribute(attributes: AttributeType[] | undefined, name: string): string | undefined {
  return attributes?.find((a) => a.Name === name)?.Value;
}

/**
 * Creates the user CONFIRMED with a permanent password, or leaves an existing one as it is (only
 * adding missing groups, which must exist). Returns the user's sub.
 */
export async function ensureUser(cognito: EmbeddedCognito, user: { email: string; password: string; groups?: string[] }): Promise<{ sub: string }> {
  const { endpoint, userPoolId } = cognito;
  const email = user.email.trim().toLowerCase();

  let existing: AdminGetUserResponse | undefined;
  try {
    existing = await callCognito<AdminGetUserResponse>(endpoint, 'AdminGetUser', { UserPoolId: userPoolId, Username: email });
  } catch (error) {
    if (!isCode(error, 'UserNotFoundException')) throw error;
  }

  if (!existing) {
    try {
      const created = await callCognito<{ User: UserType }>(endpoint, 'AdminCreateUser', {
        UserPoolId: userPoolId,
        Username: email,
        TemporaryPassword: user.password,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'true' },
        ],
      });
      existing = { Username: created.User.Username, UserStatus: created.User.UserStatus, UserAttributes: created.User.Attributes };
    } catch (error) {
      // Someone else created it between our look-up and create.
      if (!isCode(error, 'UsernameExistsException')) throw error;
      existing = await callCognito<AdminGetUserResponse>(endpoint, 'AdminGetUser', { UserPoolId: userPoolId, Username: email });
    }
  }

  // FORCE_CHANGE_PASSWORD is also what a creation interrupted before this step leaves behind.
  if (existing.UserStatus === 'FORCE_CHANGE_PASSWORD') {
    await callCognito(endpoint, 'AdminSetUserPassword', {
      UserPoolId: userPoolId,
      Username: existing.Username,
      Password: user.password,
      Permanent: true,
    });
  }

  const wanted = [...new Set(user.groups ?? [])];
  if (wanted.length > 0) {
    // The real username (the sub), not the email: the emulator matches group members on it.
    const { Groups = [] } = await callCognito<{ Groups?: { GroupName: string }[] }>(endpoint, 'AdminListGroupsForUser', {
      UserPoolId: userPoolId,
      Username: existing.Username,
    });
    const have = new Set(Groups.map((g) => g.GroupName));
    for (const group of wanted.filter((g) => !have.has(g))) {
      await callCognito(endpoint, 'AdminAddUserToGroup', { UserPoolId: userPoolId, Username: existing.Username, GroupName: group });
    }
  }

  const sub = attribute(existing.UserAttributes, 'sub');
  if (!sub) throw new Error(`embedded Cognito returned user ${existing.Username} without a sub`);
  return { sub };
}
