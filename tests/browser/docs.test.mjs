// /docs: the API reference, served from the binary.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { base, consoleErrors, launch, newContext, screenshot } from './support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('/docs renders the API reference with every request outside this server blocked', async () => {
  const doc = await (await fetch(new URL('/openapi.json', base))).json();
  const placeOrder = doc.paths['/orders'].post.summary;

  const context = await newContext(browser);
  const page = await context.newPage();
  const errors = consoleErrors(page);
  await page.goto(new URL('/docs', base).href);
  // RapiDoc draws the operations from /openapi.json (inside its shadow DOM, which
  // Playwright's locators pierce).
  await page.getByText(placeOrder, { exact: false }).first().waitFor({ timeout: 15000 });
  await page.getByText('Rebuild a view in the background').first().waitFor();

  assert.deepEqual(context.outside, [], 'no request left for another host');
  assert.deepEqual(errors.filter((error) => !/favicon|sourcemap|\.map/i.test(error)), []);
  await screenshot(page, 'docs');
  await context.close();
});
