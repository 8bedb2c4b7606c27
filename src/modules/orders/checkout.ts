import type { Knex } from 'knex';
import { AppError } from '../../lib/errors.js';
import { assertOrderTotalFits, sumLineTotals } from '../../lib/money.js';
import { enqueueOrderEvent } from '../../queue/outbox.js';
import * as cart from '../cart/service.js';
import * as catalog from '../catalog/index.js';
import * as repo from './repo.js';
import type { OrderView } from './repo.js';

export interface PlaceOrderInput {
  fulfillment: 'pickup' | 'delivery';
  delivery_address?: string | undefined;
  notes?: string | undefined;
  payment_method: 'card' | 'cash';
}

export interface CheckoutTenant {
  id: number;
  currency: string;
}

export interface CheckoutCustomer {
  id: number;
  /** The address saved on the customer's record, used for a delivery that names none. */
  address: string | null;
}

/**
 * Places the customer's whole cart as one order, in the caller's transaction (DESIGN.md, "Placing an
 * order without overselling"). One line per rule; each calls the service that owns the rule's tables,
 * so a new rule is one more line here (a slot count or a coupon is taken like the stock, near the end).
 * Any step that throws leaves nothing behind: the transaction rolls back.
 */
export async function placeOrder(trx: Knex.Transaction, tenant: CheckoutTenant, customer: CheckoutCustomer, input: PlaceOrderInput): Promise<OrderView> {
  const deliveryAddress = chooseDeliveryAddress(input, customer.address);
  const lines = await cart.takeCart(trx, tenant.id, customer.id);
  const priced = await catalog.priceLines(trx, tenant.id, lines);
  const totalCents = orderTotal(priced);
  const order = await repo.insertOrder(trx, tenant.id, newOrder(tenant, customer, input, deliveryAddress, priced, totalCents));
  if (needsConfirmationNow(input)) await enqueueOrderEvent(trx, { type: 'order.confirmation_requested', restaurantId: tenant.id, orderId: order.id });
  await cart.emptyCart(trx, tenant.id, customer.id);
  // Guarded stock UPDATEs last: the ingredient rows they lock are then held for as few statements as
  // possible, and checkouts sharing an ingredient queue on them.
  await catalog.reserveForOrder(trx, tenant.id, order.id, priced);
  return order;
}

/**
 * Where the order goes: a delivery to the address sent, else the one saved on the customer's record
 * (neither: 400); a pickup only ever carries an address the customer sent, never the saved one. Pure.
 */
export function chooseDeliveryAddress(input: Pick<PlaceOrderInput, 'fulfillment' | 'delivery_address'>, savedAddress: string | null): string | null {
  if (input.fulfillment === 'pickup') return input.delivery_address ?? null;
  const address = input.delivery_address ?? savedAddress;
  if (address === null) {
    throw new AppError('validation_failed', 400, 'A delivery needs an address: send delivery_address or save one on your customer record', [
      { path: 'delivery_address', message: 'required for delivery' },
    ]);
  }
  return address;
}

/** Σ unit price × quantity over the lines, refused (409) when one order cannot hold it. Pure. */
export function orderTotal(lines: ReadonlyArray<Pick<catalog.PricedLine, 'unitPriceCents' | 'quantity'>>): number {
  const total = sumLineTotals(lines);
  assertOrderTotalFits(total);
  return total;
}

/** Cash needs no payment first: the kitchen is asked at once. A card order asks once it is paid. Pure. */
export const needsConfirmationNow = (input: Pick<PlaceOrderInput, 'payment_method'>): boolean => input.payment_method === 'cash';

function newOrder(
  tenant: CheckoutTenant,
  customer: CheckoutCustomer,
  input: PlaceOrderInput,
  deliveryAddress: string | null,
  priced: readonly catalog.PricedLine[],
  totalCents: number,
): repo.NewOrder {
  return {
    customerId: customer.id,
    paymentMethod: input.payment_method,
    fulfillment: input.fulfillment,
    deliveryAddress,
    notes: input.notes === undefined || input.notes === '' ? null : input.notes,
    currency: tenant.currency,
    totalCents,
    items: priced.map((line) => ({
      recipe_id: line.recipe_id,
      name: line.name,
      description: line.description,
      quantity: line.quantity,
      customizations: line.customizations,
      options: line.options,
      allergens: line.allergens,
      unit_price_cents: line.unitPriceCents,
      line_total_cents: line.lineTotalCents,
    })),
  };
}
