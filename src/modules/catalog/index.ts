/**
 * What other modules may use of the catalog (ingredients, recipes, their options and the stock ledger).
 * The catalog is the only writer of its tables; everything else goes through these functions.
 */
export { priceLines, priceLinesWith, type LineToPrice, type PricedLine } from './pricing-service.js';
export { reserveForOrder, releaseForOrder, adjustStock, sumNeeds, type AdjustmentInput, type IngredientQuantity, type LineNeeds } from './stock-service.js';
export {
  asServedAllergens,
  assertOptionsBelong,
  canMake,
  describeOptions,
  getRecipesForPricing,
  priceRecipeLine,
  type ChosenOption,
  type Customization,
  type LineSelection,
  type OptionOwner,
  type PricedPortion,
  type PricedRecipe,
} from './recipes-service.js';
export { restoreTimedUnavailability } from './ingredients-service.js';
export { onStockThresholdCrossed, stockCrossings, type StockCrossing, type StockThresholdCrossed, type StockThresholdListener } from './hooks.js';
export { getIngredient, staffIngredient, type StaffIngredient } from './ingredients-service.js';
