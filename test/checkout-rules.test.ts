import { describe, expect, it } from 'vitest';
import { AppError } from '../src/http/errors.js';
import { priceLinesWith, sumNeeds, type PricedRecipe } from '../src/modules/catalog/index.js';
import { chooseDeliveryAddress, needsConfirmationNow } from '../src/modules/orders/checkout.js';

// Checkout's pieces that need no database: what the use case in orders/checkout.ts composes.

const recipe = (
  id: number,
  name: string,
  lines: Array<{ ingredient_id: number; quantity: number; price_cents: number; removable?: boolean; max_quantity?: number }>,
): PricedRecipe => ({
  id,
  name,
  description: '',
  category: '',
  price_cents: lines.reduce((sum, line) => sum + line.price_cents * line.quantity, 0),
  available: true,
  ingredients: lines.map((line) => ({
    ingredient_id: line.ingredient_id,
    name: `ingredient ${line.ingredient_id}`,
    unit: 'g',
    quantity: line.quantity,
    removable: line.removable ?? false,
    max_quantity: line.max_quantity ?? null,
    price_cents: line.price_cents,
    stock: 100,
    available: true,
    archived: false,
    allergens: [],
  })),
  option_groups: [],
});

const errorOf = (work: () => unknown): AppError => {
  try {
    work();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
};

describe('summing what the lines need', () => {
  it('adds up an ingredient shared by several lines, times their portions, in ascending ingredient id', () => {
    const needs = sumNeeds([
      {
        name: 'Pizza',
        quantity: 2,
        perPortion: [
          { ingredient_id: 9, quantity: 1 },
          { ingredient_id: 3, quantity: 2 },
        ],
      },
      { name: 'Salad', quantity: 3, perPortion: [{ ingredient_id: 3, quantity: 1 }] },
    ]);
    expect(needs).toEqual([
      { ingredient_id: 3, quantity: 2 * 2 + 3 * 1 },
      { ingredient_id: 9, quantity: 2 },
    ]);
  });

  it('needs nothing for no lines', () => {
    expect(sumNeeds([])).toEqual([]);
  });
});

describe('choosing the delivery address', () => {
  it('never gives a pickup order the saved address', () => {
    expect(chooseDeliveryAddress({ fulfillment: 'pickup' }, '1 Saved Street')).toBeNull();
    expect(chooseDeliveryAddress({ fulfillment: 'pickup', delivery_address: 'Sent Road' }, '1 Saved Street')).toBe('Sent Road');
  });

  it('delivers to the address sent, else to the saved one', () => {
    expect(chooseDeliveryAddress({ fulfillment: 'delivery', delivery_address: 'Sent Road' }, '1 Saved Street')).toBe('Sent Road');
    expect(chooseDeliveryAddress({ fulfillment: 'delivery' }, '1 Saved Street')).toBe('1 Saved Street');
  });

  it('refuses a delivery with no address at all: 400 naming delivery_address', () => {
    const error = errorOf(() => chooseDeliveryAddress({ fulfillment: 'delivery' }, null));
    expect(error).toMatchObject({ code: 'validation_failed', status: 400 });
    expect(error.errors).toEqual([{ path: 'delivery_address', message: 'required for delivery' }]);
  });
});

describe('pricing the lines and the total', () => {
  const pizza = recipe(1, 'Pizza', [
    { ingredient_id: 3, quantity: 2, price_cents: 50, removable: true, max_quantity: 4 },
    { ingredient_id: 9, quantity: 1, price_cents: 300 },
  ]);

  it('prices customisations from the live unit prices and says what one portion needs', () => {
    const [line] = priceLinesWith([{ recipe_id: 1, recipe_name: 'Pizza', quantity: 2, customizations: [{ ingredient_id: 3, quantity: 4 }] }], [pizza]);
    expect(line).toMatchObject({
      unitPriceCents: 400 + 2 * 50,
      lineTotalCents: 2 * 500,
      perPortion: [
        { ingredient_id: 3, quantity: 4 },
        { ingredient_id: 9, quantity: 1 },
      ],
    });
  });

  it('stops at every line that no longer fits the menu: 409 naming each', () => {
    const error = errorOf(() =>
      priceLinesWith(
        [
          { recipe_id: 2, recipe_name: 'Soup', quantity: 1, customizations: [] },
          { recipe_id: 1, recipe_name: 'Pizza', quantity: 1, customizations: [{ ingredient_id: 9, quantity: 0 }] },
        ],
        [pizza],
      ),
    );
    expect(error).toMatchObject({ code: 'conflict', status: 409 });
    expect(error.errors?.map((e) => e.path)).toEqual(['items.0.recipe_id', 'items.1.customizations.0.quantity']);
  });

  it('asks the kitchen at once for cash and for a card order with nothing to pay, after payment for other card orders', () => {
    expect(needsConfirmationNow({ payment_method: 'cash' }, 1250)).toBe(true);
    expect(needsConfirmationNow({ payment_method: 'card' }, 1250)).toBe(false);
    expect(needsConfirmationNow({ payment_method: 'card' }, 0)).toBe(true);
  });
});
