// pm2 on bare EC2 (see README.md, "Deploying to EC2 with pm2 behind a load balancer"): one instance per CPU in cluster mode,
// all sharing the port; every instance is stateless (Postgres, SQS and Cognito are shared).
//
//   npm ci && npm run build && npm prune --omit=dev
//   node dist/src/cli/migrate.js                    # the deploy step: production instances never migrate
//   pm2 start ecosystem.config.js --env production  # the variables in README.md must be set
//   pm2 reload tablekit                             # zero-downtime: one instance at a time
//
// This is an ES module (package.json has "type": "module"). pm2 7 loads config files with
// require(), which loads an ES module on Node >= 20.19 / >= 22.12 (require(esm)) and hands back
// its namespace: pm2 reads the named export `apps` from it (a default export alone would be
// `namespace.default`, which pm2 does not look at). On an older Node, require() of this file
// fails with ERR_REQUIRE_ESM and pm2 says "File ecosystem.config.js malformated".

import { fileURLToPath } from 'node:url';

/** The project root: `script` and the instances' working directory, wherever pm2 is started from. */
const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * One instance per CPU ('max') unless WEB_CONCURRENCY says how many (a shared box, a test). The
 * CLI's `-i <n>` cannot do it: pm2 ignores it for a config file (it arrives as a string).
 */
const instances = process.env.WEB_CONCURRENCY?.trim() || 'max';

export const apps = [
  {
    name: 'tablekit',
    // The compiled service (npm run build): node runs it directly, no tsx or npm in the signal path.
    script: 'dist/src/main.js',
    cwd: root,
    exec_mode: 'cluster',
    instances,
    // pm2 counts an instance as started (and, in `pm2 reload`, stops the old instance it replaces)
    // only once it calls process.send('ready'), which src/main.ts does after the database and
    // identity are up and the server is listening.
    wait_ready: true,
    // How long to wait for that 'ready' before pm2 gives up waiting and considers it up anyway.
    listen_timeout: 30_000,
    // pm2 stops an instance with SIGINT (its default kill_signal), which the service treats as
    // SIGTERM: refuse new work, drain (SHUTDOWN_TIMEOUT_MS, default 10 s, in src/config.ts), close
    // the pools, exit 0. pm2 sends SIGKILL only after kill_timeout, so it must outlast all that.
    kill_timeout: 15_000,
    // A crash loop (bad configuration exits 1 at once) must not spin forever.
    max_restarts: 10,
    min_uptime: 10_000,
    // Structured JSON logs (pino) go to stdout: one file for all instances, not one per instance.
    merge_logs: true,
    env_production: {
      NODE_ENV: 'production',
    },
  },
];

export default { apps };
