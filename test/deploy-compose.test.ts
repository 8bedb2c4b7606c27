// docker-compose.yml, the Dockerfile and .dockerignore, checked against the code they deploy: the
// variables config.ts knows, the build output tsc produces, the queue names and the Cognito pool the
// service uses. No Docker engine is needed: the inline cognito-local files are run in cognito-local
// itself (the dev dependency, the same release as the image), through the compose entrypoint script.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { knownEnvironmentVariables, loadConfig } from '../src/config/config.js';
import { createEmulatorVerifier } from '../src/auth/token-verifier.js';
import { ORDERS_DEAD_LETTER_QUEUE_NAME, ORDERS_QUEUE_NAME } from '../src/local/sqs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** Variables the AWS SDK reads itself; config.ts rightly does not know them. */
const AWS_SDK_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

// ---- docker-compose.yml ------------------------------------------------------------------------

interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
}

interface ConfigMount {
  source: string;
  target: string;
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: Healthcheck;
  configs?: Array<ConfigMount | string>;
  restart?: string;
}

interface ComposeFile {
  services: Record<string, Service>;
  configs?: Record<string, { content?: string; file?: string }>;
}

const compose = parseYaml(read('docker-compose.yml')) as ComposeFile;

function service(name: string): Service {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

function serviceWithImage(prefix: string): [string, Service] {
  const found = Object.entries(compose.services).find(([, s]) => s.image?.startsWith(prefix));
  if (found === undefined) throw new Error(`docker-compose.yml has no service running ${prefix}`);
  return found;
}

/** Both spellings of `environment:`, as strings (what the process gets). */
function environmentOf(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const at = entry.indexOf('=');
        return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

/** The content of every inline config a service mounts, by target path. */
function configsOf(s: Service): Map<string, string> {
  const mounted = new Map<string, string>();
  for (const mount of s.configs ?? []) {
    const source = typeof mount === 'string' ? mount : mount.source;
    const target = typeof mount === 'string' ? `/${mount}` : mount.target;
    const content = compose.configs?.[source]?.content;
    if (content === undefined) throw new Error(`config ${source} has no inline content`);
    mounted.set(target, content);
  }
  return mounted;
}

function hasHealthcheck(s: Service): boolean {
  const test = s.healthcheck?.test;
  if (s.healthcheck?.disable === true || test === undefined) return false;
  if (typeof test === 'string') return test.trim() !== '';
  return (test[0] === 'CMD' || test[0] === 'CMD-SHELL') && test.length > 1;
}

/** The direct child blocks (`name { ... }`) of a HOCON text, by name: enough for ElasticMQ's queues. */
function hoconBlocks(text: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const opener = /([\w.-]+|"[^"]*")\s*\{/y;
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '/' && text[i + 1] === '/') i = text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i);
    else if (char === '#') i = text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i);
    else if (char === '"') i = text.indexOf('"', i + 1);
    else if (char === '}') depth -= 1;
    else if (char === '{') depth += 1;
    else if (depth === 0 && /[\w"]/.test(char ?? '') && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      opener.lastIndex = i;
      const match = opener.exec(text);
      if (match === null) continue;
      const bodyStart = opener.lastIndex;
      let level = 1;
      let j = bodyStart;
      for (; j < text.length && level > 0; j += 1) {
        if (text[j] === '{') level += 1;
        else if (text[j] === '}') level -= 1;
      }
      blocks.set((match[1] ?? '').replace(/^"|"$/g, ''), text.slice(bodyStart, j - 1));
      i = j - 1;
    }
  }
  return blocks;
}

function hoconValue(body: string, key: string): string | undefined {
  const match = new RegExp(`(?:^|\\s)${key}\\s*[=:]\\s*("[^"]*"|[^\\s,}]+)`).exec(body);
  return match?.[1]?.replace(/^"|"$/g, '');
}

// ---- Dockerfile -----------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string | undefined;
  instructions: Instruction[];
}

function dockerfileStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args };
    if (instruction.keyword === 'FROM') stages.push({ name: /\s+AS\s+(\S+)\s*$/i.exec(args)?.[1], instructions: [] });
    stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

const dockerStages = dockerfileStages(read('Dockerfile'));
const runtimeStage = dockerStages.at(-1);

function last(stage: Stage | undefined, keyword: string): Instruction | undefined {
  return stage?.instructions.filter((i) => i.keyword === keyword).at(-1);
}

/** Where `npm run build` (tsc with tsconfig.json's rootDir and outDir) puts a source file. */
function builtPathOf(sourceFile: string): string {
  const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions: { rootDir?: string; outDir?: string } };
  const rootDir = path.resolve(ROOT, tsconfig.compilerOptions.rootDir ?? '.');
  const outDir = path.resolve(ROOT, tsconfig.compilerOptions.outDir ?? '.');
  const built = path.join(outDir, path.relative(rootDir, path.resolve(ROOT, sourceFile))).replace(/\.ts$/, '.js');
  return path.relative(ROOT, built).split(path.sep).join('/');
}

/**
 * The packages an entry point loads at start: static imports followed through our own files, as
 * tsc emits them (imports used only as types are dropped; dynamic import() is not followed, which is
 * how the embedded dev stack stays out of production).
 */
function runtimePackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [path.resolve(ROOT, entry)];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const emitted = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    }).outputText;
    const source = ts.createSourceFile(file, emitted, ts.ScriptTarget.ES2022);
    for (const statement of source.statements) {
      if (!(ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement))) continue;
      const specifier = statement.moduleSpecifier;
      if (specifier === undefined || !ts.isStringLiteral(specifier)) continue;
      const name = specifier.text;
      if (name.startsWith('.')) pending.push(path.resolve(path.dirname(file), name).replace(/\.js$/, '.ts'));
      else if (!isBuiltin(name)) packages.add(name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : (name.split('/')[0] ?? name));
    }
  }
  return packages;
}

// --------------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  const api = service('api');
  const apiEnv = environmentOf(api);

  it('gives the services built from the Dockerfile only variables the service (or the AWS SDK) reads', () => {
    const built = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
    expect(built.map(([name]) => name)).toEqual(expect.arrayContaining(['api', 'migrate']));
    for (const [name, s] of built) {
      const unknown = Object.keys(environmentOf(s)).filter(
        (variable) => !knownEnvironmentVariables.includes(variable) && !AWS_SDK_VARIABLES.includes(variable),
      );
      expect(unknown, `service ${name}`).toEqual([]);
    }
  });

  it('gives the API a configuration loadConfig accepts, with every part real (no embedded stand-in)', () => {
    expect(apiEnv.NODE_ENV).toBe('development');
    const config = loadConfig(apiEnv);
    expect(config.env).toBe('development');
    expect(config.database.kind).toBe('postgres');
    expect(config.queue).toMatchObject({ kind: 'sqs', region: apiEnv.AWS_REGION, endpoint: apiEnv.AWS_ENDPOINT_URL_SQS });
    expect(config.cognito).toMatchObject({ kind: 'cognito', endpoint: apiEnv.COGNITO_ENDPOINT, authFlow: 'USER_PASSWORD_AUTH' });
    expect(config.payments.provider).toBe('test');
    // And the migrate job's: same database.
    const migrateEnv = environmentOf(service('migrate'));
    expect(loadConfig(migrateEnv).database).toEqual(config.database);
  });

  it('starts the API only after its dependencies are healthy and the migrations have completed', () => {
    const dependsOn = api.depends_on;
    expect(dependsOn, 'depends_on in long form, with conditions').not.toBeInstanceOf(Array);
    const dependencies = Object.entries(dependsOn as Record<string, { condition?: string }>);
    expect(dependencies.map(([name]) => name).sort()).toEqual(['cognito', 'elasticmq', 'migrate', 'postgres', 's3']);
    for (const [name, { condition }] of dependencies) {
      const dependency = service(name);
      if (condition === 'service_completed_successfully') {
        expect(dependency.restart ?? 'no', `${name} is a one-off job`).toBe('no');
        expect(dependency.command, `${name} command`).toBeDefined();
      } else {
        expect(condition, `api depends on ${name}`).toBe('service_healthy');
        expect(hasHealthcheck(dependency), `${name} has a health check`).toBe(true);
      }
    }
    expect(api.depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' } });
  });

  it('runs the migrations as the built CLI, on the database the API uses', () => {
    const migrate = service('migrate');
    expect(migrate.image).toBe(api.image);
    expect(migrate.command).toEqual(['node', builtPathOf('src/cli/migrate.ts')]);
    expect(fs.existsSync(path.join(ROOT, 'src/cli/migrate.ts'))).toBe(true);
    expect(environmentOf(migrate).DATABASE_URL).toBe(apiEnv.DATABASE_URL);
  });

  it('gives every service a health check, the API one on its own port', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'migrate') continue;
      expect(hasHealthcheck(s), `${name} has a health check`).toBe(true);
    }
    const test = api.healthcheck?.test;
    expect(JSON.stringify(test)).toContain(`127.0.0.1:${apiEnv.PORT}/readyz`);
  });

  it('points the API at the postgres service with its credentials', () => {
    const postgres = service('postgres');
    expect(postgres.image).toMatch(/^postgres:16(\b|$)/);
    const pg = environmentOf(postgres);
    const url = new URL(apiEnv.DATABASE_URL ?? '');
    expect(url.hostname).toBe('postgres');
    expect(decodeURIComponent(url.username)).toBe(pg.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
  });

  it('declares in ElasticMQ the orders queue the API uses and its dead-letter queue (5 receives)', () => {
    const [name, elasticmq] = serviceWithImage('softwaremill/elasticmq-native');
    const conf = configsOf(elasticmq).get('/opt/elasticmq.conf');
    expect(conf, 'ElasticMQ reads /opt/elasticmq.conf').toBeDefined();
    const queues = hoconBlocks(hoconBlocks(conf ?? '').get('queues') ?? '');
    expect([...queues.keys()].sort()).toEqual([ORDERS_QUEUE_NAME, ORDERS_DEAD_LETTER_QUEUE_NAME].sort());
    expect(ORDERS_QUEUE_NAME).toBe('tablekit-orders');
    expect(ORDERS_DEAD_LETTER_QUEUE_NAME).toBe('tablekit-orders-dlq');
    const deadLetters = hoconBlocks(queues.get(ORDERS_QUEUE_NAME) ?? '').get('deadLettersQueue') ?? '';
    expect(hoconValue(deadLetters, 'name')).toBe(ORDERS_DEAD_LETTER_QUEUE_NAME);
    expect(hoconValue(deadLetters, 'maxReceiveCount')).toBe('5');

    const endpoint = new URL(apiEnv.AWS_ENDPOINT_URL_SQS ?? '');
    expect(endpoint.hostname).toBe(name);
    expect(endpoint.port).toBe(hoconValue(hoconBlocks(conf ?? '').get('rest-sqs') ?? '', 'bind-port'));
    const queueUrl = new URL(apiEnv.SQS_QUEUE_URL ?? '');
    expect(queueUrl.origin).toBe(endpoint.origin);
    expect(queueUrl.pathname.split('/').at(-1)).toBe(ORDERS_QUEUE_NAME);
    expect(JSON.stringify(elasticmq.healthcheck?.test)).toContain(`QueueName=${ORDERS_QUEUE_NAME}`);
  });

  it('provisions in cognito-local the pool and app client given to the API, with the issuer it verifies', () => {
    const [name, cognito] = serviceWithImage('jagregory/cognito-local');
    const files = configsOf(cognito);
    const poolEntry = [...files.entries()].find(([target]) => /\/db\/(?!clients\.json$)[^/]+\.json$/.test(target));
    const clientsEntry = [...files.entries()].find(([target]) => target.endsWith('/db/clients.json'));
    const configEntry = [...files.entries()].find(([target]) => target.endsWith('/config.json'));
    expect(poolEntry && clientsEntry && configEntry, 'pool, clients.json and config.json').toBeTruthy();

    const poolId = path.basename(poolEntry?.[0] ?? '', '.json');
    const pool = JSON.parse(poolEntry?.[1] ?? '{}') as { Options?: { Id?: string }; Groups?: Record<string, unknown> };
    const clients = JSON.parse(clientsEntry?.[1] ?? '{}') as { Clients?: Record<string, { ClientId?: string; UserPoolId?: string }> };
    const settings = JSON.parse(configEntry?.[1] ?? '{}') as { TokenConfig?: { IssuerDomain?: string } };

    expect(apiEnv.COGNITO_USER_POOL_ID).toBe(poolId);
    expect(pool.Options?.Id).toBe(poolId);
    expect(Object.keys(pool.Groups ?? {})).toContain('platform-admin');
    const clientId = apiEnv.COGNITO_CLIENT_ID ?? '';
    expect(clients.Clients?.[clientId]).toMatchObject({ ClientId: clientId, UserPoolId: poolId });
    // identity.ts verifies emulator tokens against `${COGNITO_ENDPOINT}/${poolId}`; cognito-local
    // writes `${TokenConfig.IssuerDomain}/${poolId}` into them.
    expect(settings.TokenConfig?.IssuerDomain).toBe(apiEnv.COGNITO_ENDPOINT);
    expect(new URL(apiEnv.COGNITO_ENDPOINT ?? '').hostname).toBe(name);
    expect(JSON.stringify(cognito.healthcheck?.test)).toContain(clientId);
  });

  it('writes no `$` that compose would interpolate', () => {
    const contents = Object.values(compose.configs ?? {}).map((c) => c.content ?? '');
    const values = Object.values(compose.services).flatMap((s) => [
      ...Object.values(environmentOf(s)),
      JSON.stringify(s.healthcheck?.test ?? ''),
      JSON.stringify(s.entrypoint ?? ''),
      JSON.stringify(s.command ?? ''),
    ]);
    for (const text of [...contents, ...values]) expect(text.replace(/\$\$/g, '')).not.toContain('$');
  });
});

describe('the inline cognito-local files, run in cognito-local through the compose entrypoint', () => {
  const [, cognito] = serviceWithImage('jagregory/cognito-local');
  const apiEnv = environmentOf(service('api'));
  const startJs = path.join(ROOT, 'node_modules/cognito-local/lib/bin/start.js');
  let dir: string | undefined;
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** The entrypoint script with the container's paths moved under `dir`; resolves with the port. */
  async function start(base: string): Promise<{ port: number; stop: () => Promise<void> }> {
    const entrypoint = cognito.entrypoint;
    expect(Array.isArray(entrypoint) && entrypoint.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    const script = String((entrypoint as string[])[2])
      .replaceAll('/tablekit-cognito/', `${base}/seed/`)
      .replaceAll('/app/.cognito', `${base}/app/.cognito`)
      .replaceAll('node /app/start.js', `"${process.execPath}" "${startJs}"`);
    const child = spawn('/bin/sh', ['-c', script], {
      cwd: path.join(base, 'app'),
      env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cognito-local did not start:\n${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /running on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`cognito-local exited (${code}):\n${output}`));
      });
    });
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    };
    return { port, stop };
  }

  async function call<T>(port: number, operation: string, body: object): Promise<T> {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${operation}` },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${operation}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** The compose health check, run here: node -e, with the port moved. */
  async function healthcheck(port: number): Promise<number | null> {
    const test = cognito.healthcheck?.test;
    expect(Array.isArray(test) && test.slice(0, 2)).toEqual(['CMD', 'node']);
    const args = (test as string[]).slice(2).map((arg) => arg.replaceAll('127.0.0.1:9229', `127.0.0.1:${port}`));
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  it('loads the pool and client, passes its health check, and signs tokens the API accepts; a restart keeps users', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tablekit-compose-cognito-'));
    const base = dir;
    // What compose's `configs:` does: the inline contents, as files at their targets (mode 0444).
    for (const [target, content] of configsOf(cognito)) {
      expect(target.startsWith('/tablekit-cognito/')).toBe(true);
      const file = path.join(base, 'seed', target.slice('/tablekit-cognito/'.length));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content, { mode: 0o444 });
    }
    fs.mkdirSync(path.join(base, 'app'), { recursive: true });

    const first = await start(base);
    expect(await healthcheck(first.port)).toBe(0);

    const poolId = apiEnv.COGNITO_USER_POOL_ID ?? '';
    const clientId = apiEnv.COGNITO_CLIENT_ID ?? '';
    const email = 'compose-check@demo.localhost';
    const password = 'Compose-check-1!';
    const created = await call<{ User: { Username: string } }>(first.port, 'AdminCreateUser', {
      UserPoolId: poolId,
      Username: email,
      TemporaryPassword: password,
      MessageAction: 'SUPPRESS',
      UserAttributes: [{ Name: 'email', Value: email }],
    });
    await call(first.port, 'AdminSetUserPassword', { UserPoolId: poolId, Username: email, Password: password, Permanent: true });
    await call(first.port, 'AdminAddUserToGroup', { UserPoolId: poolId, Username: created.User.Username, GroupName: 'platform-admin' });
    const login = await call<{ AuthenticationResult: { AccessToken: string } }>(first.port, 'InitiateAuth', {
      AuthFlow: apiEnv.COGNITO_AUTH_FLOW,
      ClientId: clientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
    // Verified as identity.ts does for an endpoint override: issuer `${COGNITO_ENDPOINT}/${poolId}`
    // (only the JWKS is fetched from here rather than from http://cognito:9229).
    const verifier = createEmulatorVerifier({
      issuer: `${(apiEnv.COGNITO_ENDPOINT ?? '').replace(/\/$/, '')}/${poolId}`,
      jwksUri: `http://127.0.0.1:${first.port}/${poolId}/.well-known/jwks.json`,
      clientId,
    });
    const verified = await verifier.verify(login.AuthenticationResult.AccessToken);
    expect(verified).toMatchObject({ clientId, groups: ['platform-admin'] });
    await first.stop();
    expect(await healthcheck(first.port)).not.toBe(0);

    // Second start on the same data: the seed must not overwrite the pool that now has a user.
    const second = await start(base);
    expect(await healthcheck(second.port)).toBe(0);
    const user = await call<{ Username: string }>(second.port, 'AdminGetUser', { UserPoolId: poolId, Username: email });
    expect(user.Username).toBe(created.User.Username);
    await second.stop();
  }, 60_000);
});

describe('Dockerfile', () => {
  it("runs node directly, with ecosystem.config.js's nodeRuntimeArgs, on the file npm run build produces from src/main.ts", async () => {
    const ecosystem: unknown = await import(path.join(ROOT, 'ecosystem.config.js'));
    const { nodeRuntimeArgs } = ecosystem as { nodeRuntimeArgs: string[] };
    expect(nodeRuntimeArgs.length).toBeGreaterThan(0);
    const cmd = last(runtimeStage, 'CMD');
    expect(cmd, 'runtime stage has a CMD').toBeDefined();
    const command = JSON.parse(cmd?.args ?? 'null') as unknown;
    expect(command, 'exec form, so node is PID 1 and gets SIGTERM').toEqual(['node', ...nodeRuntimeArgs, builtPathOf('src/main.ts')]);
    expect(builtPathOf('src/main.ts')).toBe('dist/src/main.js');
    expect(fs.existsSync(path.join(ROOT, 'src/main.ts'))).toBe(true);
    expect(last(runtimeStage, 'ENTRYPOINT'), 'no entrypoint wrapping node').toBeUndefined();
  });

  it('builds in one stage and runs as a non-root user with production dependencies only', () => {
    expect(dockerStages.length).toBeGreaterThanOrEqual(2);
    expect(dockerStages[0]?.instructions[0]?.args).toMatch(/^node:\$\{NODE_VERSION\}-slim|^node:22[\w.-]*-slim/);
    expect(read('Dockerfile')).toMatch(/^ARG NODE_VERSION=22$/m);
    const buildStage = dockerStages.find((stage) => stage.instructions.some((i) => i.keyword === 'RUN' && /\bnpm run build\b|\btsc\b/.test(i.args)));
    expect(buildStage?.name, 'a named build stage').toBeDefined();
    expect(buildStage).not.toBe(runtimeStage);

    const runtime = runtimeStage?.instructions ?? [];
    expect(runtime.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev|npm prune\b.*--omit=dev|npm prune --production/.test(i.args))).toBe(true);
    expect(runtime.some((i) => i.keyword === 'COPY' && i.args.includes(`--from=${buildStage?.name}`) && /\bdist\b/.test(i.args))).toBe(true);
    const user = last(runtimeStage, 'USER')?.args.split(':')[0];
    expect(user, 'runtime stage sets USER').toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('has every package the service and its CLIs load at start among the production dependencies', () => {
    const { dependencies = {} } = JSON.parse(read('package.json')) as { dependencies?: Record<string, string> };
    for (const entry of ['src/main.ts', 'src/cli/migrate.ts', 'src/cli/seed.ts']) {
      const packages = [...runtimePackages(entry)];
      expect(packages.length, `${entry} loads packages`).toBeGreaterThan(0);
      expect(
        packages.filter((name) => !(name in dependencies)),
        `${entry} needs dev dependencies`,
      ).toEqual([]);
    }
  });

  it("starts node as pm2 does: the runtime stage's ENV holds ecosystem.config.js's nodeRuntimeEnv", async () => {
    const ecosystem: unknown = await import(path.join(ROOT, 'ecosystem.config.js'));
    const expected = (ecosystem as { nodeRuntimeEnv: Record<string, string> }).nodeRuntimeEnv;
    const declared: Record<string, string> = {};
    for (const env of runtimeStage?.instructions.filter((i) => i.keyword === 'ENV') ?? []) {
      for (const [, name = '', quoted, bare] of env.args.matchAll(/(\w+)=(?:"([^"]*)"|(\S*))/g)) declared[name] = quoted ?? bare ?? '';
    }
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    expect(declared).toMatchObject(expected);
  });

  it('has a HEALTHCHECK on /healthz that needs nothing but node', () => {
    const healthcheck = last(runtimeStage, 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/\bCMD\s+\["node",/);
    expect(healthcheck?.args).toContain('/healthz');
  });

  it('leaves what is installed, built or local out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((line) => line.trim().replace(/^\/|\/$/g, ''))
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.data', '.git', 'test', 'bench', 'coverage']));
  });
});
