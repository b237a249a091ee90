// What the browser scenarios share: the running server tests/browser/run started (its
// address, the tokens and sign-in links it printed), Chromium, and a few steps that
// read like what a person does.

import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests with tests/browser/run`);
  return value;
}

// playwright-core is installed outside the source tree (tests/browser/run), so it is
// required from there rather than imported by name.
const require = createRequire(join(env('STRATA_BROWSER_NODE'), 'package.json'));
const { chromium } = require('playwright-core');

export const base = env('STRATA_BASE_URL');
export const store = env('STRATA_STORE');
export const tokens = {
  customer: env('STRATA_TOKEN_CUSTOMER'),
  manager: env('STRATA_TOKEN_MANAGER'),
  host: env('STRATA_TOKEN_HOST'),
  admin: env('STRATA_TOKEN_ADMIN'),
};
export const links = {
  customer: env('STRATA_LINK_CUSTOMER'),
  manager: env('STRATA_LINK_MANAGER'),
  host: env('STRATA_LINK_HOST'),
  admin: env('STRATA_LINK_ADMIN'),
};
const screenshots = env('STRATA_SCREENSHOTS');
mkdirSync(screenshots, { recursive: true });

/** How long a "live" change may take to show (the scenarios say "within a second"). */
export const LIVE_MS = 1000;

export async function launch() {
  return chromium.launch({
    executablePath: process.env.STRATA_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
    headless: true,
  });
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

// A browser context that may only talk to this server: any other request is aborted
// and recorded in `context.outside`, for the scenario to assert there was none.
export async function newContext(browser, options = {}) {
  const context = await browser.newContext(options);
  context.outside = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || LOCAL_HOSTS.has(url.hostname)) return route.continue();
    context.outside.push(url.href);
    return route.abort('blockedbyclient');
  });
  return context;
}

/** The page's console errors (a CSP refusal shows there), for a scenario to assert. */
export function consoleErrors(page) {
  const errors = [];
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(screenshots, `${store}-${name}.png`), fullPage: true });
}

/** A name no other scenario or run uses. */
export function unique(prefix) {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A request as another client would send it (curl), with a role's token. */
export async function api(role, path, { method = 'GET', body } = {}) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: { Authorization: `Bearer ${tokens[role]}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** The form whose heading is `title`, e.g. "Place an order". */
export function form(page, title) {
  return page.getByRole('form', { name: title, exact: true });
}

/** A section of the mypage (or of another page) by its heading, e.g. "Orders". */
export function section(page, title) {
  return page.getByRole('region', { name: title, exact: true });
}

/** The rows of a section's table that show every one of `texts`. */
export function row(scope, ...texts) {
  return texts.reduce((rows, text) => rows.filter({ hasText: text }), scope.getByRole('row'));
}

/** `YYYY-MM-DDTHH:mm` (a datetime-local value) `days` from now at `hour` local time. */
export function localTime(days, hour) {
  const date = new Date();
  date.setDate(date.getDate() + days);
  date.setHours(hour, 0, 0, 0);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:00`;
}

/** Signs a role in by the link `strata serve` printed, and waits for its page; the
 * page's console errors gather in `page.errors`. */
export async function signInByLink(context, role) {
  const page = await context.newPage();
  page.errors = consoleErrors(page);
  await page.goto(links[role]);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

/** Waits until `check()` holds (5 s at most), for what no page shows. */
export async function eventually(check, timeout = 5000) {
  const until = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${timeout} ms: ${check}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
