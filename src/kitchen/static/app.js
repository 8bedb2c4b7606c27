import { Api, ApiError, restaurantOverride } from './api.js';
import { OrderStream } from './stream.js';
import { NEXT_MOVE, OPEN_STATUSES, REJECTABLE, ageLevel, ageText, allergensOf, customizationNotes, dueOf, optionNames } from './ticket.js';

const api = new Api();
/** Open orders by id, as the API last showed them. */
const orders = new Map();
/** GET /v1/recipes/{id} by recipe id (a promise while it loads; undefined once known to be gone). */
const recipes = new Map();
let stream;
let timeZone;

const $ = (id) => document.getElementById(id);

/** Builds an element with text content only: order fields (customer notes) are never parsed as HTML. */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

// ---- sign-in -------------------------------------------------------------------------------------

function showSignIn(message) {
  stream?.stop();
  $('board-view').hidden = true;
  $('sign-in').hidden = false;
  const restaurant = restaurantOverride() ?? window.location.hostname.replace(/^staff\./, '');
  $('sign-in-restaurant').textContent = restaurant;
  const error = $('sign-in-error');
  error.hidden = message === undefined;
  error.textContent = message ?? '';
  $('email').focus();
}

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = event.submitter ?? event.target.querySelector('button');
  button.disabled = true;
  try {
    await api.signIn($('email').value.trim(), $('password').value);
    $('password').value = '';
    unlockSound();
    await showBoard();
  } catch (error) {
    showSignIn(error instanceof ApiError && error.status === 401 ? 'Wrong email or password.' : error.message);
  } finally {
    button.disabled = false;
  }
});

$('sign-out').addEventListener('click', async () => {
  stream?.stop();
  orders.clear();
  renderAll();
  await api.signOut();
  showSignIn();
});

api.onSignedOut = () => showSignIn('Your session ended. Please sign in again.');

// ---- the board -----------------------------------------------------------------------------------

async function showBoard() {
  $('sign-in').hidden = true;
  $('board-view').hidden = false;
  try {
    // A staff-only list: answers 403 to someone without a role in this restaurant.
    await api.call('/v1/customers?limit=1');
    const restaurant = await api.call('/v1/restaurant');
    $('restaurant-name').textContent = restaurant.name;
    timeZone = restaurant.timezone;
    tick();
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      await api.signOut();
      showSignIn('This account has no staff role in this restaurant.');
      return;
    }
    if (error instanceof ApiError && error.status === 401) return showSignIn();
    showBoardError(`Cannot reach the service: ${error.message}`);
  }
  stream?.stop();
  stream = new OrderStream(api, { onOrder: receive, onState: showConnection, onFresh: loadOpenOrders });
  stream.start();
}

/** Every open order, page by page: at first, and whenever the stream starts with nothing to resume from. */
async function loadOpenOrders() {
  try {
    const loaded = [];
    let cursor;
    do {
      const query = new URLSearchParams({ status: OPEN_STATUSES.join(','), limit: '100' });
      if (cursor) query.set('cursor', cursor);
      const page = await api.call(`/v1/orders?${query}`);
      loaded.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    const ids = new Set(loaded.map((order) => order.id));
    for (const id of orders.keys()) if (!ids.has(id)) orders.delete(id);
    for (const order of loaded) keep(order);
    showBoardError(undefined);
    renderAll();
  } catch (error) {
    showBoardError(`Cannot load the orders: ${error.message}`);
  }
}

/** An order from the stream: placed, moved, or (completed, rejected, cancelled) off the board. */
function receive(order, type) {
  const isNew = type === 'order.placed' && !orders.has(order.id) && OPEN_STATUSES.includes(order.status);
  keep(order);
  render(order.id);
  if (isNew) announce(order.id);
}

/** Keeps the newer of what we have and what arrived (a list and the stream may cross). */
function keep(order) {
  const known = orders.get(order.id);
  if (known !== undefined && Date.parse(known.updated_at) > Date.parse(order.updated_at)) return;
  if (OPEN_STATUSES.includes(order.status)) orders.set(order.id, order);
  else orders.delete(order.id);
  for (const item of order.items ?? []) loadRecipe(item.recipe_id);
}

function loadRecipe(id) {
  if (recipes.has(id)) return;
  const loading = api
    .request(`/v1/recipes/${id}`, { anonymous: true })
    .then((recipe) => recipes.set(id, recipe))
    .catch(() => recipes.set(id, undefined))
    .finally(() => {
      for (const order of orders.values()) if (order.items.some((item) => item.recipe_id === id)) render(order.id);
    });
  recipes.set(id, loading);
}

const recipeOf = (id) => {
  const recipe = recipes.get(id);
  return recipe instanceof Promise ? undefined : recipe;
};

// ---- rendering -----------------------------------------------------------------------------------

const ticketElements = new Map();

function renderAll() {
  for (const id of [...ticketElements.keys()]) if (!orders.has(id)) render(id);
  for (const id of orders.keys()) render(id);
}

/** Brings one ticket up to date: built afresh, placed in its column in due order, or removed. */
function render(id) {
  const order = orders.get(id);
  const existing = ticketElements.get(id);
  if (order === undefined) {
    existing?.remove();
    ticketElements.delete(id);
    updateCounts();
    return;
  }
  const ticket = buildTicket(order);
  if (existing?.classList.contains('ticket-new')) ticket.classList.add('ticket-new');
  if (existing) existing.replaceWith(ticket);
  ticketElements.set(id, ticket);
  const column = document.querySelector(`.column[data-status="${order.status}"] .column-tickets`);
  const due = dueOf(order).at.getTime();
  const after = [...column.children].find((other) => other !== ticket && Number(other.dataset.due) > due);
  column.insertBefore(ticket, after ?? null);
  updateCounts();
}

function updateCounts() {
  for (const column of document.querySelectorAll('.column')) {
    const count = column.querySelectorAll('.ticket').length;
    column.querySelector('.column-count').textContent = String(count);
    column.classList.toggle('column-empty', count === 0);
  }
}

// Kitchens read the 24-hour clock, in the restaurant's own time zone whatever the screen's is set to.
const timeFormat = () => new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(timeZone ? { timeZone } : {}) });

function buildTicket(order) {
  const due = dueOf(order);
  const ticket = el('article', 'ticket');
  ticket.dataset.orderId = String(order.id);
  ticket.dataset.due = String(due.at.getTime());
  ticket.dataset.status = order.status;

  const badges = el('div', 'ticket-badges', el('span', `badge badge-${order.fulfillment}`, order.fulfillment === 'delivery' ? 'Delivery' : 'Pickup'));
  if (order.payment_status === 'unpaid') badges.append(el('span', 'badge badge-unpaid', order.payment_method === 'cash' ? 'Cash due' : 'Unpaid'));
  ticket.append(el('header', 'ticket-head', el('span', 'ticket-number', `#${order.id}`), badges));

  const age = Date.now() - Date.parse(order.placed_at);
  const dueLabel =
    due.kind === 'scheduled'
      ? `For ${timeFormat().format(due.at)}`
      : due.kind === 'asap'
        ? `ASAP · due ${timeFormat().format(due.at)}`
        : `Placed ${timeFormat().format(due.at)}`;
  const ageNode = el('span', `ticket-age age-${ageLevel(age)}`, ageText(age));
  ageNode.dataset.placedAt = order.placed_at;
  ticket.append(el('div', `ticket-time ticket-time-${due.kind}`, el('span', 'ticket-due', dueLabel), ageNode));

  const allergens = allergensOf(order);
  if (allergens.length > 0)
    ticket.append(el('div', 'ticket-allergens', el('span', 'tag', 'Allergens'), ` ${allergens.map((a) => a.replaceAll('_', ' ')).join(' · ')}`));

  const lines = el('ul', 'ticket-lines');
  for (const item of order.items ?? []) {
    const line = el('li', 'ticket-line', el('div', 'line-main', el('span', 'line-quantity', `${item.quantity}×`), el('span', 'line-name', item.name)));
    const notes = el('ul', 'line-notes');
    for (const name of optionNames(item)) notes.append(el('li', 'note note-option', `+ ${name}`));
    for (const note of customizationNotes(item, recipeOf(item.recipe_id))) notes.append(el('li', `note note-${note.kind}`, note.text));
    if (notes.children.length > 0) line.append(notes);
    lines.append(line);
  }
  ticket.append(lines);

  if (order.notes) ticket.append(el('p', 'ticket-notes', el('span', 'tag', 'Note'), ` ${order.notes}`));

  const actions = el('footer', 'ticket-actions');
  const next = NEXT_MOVE[order.status];
  if (next) actions.append(moveButton(order, next.to, next.label, 'button-primary'));
  if (REJECTABLE.has(order.status)) actions.append(rejectButton(order));
  ticket.append(actions);
  return ticket;
}

function moveButton(order, to, label, style) {
  const button = el('button', `button ${style}`, label);
  button.type = 'button';
  button.dataset.move = to;
  button.addEventListener('click', () => move(order.id, to, button));
  return button;
}

/** Two taps, so a reject is never a slip of the finger. */
function rejectButton(order) {
  const button = el('button', 'button button-danger', 'Reject');
  button.type = 'button';
  button.dataset.move = 'rejected';
  let armed;
  button.addEventListener('click', () => {
    if (armed === undefined) {
      button.textContent = 'Tap again to reject';
      button.classList.add('button-armed');
      armed = setTimeout(() => {
        armed = undefined;
        button.textContent = 'Reject';
        button.classList.remove('button-armed');
      }, 3_000);
      return;
    }
    clearTimeout(armed);
    void move(order.id, 'rejected', button);
  });
  return button;
}

async function move(id, to, button) {
  button.disabled = true;
  try {
    const moved = await api.call(`/v1/orders/${id}/transitions`, { method: 'POST', body: { to } });
    keep(moved);
    render(id);
  } catch (error) {
    button.disabled = false;
    if (error instanceof ApiError && (error.status === 409 || error.status === 404)) {
      showBoardError(`Order #${id} changed elsewhere; the board shows it as it is now.`);
      try {
        keep(await api.call(`/v1/orders/${id}`));
      } catch {
        orders.delete(id);
      }
      render(id);
    } else {
      showBoardError(`Could not move order #${id}: ${error.message}`);
    }
  }
}

function showBoardError(message) {
  const node = $('board-error');
  node.hidden = message === undefined;
  node.textContent = message ?? '';
}

function showConnection(state) {
  const node = $('connection');
  node.dataset.connection = state;
  $('connection-text').textContent = state === 'live' ? 'Live' : state === 'reconnecting' ? 'Reconnecting…' : 'Connecting…';
  document.body.classList.toggle('is-offline', state === 'reconnecting');
}

// ---- a new order: a flash and a chime ------------------------------------------------------------

let audio;
/** Browsers allow sound only after a gesture: the sign-in (or the first tap) unlocks it. */
function unlockSound() {
  try {
    audio ??= new AudioContext();
    void audio.resume();
  } catch {
    audio = undefined;
  }
}
document.addEventListener('pointerdown', unlockSound, { once: true });

let lastChime = 0;
function announce(id) {
  const ticket = ticketElements.get(id);
  ticket?.classList.add('ticket-new');
  setTimeout(() => ticketElements.get(id)?.classList.remove('ticket-new'), 8_000);
  // One chime for a burst (a replay after reconnecting brings several at once).
  if (audio === undefined || audio.state !== 'running' || Date.now() - lastChime < 1_500) return;
  lastChime = Date.now();
  for (const [offset, frequency] of [
    [0, 880],
    [0.18, 1320],
  ]) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, audio.currentTime + offset);
    gain.gain.exponentialRampToValueAtTime(0.4, audio.currentTime + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + offset + 0.35);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(audio.currentTime + offset);
    oscillator.stop(audio.currentTime + offset + 0.4);
  }
}

// ---- clock and ages ------------------------------------------------------------------------------

function tick() {
  $('clock').textContent = timeFormat().format(new Date());
  for (const node of document.querySelectorAll('.ticket-age')) {
    const age = Date.now() - Date.parse(node.dataset.placedAt);
    node.textContent = ageText(age);
    node.className = `ticket-age age-${ageLevel(age)}`;
  }
}
setInterval(tick, 15_000);
tick();

if (api.signedIn) void showBoard();
else showSignIn();
