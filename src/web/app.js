// The strata page: sign in with a bearer token, then one view per role's job —
// a customer's mypage, the manager's desk, the admin's operations page.
// Plain DOM, no framework: every element the page fills is in index.html.

const TOKEN_KEY = 'strata.token';
const ROLES = ['customer', 'host', 'manager', 'admin'];
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// The signed-in session: the token, what its payload says, and what to stop on sign-out.
let session = null;

// ---------------------------------------------------------------------------------
// Signing in

// The token's payload, read only to know whom to show; the server verifies the
// signature on every request.
function claims(token) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('This is not a JWT (three dot-separated parts).');
  let payload;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    payload = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error('This token\'s payload cannot be read.');
  }
  if (typeof payload.sub !== 'string' || !ROLES.includes(payload.role)) {
    throw new Error('This token names no sub and role of strata.');
  }
  if (typeof payload.exp === 'number' && payload.exp * 1000 < Date.now()) {
    throw new Error(`This token expired at ${new Date(payload.exp * 1000).toISOString()}.`);
  }
  return payload;
}

function signIn(token) {
  token = token.trim().replace(/^Bearer\s+/i, '');
  const { sub, role } = claims(token);
  sessionStorage.setItem(TOKEN_KEY, token);
  start({ token, sub, role });
}

// Stops what the session runs (streams, timers) and shows the sign-in form.
function signOut(reason = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  if (session) session.stop.abort();
  session = null;
  show('sign-in');
  $('#who').hidden = true;
  $('#sign-in-error').textContent = reason;
  $('#token').value = '';
}

// A link `/#token=…` signs in: the fragment never reaches the server, and is removed
// from the address bar (and the history) at once.
function tokenFromLink() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return decodeURIComponent(match[1]);
}

function show(id) {
  for (const el of $$('#sign-in, .view')) el.hidden = el.id !== id;
}

function start(next) {
  if (session) session.stop.abort();
  for (const message of $$('.view .message')) message.textContent = '';
  session = { ...next, stop: new AbortController() };
  $('#who-text').textContent = `${session.sub} (${session.role})`;
  $('#who').hidden = false;
  if (session.role === 'manager') startDesk();
  else if (session.role === 'admin') startOperations();
  else startMypage();
}

// ---------------------------------------------------------------------------------
// Talking to the API

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The server answered ${status}.`);
    this.status = status;
    this.code = body?.error;
    this.field = body?.field;
  }
}

// One request with the session's token; JSON in and out. A 401 means the token no
// longer holds (expired, or the server restarted with another secret): sign in again.
async function api(path, { method = 'GET', body, headers = {}, stream = false, signal } = {}) {
  const own = session;
  const init = { method, headers: { ...headers, Authorization: `Bearer ${own.token}` }, signal: signal || own.stop.signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, { message: 'The server cannot be reached.' });
  }
  if (response.status === 401 && session === own) {
    signOut('The server refused the token (expired, or signed with another secret): sign in again.');
  }
  if (stream && response.ok) return response;
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: a proxy's page */ }
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

// Runs `load` now, or once more after the run in progress: a burst of events costs at
// most two reads, and an older answer never overwrites a newer one.
function serialized(load) {
  let running = null;
  let again = false;
  return function run() {
    if (running) { again = true; return running; }
    running = (async () => {
      try {
        do { again = false; await load(); } while (again);
      } finally { running = null; }
    })();
    return running;
  };
}

// Server-Sent Events read from a fetch body (EventSource cannot send the
// Authorization header). Yields {comment} for comment lines and {type, data, id} for
// events.
async function* serverSentEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { type: '', data: [], id: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (;;) {
      const end = /\r\n|\n|\r/.exec(buffer);
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (!end || (end[0] === '\r' && end.index === buffer.length - 1)) break;
      const line = buffer.slice(0, end.index);
      buffer = buffer.slice(end.index + end[0].length);
      if (line === '') {
        if (event.data.length) yield { type: event.type || 'message', data: event.data.join('\n'), id: event.id };
        event = { type: '', data: [], id: null };
      } else if (line.startsWith(':')) {
        yield { comment: line.slice(1).trim() };
      } else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.type = val;
        else if (field === 'data') event.data.push(val);
        else if (field === 'id') event.id = val;
      }
    }
  }
}

// Follows a stream for the whole session: reconnects with backoff (1 s doubling to
// 30 s) when it ends or fails, resuming after the last event id, but not after a
// 401/403/404, which another try would only repeat. `onReady` runs each time the
// stream is subscribed: what is read then, and every event after it, leaves nothing
// out. The server sends a heartbeat every 15 s; a connection silent for 45 s is taken
// for dead and replaced.
const SILENCE_MS = 45000;

async function follow(path, { onReady, onEvent, status }) {
  const signal = session.stop.signal;
  let lastId = null;
  let delay = 1000;
  while (!signal.aborted) {
    const connection = new AbortController();
    const stop = () => connection.abort();
    signal.addEventListener('abort', stop, { once: true });
    let watchdog = null;
    const alive = () => { clearTimeout(watchdog); watchdog = setTimeout(stop, SILENCE_MS); };
    try {
      const headers = { Accept: 'text/event-stream' };
      if (lastId !== null && lastId !== undefined) headers['Last-Event-ID'] = String(lastId);
      status('Connecting…');
      alive();
      const response = await api(path, { headers, stream: true, signal: connection.signal });
      for await (const event of serverSentEvents(response.body)) {
        alive();
        if (event.comment === 'ready') {
          status('Live');
          delay = 1000;
          if (onReady) onReady();
          continue;
        }
        if (event.comment !== undefined) continue;
        if (event.id) lastId = event.id;
        let data = null;
        try { data = JSON.parse(event.data); } catch { /* keep null */ }
        onEvent(event.type, data);
      }
    } catch (error) {
      if (signal.aborted) return;
      if ([401, 403, 404].includes(error.status)) {
        status(`Not live: ${error.message}`);
        return;
      }
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener('abort', stop);
    }
    if (signal.aborted) return;
    status(`Reconnecting in ${delay / 1000} s…`);
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, delay);
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
    delay = Math.min(delay * 2, 30000);
  }
}

// Polls `load` every `ms` while the session lasts and the tab is visible.
function every(ms, load) {
  const timer = setInterval(() => { if (!document.hidden) load(); }, ms);
  session.stop.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}

// ---------------------------------------------------------------------------------
// Rendering helpers

// `bookOrders` → "Book orders", `lagMs` → "Lag ms".
function humanize(key) {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'text') node.textContent = value;
    else if (name === 'onclick') node.addEventListener('click', value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

// A value as a cell shows it: times without their fraction, statuses as badges,
// anything nested as JSON.
function cell(value, key = '') {
  if (value === null || value === undefined || value === '') return el('span', { class: 'none', text: '—' });
  if (typeof value === 'object') return el('code', { text: JSON.stringify(value) });
  const text = String(value);
  // An id shows its first characters; the whole id stays in the text (copy, search).
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) return el('code', { class: 'id', title: text, text });
  const time = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (time) return el('time', { datetime: text, text: `${time[1]} ${time[2]}${time[3] === 'Z' ? ' UTC' : time[3]}` });
  if (/^[A-Z][A-Z_]+$/.test(text) || /(status|state|progress)$/i.test(key)) {
    return el('span', { class: `badge ${text.toLowerCase().replace(/[^a-z_]/g, '')}`, text });
  }
  return document.createTextNode(text);
}

// Rows as a table whose columns are the rows' own keys; `actions(row)` may add a
// last cell of buttons.
function table(rows, { caption, skip = [], labels = {}, actions } = {}) {
  const columns = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key) && !skip.includes(key)) columns.push(key);
  const head = el('tr', {}, ...columns.map((key) => el('th', { scope: 'col', text: labels[key] || humanize(key) })));
  if (actions) head.append(el('th', { scope: 'col', text: 'Actions' }));
  const body = rows.map((row) => {
    const tr = el('tr', {}, ...columns.map((key) => el('td', { 'data-column': key }, cell(row[key], key))));
    if (actions) tr.append(el('td', { class: 'row-actions' }, ...actions(row)));
    return tr;
  });
  // A wide table scrolls inside its own box (focusable, so the keyboard can scroll it).
  return el('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': `${caption} table` },
    el('table', {}, el('caption', { class: 'visually-hidden', text: caption }), el('thead', {}, head), el('tbody', {}, ...body)));
}

// Replaces a container's content, keeping the focus on the element with the same id
// (a row's button) when there is one, so keyboard users stay where they were.
function replace(container, ...nodes) {
  const focused = container.contains(document.activeElement) ? document.activeElement.id : null;
  container.replaceChildren(...nodes);
  container.setAttribute('aria-busy', 'false');
  if (focused) document.getElementById(focused)?.focus();
}

// ---------------------------------------------------------------------------------
// Command forms: each <form data-command="METHOD /path/{field}"> is sent as JSON by
// one handler. Inputs named in the path go into it; data-sub names the fields that
// take the signed-in user's id; number and datetime-local inputs are converted. The
// rules (bounds, formats) are the server's: its message shows next to the form.

function commandBody(form) {
  const [method, template] = form.dataset.command.split(' ');
  let path = template.replace('{sub}', encodeURIComponent(session.sub));
  const body = {};
  for (const input of form.elements) {
    if (!input.name || input.disabled) continue;
    const value = input.value.trim();
    if (path.includes(`{${input.name}}`)) {
      path = path.replace(`{${input.name}}`, encodeURIComponent(value));
    } else if (value !== '') {
      if (input.type === 'number') body[input.name] = Number(value);
      // The browser's local wall time, sent as UTC (RFC 3339).
      else if (input.type === 'datetime-local') body[input.name] = new Date(value).toISOString().replace('.000Z', 'Z');
      else body[input.name] = value;
    }
  }
  for (const field of (form.dataset.sub || '').split(' ').filter(Boolean)) body[field] = session.sub;
  return { method, path, body: Object.keys(body).length ? body : undefined };
}

async function submitCommand(form, after) {
  const error = $('[role="alert"]', form);
  const done = $('[role="status"]', form);
  error.textContent = '';
  done.textContent = '';
  for (const input of $$('[aria-invalid]', form)) input.removeAttribute('aria-invalid');
  const button = $('button[type="submit"]', form);
  button.disabled = true;
  try {
    const { method, path, body } = commandBody(form);
    const answer = await api(path, { method, body });
    // The answer's ids and statuses, e.g. "Done: orderId 01…, orderStatus PLACED".
    const facts = Object.entries(answer || {}).filter(([key]) => key !== 'position').map(([key, value]) => `${key} ${value}`);
    done.textContent = facts.length ? `Done: ${facts.join(', ')}.` : 'Done.';
    after(answer?.position);
  } catch (failure) {
    if (failure.name === 'AbortError') return;
    error.textContent = failure.message;
    const field = failure.field && form.elements.namedItem(failure.field);
    if (field && field.setAttribute) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  } finally {
    button.disabled = false;
  }
}

// Fills every <select data-catalog> from its list read (books, hotel rooms, cars),
// keeping the option that was chosen.
async function loadCatalogs(root) {
  await Promise.all($$('select[data-catalog]', root).map(async (select) => {
    if (!session || select.closest('[hidden]')) return;
    const path = select.dataset.catalog.replace('{sub}', encodeURIComponent(session.sub));
    let items = [];
    try { items = (await api(path)).items || []; } catch (failure) { if (failure.name === 'AbortError') return; }
    const chosen = select.value;
    const labels = select.dataset.label.split(' ');
    const options = items.map((item) => el('option', { value: item[select.dataset.value], text: labels.map((key) => item[key]).join(' · ') }));
    if (!options.length) options.push(el('option', { value: '', text: 'none yet' }));
    select.replaceChildren(...options);
    if (items.some((item) => item[select.dataset.value] === chosen)) select.value = chosen;
  }));
}

// What a successful command refreshes: the view on show sets it.
let refreshView = () => {};

for (const form of $$('form[data-command]')) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (session) submitCommand(form, (position) => refreshView(position));
  });
}

// ---------------------------------------------------------------------------------
// The customer's (and host's) mypage

const DOCUMENT_FIELDS = ['userId', 'more', 'position', 'updatedAt'];

// The forms that act on a section's rows (data-rows="section:idField …"), so that each
// row gets a button and each id input a list of the ids.
function rowForms(section) {
  return $$('#customer form[data-rows]').filter((form) => !form.closest('[hidden]')).flatMap((form) =>
    form.dataset.rows.split(' ').map((spec) => spec.split(':')).filter(([name]) => name === section).map(([, key]) => ({ form, key })));
}

// data-row-if="field=VALUE" or "field!=VALUE": the rows a form's button applies to.
function rowApplies(form, row) {
  const rule = /^(\w+)(!?=)(\w+)$/.exec(form.dataset.rowIf || '');
  if (!rule) return true;
  return rule[2] === '=' ? row[rule[1]] === rule[3] : row[rule[1]] !== rule[3];
}

// Fills the form with the row's id; submits it when nothing else is needed, otherwise
// takes the focus to the first field still empty (a reward's product code).
function actOnRow(form, key, row) {
  form.elements.namedItem(key).value = row[key];
  const missing = $$('input[required], select[required]', form).find((input) => !input.value);
  if (missing) {
    missing.focus();
    form.scrollIntoView({ block: 'nearest' });
  } else {
    form.requestSubmit();
  }
}

// One section of the document: rows as a table, one row as a definition list, nothing
// as "nothing yet". Nothing here names a section.
function renderSection(name, value, more) {
  const id = `section-${name}`;
  const title = humanize(name);
  const parts = [el('h2', { id: `${id}-title`, text: title })];
  if (Array.isArray(value) && value.length) {
    const forms = rowForms(name);
    const actions = forms.length ? (row) => forms.filter(({ form }) => rowApplies(form, row)).map(({ form, key }) => {
      const label = form.dataset.rowAction || 'Cancel';
      return el('button', {
        type: 'button',
        id: `${name}-${row[key]}-${label}`.replace(/[^\w-]/g, '_'),
        'aria-label': `${label} ${row[key]}`,
        text: label,
        onclick: () => actOnRow(form, key, row),
      });
    }) : null;
    parts.push(table(value, { caption: title, skip: ['position'], actions }));
  } else if (value && typeof value === 'object' && !Array.isArray(value)) {
    parts.push(el('dl', {}, ...Object.entries(value).filter(([key]) => key !== 'position')
      .flatMap(([key, field]) => [el('dt', { text: humanize(key) }), el('dd', {}, cell(field, key))])));
  } else {
    parts.push(el('p', { class: 'none', text: 'Nothing yet.' }));
  }
  if (more) parts.push(el('p', { class: 'more' }, 'Only the latest are shown; all of them: ', el('code', { text: `GET ${more}` })));
  const empty = value === null || (Array.isArray(value) && !value.length);
  return el('section', { id, class: empty ? 'card empty' : 'card', 'aria-labelledby': `${id}-title` }, ...parts);
}

function renderMypage(doc, rendered) {
  const container = $('#sections');
  const sections = Object.keys(doc).filter((key) => !DOCUMENT_FIELDS.includes(key));
  for (const name of sections) {
    // Only a section whose content changed is drawn again.
    const key = JSON.stringify([doc[name], doc.more?.[name] ?? null]);
    if (rendered.get(name) === key) continue;
    rendered.set(name, key);
    const next = renderSection(name, doc[name], doc.more?.[name]);
    const current = document.getElementById(next.id);
    const focused = current?.contains(document.activeElement) ? document.activeElement.id : null;
    if (current) current.replaceWith(next); else container.append(next);
    if (focused) document.getElementById(focused)?.focus();
  }
  // A section gone from the document goes from the page (and so does an earlier error).
  for (const old of [...container.children]) {
    const name = old.id.replace(/^section-/, '');
    if (!sections.includes(name)) { old.remove(); rendered.delete(name); }
  }
  container.setAttribute('aria-busy', 'false');
  // Each row form's id input suggests the ids of its sections' rows.
  for (const form of $$('#customer form[data-rows]')) {
    const specs = form.dataset.rows.split(' ').map((spec) => spec.split(':'));
    const input = form.elements.namedItem(specs[0][1]);
    let list = document.getElementById(input.getAttribute('list'));
    if (!list) { list = el('datalist', { id: input.getAttribute('list') }); form.append(list); }
    const rows = specs.flatMap(([name, key]) => (Array.isArray(doc[name]) ? doc[name] : []).filter((row) => rowApplies(form, row)).map((row) => row[key]));
    list.replaceChildren(...rows.map((id) => el('option', { value: id })));
  }
}

function startMypage() {
  show('customer');
  const view = $('#customer');
  $('#customer-title').textContent = `${session.sub}'s page`;
  for (const card of $$('[data-roles]', view)) card.hidden = !card.dataset.roles.split(' ').includes(session.role);
  const rendered = new Map();
  $('#sections').replaceChildren();
  $('#sections').setAttribute('aria-busy', 'true');
  const own = session;
  const mypage = `/mypages/${encodeURIComponent(session.sub)}`;
  let minPosition = null;
  let latest = null;

  const load = serialized(async () => {
    // After a command: read at least its position (read-your-writes).
    const query = minPosition ? `?minPosition=${minPosition}` : '';
    minPosition = null;
    try {
      latest = await api(mypage + query);
      renderMypage(latest, rendered);
    } catch (failure) {
      if (failure.name === 'AbortError') return;
      if (failure.code === 'view_behind') return; // the change event will follow
      replace($('#sections'), el('p', { class: 'message error', role: 'alert', text: `Your page cannot be shown: ${failure.message}` }));
      rendered.clear();
    }
  });
  const refresh = (position) => {
    if (position) minPosition = Math.max(minPosition || 0, position);
    load();
    loadCatalogs(view);
  };
  refreshView = refresh;

  (async () => {
    await load();
    loadCatalogs(view);
    if (!latest || session !== own) return; // signed out (or in again) meanwhile
    const status = (text) => { $('#customer-live').textContent = text; };
    follow(`${mypage}/changes`, {
      // Read again once subscribed: a change between the first read and the
      // subscription would otherwise show only at the next one.
      onReady: load,
      status,
      // `change` names the sections that moved, `resync` asks for everything; either
      // way one read of the document, drawn where it differs. The status line (not
      // the tables) tells a screen reader what changed.
      onEvent: (type, data) => {
        if (type !== 'change' && type !== 'resync') return;
        load();
        const names = type === 'change' && Array.isArray(data?.sections) ? data.sections.map(humanize).join(', ') : 'Everything';
        status(`Live · ${names} updated at ${new Date().toLocaleTimeString()}`);
      },
    });
  })();
}

// ---------------------------------------------------------------------------------
// The manager's desk

function startDesk() {
  show('desk');
  const view = $('#desk');
  $('#desk-live').textContent = 'Refreshed every 2 s';
  let minPosition = null;
  let shown = null;
  let failed = false;

  const load = serialized(async () => {
    const query = minPosition ? `&minPosition=${minPosition}` : '';
    minPosition = null;
    try {
      const items = (await api(`/bookingLists?confirmStatus=BOOKED&limit=500${query}`)).items || [];
      // A read that failed is forgotten once one succeeds.
      if (failed) { $('#desk-error').textContent = ''; failed = false; }
      // Drawn again only when the list changed, not on every poll.
      if (JSON.stringify(items) === shown) return;
      shown = JSON.stringify(items);
      renderDesk(items, decide);
    } catch (failure) {
      if (failure.name === 'AbortError' || failure.code === 'view_behind') return;
      $('#desk-error').textContent = failure.message;
      failed = true;
    }
  });
  const refresh = (position) => {
    if (position) minPosition = Math.max(minPosition || 0, position);
    load();
    loadCatalogs(view);
  };
  async function decide(booking, decision) {
    $('#desk-error').textContent = '';
    $('#desk-done').textContent = '';
    try {
      const answer = await api(`/confirms/${encodeURIComponent(booking.confirmId)}/${decision}`, { method: 'POST' });
      $('#desk-done').textContent = `Booking ${booking.bookingId} of ${booking.bookingUserId}: ${decision === 'complete' ? 'confirmed' : 'denied'}.`;
      refresh(answer?.position);
    } catch (failure) {
      if (failure.name !== 'AbortError') $('#desk-error').textContent = failure.message;
    }
  }
  refreshView = refresh;
  refresh();
  every(2000, load);
}

function renderDesk(bookings, decide) {
  if (!bookings.length) {
    replace($('#waiting'), el('p', { class: 'none', text: 'No booking is waiting for a decision.' }));
    return;
  }
  const rows = bookings.map(({ bookingId, roomId, useStartDtm, useEndDtm, bookingUserId, bookingDtm }) =>
    ({ bookingId, roomId, useStartDtm, useEndDtm, bookingUserId, bookingDtm }));
  replace($('#waiting'), table(rows, {
    caption: 'Bookings waiting for a decision',
    labels: { bookingId: 'Booking', roomId: 'Room', useStartDtm: 'From', useEndDtm: 'To', bookingUserId: 'Customer', bookingDtm: 'Booked at' },
    actions: (row) => {
      const booking = bookings.find((b) => b.bookingId === row.bookingId);
      return [
        el('button', { type: 'button', id: `confirm-${row.bookingId}`, 'aria-label': `Confirm booking ${row.bookingId}`, text: 'Confirm', onclick: () => decide(booking, 'complete') }),
        el('button', { type: 'button', id: `deny-${row.bookingId}`, class: 'secondary', 'aria-label': `Deny booking ${row.bookingId}`, text: 'Deny', onclick: () => decide(booking, 'deny') }),
      ];
    },
  }));
}

// ---------------------------------------------------------------------------------
// The admin's operations page

function startOperations() {
  show('operations');
  const loadOutbound = serialized(async () => {
    try {
      const page = await api('/admin/outbound');
      const items = page.items || [];
      replace($('#outbound'), items.length
        ? table(items, { caption: 'Outbound breakers' })
        : el('p', { class: 'none', text: 'No outbound target is configured.' }));
    } catch (failure) {
      if (failure.name !== 'AbortError') replace($('#outbound'), el('p', { class: 'message error', text: failure.message }));
    }
  });
  const draw = (snapshot) => {
    replace($('#projections'), table(snapshot.items || [], {
      caption: 'Views and policies',
      actions: (row) => (row.kind === 'view'
        ? [el('button', {
          type: 'button',
          id: `rebuild-${row.name}`,
          'aria-label': `Rebuild ${row.name}`,
          text: 'Rebuild',
          onclick: () => rebuild(row.name),
        })]
        : []),
    }));
    loadOutbound();
  };
  async function rebuild(name) {
    $('#operations-error').textContent = '';
    $('#operations-done').textContent = '';
    try {
      await api(`/admin/projections/${encodeURIComponent(name)}/rebuild`, { method: 'POST' });
      $('#operations-done').textContent = `Rebuild of ${name} started.`;
    } catch (failure) {
      if (failure.name !== 'AbortError') $('#operations-error').textContent = failure.message;
    }
  }
  // A first picture at once (unless the stream was quicker); the stream then sends one
  // at connect and on each change.
  let streamed = false;
  api('/admin/projections').then((snapshot) => { if (!streamed) draw(snapshot); }, (failure) => {
    if (failure.name !== 'AbortError') $('#operations-error').textContent = failure.message;
  });
  follow('/admin/projections/changes', {
    status: (text) => { $('#operations-live').textContent = text; },
    onEvent: (type, data) => {
      if (type !== 'projections' || !data) return;
      streamed = true;
      draw(data);
    },
  });
}

// ---------------------------------------------------------------------------------
// Start-up

$('#sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  try {
    signIn($('#token').value);
  } catch (failure) {
    $('#sign-in-error').textContent = failure.message;
    $('#token').focus();
  }
});
$('#sign-out').addEventListener('click', () => signOut());

// Opening a sign-in link in a tab that already shows the page changes only the hash.
window.addEventListener('hashchange', () => {
  const token = tokenFromLink();
  if (token) {
    try { signIn(token); } catch (failure) { signOut(failure.message); }
  }
});

{
  const token = tokenFromLink() || sessionStorage.getItem(TOKEN_KEY);
  if (token) {
    try { signIn(token); } catch (failure) { signOut(failure.message); }
  } else {
    signOut();
  }
}
