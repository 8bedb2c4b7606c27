// pm2 on bare EC2 (see README.md, "Deploying to EC2 with pm2 behind a load balancer"): one instance per CPU in cluster mode,
// all sharing the port; every instance is stateless (Postgres, SQS and Cognito are shared).
//
//   npm ci && npm run build && npm prune --omit=dev
//   npm install -g pm2@7                            # pm2 is a development dependency: pruned above
//   node dist/src/cli/migrate.js                    # the deploy step: production instances never migrate
//   pm2 start ecosystem.config.js --env production  # the variables in README.md must be set
//   pm2 reload tablekit                             # zero-downtime: instance by instance (two at a time)
//
// In development `DATABASE_URL` alone is enough (`pm2 start ecosystem.config.js`): the identity server and
// the orders queue cannot be embedded in each instance (each would have its own users and its own
// messages), so whichever of them is not configured runs once, in the app `tablekit-embedded`
// (src/cli/embedded.ts), and every instance is pointed at it by the same variables that name Amazon
// Cognito and SQS. It listens on loopback ports EMBEDDED_COGNITO_PORT (9325) and EMBEDDED_SQS_PORT (9324),
// and seeds the demo restaurant with its manager. The embedded database cannot be shared: an instance
// started in a cluster without DATABASE_URL refuses to start and says so.
//
// This is an ES module (package.json has "type": "module"). pm2 7 loads config files with
// require(), which loads an ES module on Node >= 20.19 / >= 22.12 (require(esm)) and hands back
// its namespace: pm2 reads the named export `apps` from it (a default export alone would be
// `namespace.default`, which pm2 does not look at). On an older Node, require() of this file
// fails with ERR_REQUIRE_ESM and pm2 says "File ecosystem.config.js malformated".

import { fileURLToPath } from 'node:url';

/**
 * How node runs the service, wherever it is deployed: the Dockerfile sets the same (test/deploy-compose.test.ts
 * holds them equal) and the bench starts its production-shaped service with these (bench/production-shape.ts).
 * Why these values: README.md, "Memory".
 */
export const nodeRuntimeEnv = {
  // V8's young generation is what grows under concurrent load (to 32 MB by default, already at start), and
  // an old generation free to grow keeps what it grew for good: both bounded, at a small cost in collections.
  NODE_OPTIONS: '--max-semi-space-size=2 --max-old-space-size=128',
  // glibc gives every thread that allocates its own arena (up to 8 per core); libvips' threads left ~60 MB
  // more resident after ten uploads without this.
  MALLOC_ARENA_MAX: '2',
  // glibc raises both thresholds each time a large block is freed, and then keeps such blocks in its heap
  // for good: fixed at its starting 128 kB, a large buffer is its own mapping, handed back when freed.
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/**
 * node's own arguments, for the V8 flags NODE_OPTIONS does not accept (the Dockerfile's CMD has the same).
 * V8's memory reducer collects a heap left larger than it needs once allocation has calmed down, first
 * looking 8 s after the last full collection: at 2 s an instance hands back what a rush grew seconds
 * after it, not 10–20 s after (README.md, "Memory"). Under load it finds allocation high and waits again.
 */
export const nodeRuntimeArgs = ['--gc-memory-reducer-start-delay-ms=2000'];

/** The project root: `script` and the instances' working directory, wherever pm2 is started from. */
const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * One instance per CPU ('max') unless WEB_CONCURRENCY says how many (a shared box, a test). The
 * CLI's `-i <n>` cannot do it: pm2 ignores it for a config file (it arrives as a string).
 */
const instances = process.env.WEB_CONCURRENCY?.trim() || 'max';

/** How long a stopping instance may drain (src/config.ts's default when unset). */
const drainTimeoutMs = Number.parseInt(process.env.SHUTDOWN_TIMEOUT_MS ?? '', 10) || 10_000;

/** pm2 tells a config file nothing of `--env production` but its own command line. */
function cliEnvironments() {
  const argv = process.argv;
  const at = argv.indexOf('--env');
  const value = at === -1 ? argv.find((arg) => arg.startsWith('--env='))?.slice('--env='.length) : argv[at + 1];
  return (value ?? '').split(',');
}
const production = process.env.NODE_ENV === 'production' || cliEnvironments().includes('production');

const isSet = (name) => (process.env[name]?.trim() ?? '') !== '';
// Production embeds nothing: its instances refuse to start and name what is missing.
const embedIdentity = !production && !isSet('COGNITO_USER_POOL_ID');
const embedQueue = !production && !isSet('SQS_QUEUE_URL');
const cognitoPort = process.env.EMBEDDED_COGNITO_PORT?.trim() || '9325';
const sqsPort = process.env.EMBEDDED_SQS_PORT?.trim() || '9324';

/** What the instances and `tablekit-embedded` are told: the emulator's address, as a real service's would be. */
const sharedEnv = {
  ...(embedIdentity
    ? {
        COGNITO_ENDPOINT: `http://127.0.0.1:${cognitoPort}`,
        // The ids docker-compose.yml provisions too.
        COGNITO_USER_POOL_ID: 'local_tablekit',
        COGNITO_CLIENT_ID: 'tablekitlocalappclient0001',
        // The emulator has no SRP.
        COGNITO_AUTH_FLOW: 'USER_PASSWORD_AUTH',
      }
    : {}),
  ...(embedQueue
    ? {
        SQS_QUEUE_URL: `http://127.0.0.1:${sqsPort}/000000000000/tablekit-orders`,
        AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${sqsPort}`,
        // The emulator checks no credentials, but the AWS SDK signs nothing without some.
        AWS_ACCESS_KEY_ID: 'tablekit-local',
        AWS_SECRET_ACCESS_KEY: 'tablekit-local',
      }
    : {}),
};
const embeddedParts = [...(embedIdentity ? ['identity'] : []), ...(embedQueue ? ['queue'] : [])];

const embeddedApp = {
  name: 'tablekit-embedded',
  script: 'dist/src/cli/embedded.js',
  args: embeddedParts,
  cwd: root,
  // One process for all instances. Leave it running across deploys: `pm2 reload tablekit` names only
  // the instances; reloading this one would drop the queued messages, which live in its memory.
  exec_mode: 'fork',
  instances: 1,
  wait_ready: true,
  listen_timeout: 30_000,
  kill_timeout: 5_000,
  max_restarts: 10,
  min_uptime: 10_000,
  merge_logs: true,
  env: sharedEnv,
};

export const apps = [
  ...(embeddedParts.length > 0 ? [embeddedApp] : []),
  {
    name: 'tablekit',
    // The compiled service (npm run build): node runs it directly, no tsx or npm in the signal path.
    script: 'dist/src/main.js',
    node_args: nodeRuntimeArgs,
    cwd: root,
    exec_mode: 'cluster',
    instances,
    // pm2 counts an instance as started (and, in `pm2 reload`, stops the old instance it replaces)
    // only once it calls process.send('ready'), which src/main.ts does after the database and
    // identity are up and the server is listening.
    wait_ready: true,
    // How long to wait for that 'ready' before pm2 gives up waiting and considers it up anyway (a
    // reload then stops the old instance regardless): far above the few seconds a start takes.
    listen_timeout: 30_000,
    // pm2 stops an instance with SIGINT (its default kill_signal), which the service treats as
    // SIGTERM: stop listening, answer each keep-alive connection's next request with Connection: close,
    // let requests in flight finish (src/http/drain.ts; at most SHUTDOWN_TIMEOUT_MS, default 10 s),
    // close the pools, log "stopped", exit 0. pm2 sends SIGKILL only after kill_timeout, so it must
    // outlast all that, whatever SHUTDOWN_TIMEOUT_MS says (an invalid one stops the instance at start).
    kill_timeout: drainTimeoutMs + 5_000,
    // A crash loop (bad configuration exits 1 at once) must not spin forever.
    max_restarts: 10,
    min_uptime: 10_000,
    // Structured JSON logs (pino) go to stdout: one file for all instances, not one per instance.
    merge_logs: true,
    env: { ...nodeRuntimeEnv, ...sharedEnv },
    env_production: {
      NODE_ENV: 'production',
    },
  },
];

export default { apps };
