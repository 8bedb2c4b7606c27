// `node --import ./test/support/without-dev-dependencies.mjs …`: the service as installed with
// `npm ci --omit=dev`, where the embedded parts' packages are missing. Module resolution of each
// package in HIDDEN fails exactly as Node fails for a package that is not there.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
    const HIDDEN = ${JSON.stringify(['@electric-sql/pglite', 'knex-pglite', 'cognito-local', 'local-aws-sqs'])};
    export async function resolve(specifier, context, nextResolve) {
      const name = HIDDEN.find((pkg) => specifier === pkg || specifier.startsWith(pkg + '/'));
      if (name !== undefined) {
        const error = new Error("Cannot find package '" + name + "' imported from " + context.parentURL);
        error.code = 'ERR_MODULE_NOT_FOUND';
        throw error;
      }
      return nextResolve(specifier, context);
    }
  `)}`,
);
