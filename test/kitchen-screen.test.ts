import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/app.js';

describe('GET /kitchen', () => {
  let t: TestApp;
  let production: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    production = await createTestApp({ production: true, besideApp: t });
  });
  afterAll(async () => {
    await production.close();
    await t.close();
  });

  it('serves the page and its modules under a policy that allows only the page’s own scripts', async () => {
    for (const path of ['/kitchen', '/kitchen/']) {
      const page = await request(t.app).get(path);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('<script type="module" src="/kitchen/app.js">');
      // Everything the page runs is a file of its own: no inline script for the policy to refuse.
      expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      expect(page.headers['content-security-policy']).toContain("script-src-attr 'none'");
    }
    for (const asset of ['app.js', 'api.js', 'stream.js', 'ticket.js', 'kitchen.css']) {
      const res = await request(t.app).get(`/kitchen/${asset}`);
      expect(res.status, asset).toBe(200);
    }
    expect((await request(t.app).get('/kitchen/nope.js')).status).toBe(404);
  });

  it('upgrades insecure requests in production only (development may serve a LAN tablet over http)', async () => {
    expect((await request(t.app).get('/kitchen')).headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    const res = await request(production.app).get('/kitchen').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toContain('upgrade-insecure-requests');
  });
});
