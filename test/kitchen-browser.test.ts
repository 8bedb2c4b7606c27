import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Server, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createTestApp, type TestApp } from './support/app.js';
import { insertIngredientRow } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { onRealPostgres } from './support/database.js';
import { TEST_PASSWORD, signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { orderSchema } from '../src/modules/orders/schemas.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
// CI installs chromium (.ci/run): there a missing browser is a failure, not a skip.
const runHere = onRealPostgres && (hasChromium || process.env.CI !== undefined);
if (!runHere) {
  const why = !onRealPostgres ? 'they run on real PostgreSQL only (set DATABASE_URL)' : `no ${CHROMIUM} (apt-get install chromium)`;
  console.warn(`kitchen screen browser tests skipped: ${why}`);
}

const DOMAIN = 'kitchen-test.localhost';
const ARTIFACTS = path.resolve('test-results');

describe.skipIf(!runHere)('the kitchen screen in a real browser (Chromium)', () => {
  let t: TestApp;
  let server: Server;
  let port: number;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let kitchen: SignedInUser;
  let customer: SignedInUser;
  let burger: number;
  let onion: number;
  let cheese: number;
  const streamSockets = new Set<Socket>();

  const api = (method: 'get' | 'post', url: string, user: SignedInUser) =>
    request(t.app)[method](url).set('X-Restaurant-Domain', DOMAIN).set('Authorization', user.auth);

  async function placeOrder(notes?: string): Promise<number> {
    const line = await api('post', '/v1/cart/items', customer).send({
      recipe_id: burger,
      quantity: 2,
      customizations: [
        { ingredient_id: onion, quantity: 0 },
        { ingredient_id: cheese, quantity: 3 },
      ],
    });
    expect(line.status, line.text).toBe(201);
    const placed = await api('post', '/v1/orders', customer)
      .set('Idempotency-Key', randomUUID())
      .send({ fulfillment: 'pickup', payment_method: 'cash', ...(notes === undefined ? {} : { notes }) });
    expect(placed.status, placed.text).toBe(201);
    return orderSchema.parse(placed.body).id;
  }

  const ticket = (id: number) => page.locator(`.ticket[data-order-id="${id}"]`);
  const inColumn = (status: string, id: number) => page.locator(`.column[data-status="${status}"] .ticket[data-order-id="${id}"]`);

  beforeAll(async () => {
    t = await createTestApp();
    server = await new Promise<Server>((resolve) => {
      const listening = t.app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    server.on('request', (req: IncomingMessage) => {
      if (req.url?.startsWith('/v1/orders/stream') === true) streamSockets.add(req.socket);
    });
    port = (server.address() as AddressInfo).port;

    const restaurant = await createRestaurant(t.db.knex, { domain: DOMAIN, name: 'Chez Test', timezone: 'Europe/Berlin' });
    const manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    kitchen = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen');
    customer = await signInCustomer(t.cognito);
    const bun = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Brioche bun', stock: 1000 });
    onion = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'onion', stock: 1000 });
    cheese = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'cheese', stock: 1000 });
    const recipe = await api('post', '/v1/recipes', manager).send({
      name: 'Classic burger',
      category: 'Burgers',
      ingredients: [
        { ingredient_id: bun, quantity: 1 },
        { ingredient_id: onion, quantity: 1, removable: true, max_quantity: 2 },
        { ingredient_id: cheese, quantity: 1, removable: true, max_quantity: 3 },
      ],
    });
    expect(recipe.status, recipe.text).toBe(201);
    burger = Number(recipe.body.id);

    userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tablekit-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1600, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // staff.<domain> is the kitchen's address; every *.localhost is this machine.
        '--host-resolver-rules=MAP *.localhost 127.0.0.1',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    await fsp.rm(userDataDir, { recursive: true, force: true });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  it('signs in at staff.<domain>/kitchen and follows the stream', async () => {
    const violations: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') violations.push(message.text());
    });
    const response = await page.goto(`http://staff.${DOMAIN}:${port}/kitchen`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.fill('#email', kitchen.email);
    await page.fill('#password', TEST_PASSWORD);
    await page.click('button[type="submit"]');
    await expect.poll(() => page.locator('#connection').getAttribute('data-connection'), { timeout: 10_000 }).toBe('live');
    await expect.poll(() => page.locator('#restaurant-name').textContent()).toBe('Chez Test');
    // The page's own scripts, styles and API calls pass the Content-Security-Policy.
    expect(violations.filter((text) => /Content Security Policy|Refused/.test(text))).toEqual([]);
  });

  it('shows an order placed through the API in under 2 s, with its lines written as a cook reads them', async () => {
    const id = await placeOrder('Well done, please');
    // From the API's 201 to the ticket on the board.
    const started = Date.now();
    await inColumn('pending', id).waitFor({ timeout: 2_000 });
    expect(Date.now() - started).toBeLessThan(2_000);
    const text = await ticket(id).innerText();
    expect(text).toContain(`#${id}`);
    expect(text).toContain('Classic burger');
    expect(text).toMatch(/2×/);
    await expect.poll(() => ticket(id).innerText()).toContain('NO onion');
    const ready = await ticket(id).innerText();
    expect(ready).toContain('EXTRA cheese ×2');
    expect(ready).toContain('Well done, please');
  });

  it('moves an order on with its button: "Start" makes it preparing in the API', async () => {
    const id = await placeOrder();
    await inColumn('pending', id).waitFor({ timeout: 2_000 });
    await ticket(id).locator('button[data-move="confirmed"]').click();
    await inColumn('confirmed', id).waitFor({ timeout: 2_000 });
    await ticket(id).getByRole('button', { name: 'Start' }).click();
    await inColumn('preparing', id).waitFor({ timeout: 2_000 });
    const order = orderSchema.parse((await api('get', `/v1/orders/${id}`, kitchen)).body);
    expect(order.status).toBe('preparing');
  });

  it('shows "reconnecting" when the stream drops and, once back, the order placed meanwhile', async () => {
    // Keep it down: new stream connections fail until we let them through again.
    await page.route('**/v1/orders/stream**', (route) => route.abort());
    for (const socket of streamSockets) socket.destroy();
    streamSockets.clear();
    await expect.poll(() => page.locator('#connection').getAttribute('data-connection'), { timeout: 5_000 }).toBe('reconnecting');
    expect(await page.locator('#connection-text').textContent()).toBe('Reconnecting…');

    const missed = await placeOrder('Placed while the screen was offline');
    await page.waitForTimeout(300);
    expect(await ticket(missed).count()).toBe(0);

    await page.unroute('**/v1/orders/stream**');
    await inColumn('pending', missed).waitFor({ timeout: 15_000 });
    expect(await page.locator('#connection').getAttribute('data-connection')).toBe('live');

    // A board worth looking at: a few more tickets in every column, then the screenshot.
    const confirmed = await placeOrder();
    await api('post', `/v1/orders/${confirmed}/transitions`, kitchen).send({ to: 'confirmed' });
    const ready = await placeOrder();
    for (const to of ['confirmed', 'preparing', 'ready']) await api('post', `/v1/orders/${ready}/transitions`, kitchen).send({ to });
    await inColumn('ready', ready).waitFor({ timeout: 2_000 });
    await inColumn('confirmed', confirmed).waitFor({ timeout: 2_000 });
    await fsp.mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'kitchen-board.png') });
  });

  it('works on a bare development host with ?restaurant=<domain>, the stream taking its restaurant from the ticket', async () => {
    const dev = await context.newPage();
    try {
      await dev.goto(`http://127.0.0.1:${port}/kitchen?restaurant=${DOMAIN}`);
      await dev.fill('#email', kitchen.email);
      await dev.fill('#password', TEST_PASSWORD);
      await dev.click('button[type="submit"]');
      await expect.poll(() => dev.locator('#connection').getAttribute('data-connection'), { timeout: 10_000 }).toBe('live');
      const id = await placeOrder();
      await dev.locator(`.column[data-status="pending"] .ticket[data-order-id="${id}"]`).waitFor({ timeout: 2_000 });
    } finally {
      await dev.close();
    }
  });
});
