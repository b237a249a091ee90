// The manager's desk, with a customer's page open beside it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { api, eventually, form, launch, localTime, newContext, row, screenshot, section, signInByLink } from './support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// A meeting room no other scenario books (rooms are positive integers).
const room = () => String(100000 + Math.floor(Math.random() * 800000));

/** The customer books `roomId` from their page; answers the new booking's id. */
async function bookRoom(page, roomId, days) {
  const book = form(page, 'Book a meeting room');
  await book.getByLabel('Room number').fill(roomId);
  await book.getByLabel('From').fill(localTime(days, 9));
  await book.getByLabel('To').fill(localTime(days, 10));
  await book.getByRole('button', { name: 'Book room' }).click();
  const done = book.getByRole('status').filter({ hasText: 'bookingId' });
  await done.waitFor();
  return /bookingId ([0-9a-f-]+)/.exec(await done.textContent())[1];
}

test('the manager confirms a booking on the desk and the customer\'s open page shows it confirmed, live', async () => {
  const customer = await newContext(browser);
  const mine = await signInByLink(customer, 'customer');
  await mine.locator('#customer-live', { hasText: 'Live' }).waitFor();
  const roomId = room();
  const bookingId = await bookRoom(mine, roomId, 3);
  await row(section(mine, 'Bookings'), bookingId, 'BOOKED').waitFor({ timeout: 5000 });

  const manager = await newContext(browser);
  const desk = await signInByLink(manager, 'manager');
  await desk.getByRole('heading', { name: 'Bookings waiting for a decision' }).waitFor();
  // The booking policy requests the confirm; the desk lists it within its 2 s refresh.
  const waiting = row(desk.locator('#waiting'), bookingId);
  await waiting.waitFor({ timeout: 5000 });
  await screenshot(desk, 'manager');
  await waiting.getByRole('button', { name: `Confirm booking ${bookingId}` }).click();
  await desk.getByRole('status').filter({ hasText: `Booking ${bookingId} of customer-1: confirmed.` }).waitFor();
  await waiting.waitFor({ state: 'detached', timeout: 5000 });

  await row(section(mine, 'Bookings'), bookingId, 'CONFIRMED').waitFor({ timeout: 5000 });
  await row(section(mine, 'Notifications'), `conference room[${roomId}] reservation is complete`).waitFor({ timeout: 5000 });
  await screenshot(mine, 'customer-confirmed');

  assert.deepEqual([...customer.outside, ...manager.outside], []);
  assert.deepEqual([...mine.errors, ...desk.errors], []);
  await customer.close();
  await manager.close();
});

test('the manager denies a booking and the customer\'s page shows it cancelled, with the notification', async () => {
  const customer = await newContext(browser);
  const mine = await signInByLink(customer, 'customer');
  const roomId = room();
  const bookingId = await bookRoom(mine, roomId, 4);

  const manager = await newContext(browser);
  const desk = await signInByLink(manager, 'manager');
  const waiting = row(desk.locator('#waiting'), bookingId);
  await waiting.getByRole('button', { name: `Deny booking ${bookingId}` }).click({ timeout: 5000 });
  await waiting.waitFor({ state: 'detached', timeout: 5000 });

  await row(section(mine, 'Bookings'), bookingId, 'CANCELLED').waitFor({ timeout: 5000 });
  await row(section(mine, 'Notifications'), `conference room[${roomId}] reservation has been denied`).waitFor({ timeout: 5000 });
  await customer.close();
  await manager.close();
});

test('the manager registers a book that the customer can then order from the page', async () => {
  const manager = await newContext(browser);
  const desk = await signInByLink(manager, 'manager');
  const title = `Demian ${Date.now()}`;
  const register = form(desk, 'Register a book');
  await register.getByLabel('Title').fill(title);
  await register.getByLabel('Author').fill('Hermann Hesse');
  await register.getByLabel('Price').fill('12000');
  await register.getByLabel('Copies').fill('3');
  await register.getByRole('button', { name: 'Register book' }).click();
  const registered = register.getByRole('status').filter({ hasText: 'bookId' });
  await registered.waitFor();
  const bookId = /bookId ([0-9a-f-]+)/.exec(await registered.textContent())[1];
  // The catalogue has it once its view has applied it.
  await eventually(async () => (await api('customer', `/books/${bookId}`)).status === 200);

  const customer = await newContext(browser);
  const mine = await signInByLink(customer, 'customer');
  const join = form(mine, 'Join the bookstore');
  await join.getByLabel('Your name').fill('Customer One');
  await join.getByRole('button', { name: 'Join' }).click();
  await join.getByRole('status').filter({ hasText: 'memberId customer-1' }).waitFor();

  const order = form(mine, 'Order a book');
  await order.getByLabel('Book').selectOption(bookId);
  await order.getByLabel('Copies').fill('2');
  await order.getByRole('button', { name: 'Order book' }).click();
  await order.getByRole('status').filter({ hasText: 'orderStatus ORDERED' }).waitFor();
  await row(section(mine, 'Book orders'), title, 'ORDERED').waitFor({ timeout: 5000 });
  assert.deepEqual([...customer.outside, ...manager.outside], []);
  await customer.close();
  await manager.close();
});
