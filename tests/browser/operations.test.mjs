// The admin's operations page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { launch, newContext, row, screenshot, section, signInByLink } from './support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the admin starts a rebuild from the operations page and sees the view return to running', async (t) => {
  const context = await newContext(browser);
  const page = await signInByLink(context, 'admin');
  await page.getByRole('heading', { name: 'Operations' }).waitFor();
  await page.locator('#operations-live', { hasText: 'Live' }).waitFor();
  const views = section(page, 'Views and policies');
  const orderList = row(views, 'orderList', 'view');
  await orderList.first().waitFor();
  await section(page, 'Outbound breakers').waitFor();

  // Every state the row shows, as the stream redraws it.
  await page.evaluate(() => {
    window.statesSeen = [];
    const record = () => {
      const cell = document.querySelector('#rebuild-orderList')?.closest('tr')?.querySelector('[data-column="state"]');
      if (cell && window.statesSeen.at(-1) !== cell.textContent) window.statesSeen.push(cell.textContent);
    };
    new MutationObserver(record).observe(document.querySelector('#projections'), { childList: true, subtree: true });
    record();
  });

  await orderList.getByRole('button', { name: 'Rebuild orderList' }).click();
  await page.getByRole('status').filter({ hasText: 'Rebuild of orderList started.' }).waitFor();
  await page.waitForFunction(() => window.statesSeen.includes('rebuilding') || window.statesSeen.length > 1, null, { timeout: 5000 })
    .catch(() => { /* a rebuild of a small view may finish between two pictures */ });
  await row(views, 'orderList', 'running').first().waitFor({ timeout: 10000 });
  await page.waitForFunction(() => window.statesSeen.at(-1) === 'running', null, { timeout: 10000 });
  t.diagnostic(`states shown: ${(await page.evaluate(() => window.statesSeen)).join(' → ')}`);

  await screenshot(page, 'admin');
  assert.deepEqual(context.outside, []);
  assert.deepEqual(page.errors, []);
  await context.close();
});
