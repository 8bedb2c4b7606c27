import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import helmet from 'helmet';

/** Beside this file in the source and, copied by `npm run build`, in dist/. */
export const KITCHEN_STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');

/**
 * The kitchen screen (GET /kitchen): static files that talk to the public API and the order stream only.
 * They change with each release and are small, so browsers revalidate rather than cache them for long.
 */
export function kitchenScreen(options: { production: boolean }): Router {
  const router = express.Router();
  // helmet's default policy fits the page (its own scripts and styles, same-origin API). Outside production
  // a kitchen tablet may open it over plain http at a LAN address, where upgrade-insecure-requests would
  // send its scripts to an https port that is not there; production is https only anyway.
  if (!options.production) router.use(helmet.contentSecurityPolicy({ directives: { upgradeInsecureRequests: null } }));
  // `/kitchen` itself (no trailing slash) is the page too; its assets are linked by absolute path.
  router.get('/', (_req, res) => {
    res.sendFile('index.html', { root: KITCHEN_STATIC_DIR, maxAge: 0 });
  });
  router.use(express.static(KITCHEN_STATIC_DIR, { index: 'index.html', maxAge: 0, redirect: false, fallthrough: true }));
  return router;
}
