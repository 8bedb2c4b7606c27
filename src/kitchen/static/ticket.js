// How an order reads on a kitchen ticket: plain functions of the order (and its recipes), no DOM.

export const OPEN_STATUSES = ['pending', 'confirmed', 'preparing', 'ready'];

/** The one move forward from each open status, as the button says it. */
export const NEXT_MOVE = {
  pending: { to: 'confirmed', label: 'Confirm' },
  confirmed: { to: 'preparing', label: 'Start' },
  preparing: { to: 'ready', label: 'Ready' },
  ready: { to: 'completed', label: 'Complete' },
};

/** Staff may reject an order until it is being prepared. */
export const REJECTABLE = new Set(['pending', 'confirmed']);

/**
 * A line's customisations as a cook reads them. A customisation is the quantity of one of the recipe's
 * ingredients when it differs from the recipe's own: 0 removes it ("NO onion"), more adds to it
 * ("EXTRA cheese", "EXTRA cheese ×2" for two more), less but some is "LESS rice (1 of 2)".
 * `recipe` is GET /v1/recipes/{id}, or undefined while it loads or when it is gone from the menu.
 */
export function customizationNotes(item, recipe) {
  const notes = [];
  for (const change of item.customizations ?? []) {
    const ingredient = recipe?.ingredients?.find((line) => line.ingredient_id === change.ingredient_id);
    const name = ingredient?.name ?? `ingredient #${change.ingredient_id}`;
    const usual = ingredient?.quantity;
    if (change.quantity === 0) notes.push({ kind: 'no', text: `NO ${name}` });
    else if (usual === undefined) notes.push({ kind: 'extra', text: `${name} ×${change.quantity}` });
    else if (change.quantity > usual) {
      const more = change.quantity - usual;
      notes.push({ kind: 'extra', text: more === 1 ? `EXTRA ${name}` : `EXTRA ${name} ×${more}` });
    } else if (change.quantity < usual) notes.push({ kind: 'less', text: `LESS ${name} (${change.quantity} of ${usual})` });
  }
  return notes;
}

/** Option names of a line, when the order carries them (menus with option groups). */
export function optionNames(item) {
  return Array.isArray(item.options) ? item.options.map((option) => option?.name).filter((name) => typeof name === 'string' && name !== '') : [];
}

/** Every allergen any line of the order contains, when the order carries them. */
export function allergensOf(order) {
  const all = new Set();
  for (const item of order.items ?? []) for (const allergen of Array.isArray(item.allergens) ? item.allergens : []) all.add(String(allergen));
  return [...all].sort();
}

/**
 * When the order is for: its promised time when the order has one (scheduled, or ASAP with the lead
 * time), else when it was placed.
 */
export function dueOf(order) {
  if (typeof order.promised_at === 'string') {
    return { at: new Date(order.promised_at), kind: order.requested_at ? 'scheduled' : 'asap' };
  }
  if (typeof order.requested_at === 'string') return { at: new Date(order.requested_at), kind: 'scheduled' };
  return { at: new Date(order.placed_at), kind: 'placed' };
}

/** "now", "4 min", "1 h 12" */
export function ageText(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 1) return 'now';
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')}`;
}

/** How urgent an order's age looks: calm, then warm, then late. */
export function ageLevel(ms) {
  const minutes = ms / 60_000;
  if (minutes >= 20) return 'late';
  if (minutes >= 10) return 'warm';
  return 'calm';
}
