import type { Queryable } from '../../db/database.js';
import type { Allergen } from '../../lib/allergens.js';
import { AppError, conflict, type FieldError } from '../../lib/errors.js';
import { getRecipesForPricing, priceRecipeLine, type ChosenOption, type Customization, type PricedRecipe } from './recipes-service.js';
import type { IngredientQuantity, LineNeeds } from './stock-service.js';

/** A line to price: a recipe, how many portions, and the customer's customisations and options. */
export interface LineToPrice {
  recipe_id: number;
  /** Named in the error when the recipe is no longer on the menu. */
  recipe_name: string;
  quantity: number;
  customizations: readonly Customization[];
  /** The options the line holds; a group none of them belongs to gets its defaults. Absent: none named. */
  options?: readonly number[] | undefined;
}

/** A line priced from the live menu; also what the stock reservation needs of it (`LineNeeds`). */
export interface PricedLine extends LineNeeds {
  recipe_id: number;
  name: string;
  description: string;
  quantity: number;
  customizations: Customization[];
  /** What the line holds, the groups' defaults included, as the order item's snapshot shows them. */
  options: ChosenOption[];
  /** Allergens of what one portion really holds (customisations and options included). */
  allergens: Allergen[];
  unitPriceCents: number;
  lineTotalCents: number;
  /** Units of each ingredient one portion needs: customised own lines plus options, summed per ingredient. */
  perPortion: IngredientQuantity[];
}

/**
 * Prices each line from the live menu (one query, the one the menu page runs). A line that no longer
 * fits the menu (recipe gone, customisation or option no longer possible) stops it: `409 conflict`
 * naming `items.<index>...` for every such line.
 */
export async function priceLines(db: Queryable, restaurantId: number, lines: readonly LineToPrice[]): Promise<PricedLine[]> {
  const recipes = await getRecipesForPricing(
    db,
    restaurantId,
    lines.map((line) => line.recipe_id),
  );
  return priceLinesWith(lines, recipes);
}

/** `priceLines` over recipes already read. Pure. */
export function priceLinesWith(lines: readonly LineToPrice[], recipes: readonly PricedRecipe[]): PricedLine[] {
  const byId = new Map(recipes.map((recipe) => [recipe.id, recipe]));
  const errors: FieldError[] = [];
  const priced: PricedLine[] = [];
  lines.forEach((line, index) => {
    const recipe = byId.get(line.recipe_id);
    if (recipe === undefined) {
      errors.push({ path: `items.${index}.recipe_id`, message: `${line.recipe_name} is no longer on the menu` });
      return;
    }
    try {
      const portion = priceRecipeLine(recipe, { customizations: line.customizations, options: line.options }, `items.${index}.`);
      priced.push({
        recipe_id: recipe.id,
        name: recipe.name,
        description: recipe.description,
        quantity: line.quantity,
        customizations: line.customizations.map((c) => ({ ingredient_id: c.ingredient_id, quantity: c.quantity })),
        options: portion.options,
        allergens: portion.allergens,
        unitPriceCents: portion.unit_price_cents,
        lineTotalCents: portion.unit_price_cents * line.quantity,
        perPortion: portion.ingredients,
      });
    } catch (error) {
      if (error instanceof AppError) errors.push(...(error.errors ?? []));
      else throw error;
    }
  });
  if (errors.length > 0) throw conflict('Some cart lines no longer match the menu; update or remove them', errors);
  return priced;
}
