import { z } from '../../http/zod.js';
import { pageOf, pageQuery } from '../../http/pagination.js';
import { idValue, queryFlag } from '../../http/params.js';

/** Units of one ingredient in one portion; bounded so a price (≤ 10^7 a unit) times it stays exact. */
export const MAX_LINE_QUANTITY = 1_000;
/** Ingredients in one recipe. */
export const MAX_RECIPE_INGREDIENTS = 50;

const name = z.string().trim().min(1, 'must not be empty').max(50, 'must be at most 50 characters');
const description = z.string().trim().max(100, 'must be at most 100 characters');
const category = z.string().trim().max(30, 'must be at most 30 characters');

const recipeLineInput = z
  .object({
    ingredient_id: idValue,
    quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY).openapi({ description: 'Units of the ingredient in one portion, at least 1' }),
    removable: z.boolean().optional().openapi({ description: 'Whether a customer may leave it out (quantity 0). Defaults to false.' }),
    max_quantity: z
      .number()
      .int()
      .min(1)
      .max(MAX_LINE_QUANTITY)
      .nullable()
      .optional()
      .openapi({ description: 'Most units a customer may ask for; at least `quantity`. Absent or null: no more than `quantity`.' }),
  })
  .strict()
  .superRefine((line, ctx) => {
    if (line.max_quantity !== undefined && line.max_quantity !== null && line.max_quantity < line.quantity) {
      ctx.addIssue({ code: 'custom', path: ['max_quantity'], message: 'must be at least quantity' });
    }
  });

const recipeLinesInput = z
  .array(recipeLineInput)
  .min(1, 'a recipe needs at least one ingredient')
  .max(MAX_RECIPE_INGREDIENTS, `at most ${MAX_RECIPE_INGREDIENTS} ingredients`)
  .superRefine((lines, ctx) => {
    const seen = new Set<number>();
    lines.forEach((line, index) => {
      if (seen.has(line.ingredient_id)) {
        ctx.addIssue({ code: 'custom', path: [index, 'ingredient_id'], message: 'this ingredient is already in the recipe' });
      }
      seen.add(line.ingredient_id);
    });
  });

export const createRecipeBody = z
  .object({
    name,
    description: description.optional(),
    category: category.optional(),
    ingredients: recipeLinesInput,
  })
  .strict()
  .openapi('CreateRecipe');

export const updateRecipeBody = z
  .object({
    name: name.optional(),
    description: description.optional(),
    category: category.optional(),
    ingredients: recipeLinesInput.optional().openapi({ description: 'Replaces the whole set of ingredients when given' }),
  })
  .strict()
  .openapi('UpdateRecipe');

export const recipeSchema = z
  .object({
    id: z.number().int().positive(),
    name: z.string(),
    description: z.string(),
    category: z.string(),
    price_cents: z.number().int().openapi({ description: 'Σ ingredient price × quantity, computed from the current ingredient prices at read time' }),
    available: z.boolean().openapi({
      description:
        'Live: true when every ingredient is switched on (its `available`) and has stock ≥ its quantity. Customers see "sold out" when false.',
    }),
    max_orderable: z.number().int().min(0).openapi({ description: 'Portions the current stock allows: the smallest floor(stock / quantity) over the ingredients; 0 when not available' }),
    ingredients: z.array(
      z.object({
        ingredient_id: z.number().int().positive(),
        name: z.string(),
        unit: z.string(),
        quantity: z.number().int().min(1),
        removable: z.boolean(),
        max_quantity: z.number().int().nullable(),
        price_cents: z.number().int().openapi({ description: 'Price of one unit of the ingredient (the line costs price_cents × quantity)' }),
      }),
    ).openapi({ description: 'The ingredients, by ingredient id' }),
    image: z
      .object({
        url: z.string().openapi({ description: 'The full picture (WebP, at most 2048 px), on MEDIA_BASE_URL' }),
        width: z.number().int().positive(),
        height: z.number().int().positive(),
        variants: z.object({ thumb: z.string(), medium: z.string(), large: z.string() }).openapi({ description: 'WebP renditions at most 200, 600 and 1200 px' }),
      })
      .nullable()
      .openapi({ description: 'The picture, null without one. URLs never change meaning: a new picture gets new URLs' }),
  })
  .openapi('Recipe');

export const recipePageSchema = pageOf(recipeSchema).openapi('RecipePage');

export const listRecipesQuery = z.object({
  ...pageQuery,
  search: z.string().trim().max(100).optional().openapi({ description: 'Case-insensitive substring of the name or description' }),
  category: z.string().max(30).optional().openapi({ description: 'Exact category' }),
  available: queryFlag.optional().openapi({ description: '`true`: only recipes that can be ordered now; `false`: only sold-out ones' }),
});
