// A customer's page: signing in and out, placing an order, live changes, refusals.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  api, base, form, launch, LIVE_MS, newContext, row, screenshot, section,
  signInByLink, tokens, unique,
} from './support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the customer signs in by the printed link, places an order and sees its delivery start without a reload', async () => {
  const context = await newContext(browser);
  const requested = [];
  context.on('request', (request) => requested.push(request.url()));
  const page = await signInByLink(context, 'customer');

  await page.getByRole('heading', { name: "customer-1's page" }).waitFor();
  // The token left the address bar, and stays in this tab only.
  assert.equal(new URL(page.url()).hash, '');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('strata.token')), tokens.customer);
  await page.evaluate(() => { window.notReloaded = true; });

  const product = unique('lamp');
  const placeOrder = form(page, 'Place an order');
  await placeOrder.getByLabel('Product').fill(product);
  await placeOrder.getByLabel('Quantity').fill('2');
  await placeOrder.getByLabel('Unit price').fill('1000');
  await placeOrder.getByRole('button', { name: 'Place order' }).click();
  await placeOrder.getByRole('status').filter({ hasText: 'orderStatus PLACED' }).waitFor();

  const orders = section(page, 'Orders');
  await row(orders, product, 'PLACED').waitFor();
  // The payment policy starts the delivery after the order; the page hears of it.
  await row(orders, product, 'STARTED').waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');

  await screenshot(page, 'customer');
  // The token travels in the Authorization header only, never in a URL.
  assert.deepEqual(requested.filter((url) => url.includes(tokens.customer)), []);
  assert.deepEqual(context.outside, []);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('a change made by another client appears on the open page within a second', async (t) => {
  const context = await newContext(browser);
  const page = await signInByLink(context, 'customer');
  await page.locator('#customer-live', { hasText: 'Live' }).waitFor();
  await page.evaluate(() => { window.notReloaded = true; });

  const product = unique('kettle');
  const placed = await api('customer', '/orders', {
    method: 'POST',
    body: { customerId: 'customer-1', product, qty: 1, price: 500, payMethod: 'CARD' },
  });
  assert.equal(placed.status, 201, JSON.stringify(placed.body));
  const sent = Date.now();
  await row(section(page, 'Orders'), product).waitFor({ timeout: LIVE_MS });
  t.diagnostic(`the order showed ${Date.now() - sent} ms after the other client's POST`);
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');

  // A cancel from the row's button, the same way.
  const cancel = row(section(page, 'Orders'), product).getByRole('button', { name: `Cancel ${placed.body.orderId}` });
  await cancel.click();
  await row(section(page, 'Orders'), product, 'CANCELLED').waitFor({ timeout: 5000 });
  await context.close();
});

test('the page reconnects when its stream fails, reads itself again and stays live', async () => {
  const context = await newContext(browser);
  const attempts = [];
  await context.route('**/mypages/*/changes', (route) => {
    attempts.push(route.request().headers()['last-event-id']);
    // The first connection fails; the page tries again on its own.
    return attempts.length === 1 ? route.abort('connectionreset') : route.continue();
  });
  const page = await signInByLink(context, 'customer');
  await page.locator('#customer-live', { hasText: 'Live' }).waitFor({ timeout: 5000 });
  // No event came before the failure: the second connection resumes from nothing,
  // and the page reads itself again once subscribed.
  assert.equal(attempts.length, 2);
  assert.deepEqual(attempts, [undefined, undefined]);

  const product = unique('after-reconnect');
  await api('customer', '/orders', { method: 'POST', body: { customerId: 'customer-1', product, qty: 1, price: 10, payMethod: 'CARD' } });
  // What this proves is that the second connection is live; how fast, the scenario above.
  await row(section(page, 'Orders'), product).waitFor({ timeout: 5000 });
  await context.close();
});

test('a refused command shows the server\'s message next to its form', async () => {
  const context = await newContext(browser);
  const page = await signInByLink(context, 'customer');
  const order = { customerId: 'customer-1', product: unique('nothing'), qty: 0, price: 1000, payMethod: 'CARD' };
  const refused = await api('customer', '/orders', { method: 'POST', body: order });
  assert.equal(refused.status, 422);

  const placeOrder = form(page, 'Place an order');
  await placeOrder.getByLabel('Product').fill(order.product);
  await placeOrder.getByLabel('Quantity').fill('0');
  await placeOrder.getByLabel('Unit price').fill('1000');
  await placeOrder.getByRole('button', { name: 'Place order' }).click();
  const alert = placeOrder.getByRole('alert');
  await alert.filter({ hasText: refused.body.message }).waitFor();
  assert.equal(await alert.textContent(), refused.body.message);
  // The field the server named is marked and focused.
  assert.equal(await placeOrder.getByLabel('Quantity').getAttribute('aria-invalid'), 'true');
  await context.close();
});

test('another customer\'s mypage is not reachable with a customer\'s token', async () => {
  const context = await newContext(browser);
  const page = await signInByLink(context, 'customer');
  const answer = await page.evaluate(async (token) => {
    const response = await fetch('/mypages/someone-else', { headers: { Authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.json() };
  }, tokens.customer);
  assert.equal(answer.status, 404);
  assert.equal(answer.body.error, 'mypage_not_found');
  await context.close();
});

test('a page with no token asks to sign in; a pasted token signs in, and signing out forgets it', async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(base);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false);

  await page.getByLabel('Bearer token').fill('not a token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not a JWT' }).waitFor();

  await page.getByLabel('Bearer token').fill(tokens.customer);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: "customer-1's page" }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: "customer-1's page" }).waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('strata.token')), null);
  await context.close();
});

test('the customer\'s page is readable on a phone (375 px wide)', async () => {
  const context = await newContext(browser, { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
  const page = await signInByLink(context, 'customer');
  await section(page, 'Orders').waitFor();
  // Nothing but a table's own scrolling box is wider than the screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 375, `the page is ${overflow} px wide`);
  await screenshot(page, 'customer-phone');
  await context.close();
});
