import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

/** Beside this file in the source and, copied by `npm run build`, in dist/. */
export const KITCHEN_STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');

/**
 * The kitchen screen (GET /kitchen): static files that talk to the public API and the order stream only.
 * They change with each release and are small, so browsers revalidate rather than cache them for long.
 */
export function kitchenScreen(): Router {
  const router = express.Router();
  // `/kitchen` itself (no trailing slash) is the page too; its assets are linked by absolute path.
  router.get('/', (_req, res) => {
    res.sendFile('index.html', { root: KITCHEN_STATIC_DIR, maxAge: 0 });
  });
  router.use(express.static(KITCHEN_STATIC_DIR, { index: 'index.html', maxAge: 0, redirect: false, fallthrough: true }));
  return router;
}
