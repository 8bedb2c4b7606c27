import { z } from '../../http/zod.js';
import { pageOf, pageQuery } from '../../http/pagination.js';
import { idValue, queryFlag } from '../../http/params.js';
import { ALLERGENS, DIETS } from '../../lib/allergens.js';
import { MAX_PRICE_CENTS, allergenName } from './ingredients-schemas.js';

/** Units of one ingredient in one portion; bounded so a price (≤ 10^7 a unit) times it stays exact. */
export const MAX_LINE_QUANTITY = 1_000;
/** Ingredients in one recipe. */
export const MAX_RECIPE_INGREDIENTS = 50;
/** Option groups on one recipe, options in one group, ingredients in one option. */
export const MAX_OPTION_GROUPS = 10;
export const MAX_GROUP_OPTIONS = 20;
export const MAX_OPTION_INGREDIENTS = 10;

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

const optionInput = z
  .object({
    id: idValue.optional().openapi({ description: 'An option of this group to keep (its id stays); absent: matched by name within the group, else new' }),
    name,
    price_cents: z.number().int().min(0).max(MAX_PRICE_CENTS).default(0).openapi({ description: 'Added to the line when chosen; default 0' }),
    ingredients: z
      .array(
        z
          .object({
            ingredient_id: idValue,
            quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY).openapi({ description: 'Units the option adds to one portion' }),
          })
          .strict(),
      )
      .max(MAX_OPTION_INGREDIENTS)
      .default([])
      .superRefine((lines, ctx) =>
        refuseRepeats(
          lines.map((line) => line.ingredient_id),
          ctx,
          'ingredient_id',
          'this ingredient is already in the option',
        ),
      )
      .openapi({ description: "What it adds to a portion; reserved at checkout like the recipe's own. May be empty (e.g. a regular size)." }),
    default: z.boolean().default(false).openapi({ description: "Chosen when a cart line names none of its group's options" }),
  })
  .strict();

const optionGroupInput = z
  .object({
    id: idValue.optional().openapi({ description: 'A group of this recipe to keep (its id stays); absent: matched by name, else new' }),
    name,
    min_select: z.number().int().min(0).max(MAX_GROUP_OPTIONS),
    max_select: z.number().int().min(1).max(MAX_GROUP_OPTIONS),
    options: z.array(optionInput).min(1, 'a group needs at least one option').max(MAX_GROUP_OPTIONS),
  })
  .strict()
  .superRefine((group, ctx) => {
    if (group.max_select < group.min_select) ctx.addIssue({ code: 'custom', path: ['max_select'], message: 'must be at least min_select' });
    if (group.min_select > group.options.length) ctx.addIssue({ code: 'custom', path: ['min_select'], message: 'more than the group has options' });
    const defaults = group.options.filter((option) => option.default).length;
    if (defaults > 0 && (defaults < group.min_select || defaults > group.max_select)) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: `mark none or between min_select and max_select options as default (${defaults} are)` });
    }
    refuseRepeats(
      group.options.map((option) => option.name.toLowerCase()),
      ctx,
      'name',
      'another option of the group has this name',
      'options',
    );
    refuseRepeats(
      group.options.flatMap((option) => (option.id === undefined ? [] : [option.id])),
      ctx,
      'id',
      'this option is already listed',
      'options',
    );
  });

const optionGroupsInput = z
  .array(optionGroupInput)
  .max(MAX_OPTION_GROUPS)
  .superRefine((groups, ctx) => {
    refuseRepeats(
      groups.map((group) => group.name.toLowerCase()),
      ctx,
      'name',
      'another group has this name',
    );
    refuseRepeats(
      groups.flatMap((group) => (group.id === undefined ? [] : [group.id])),
      ctx,
      'id',
      'this group is already listed',
    );
  })
  .openapi({
    description:
      'Option groups (a size, "choose a sauce", "add a side"). Replaces the whole set when given; a group or option keeps its id when sent ' +
      'with it, or when its name matches one there now (a group by its name, an option by its name within its group). Those left out are ' +
      'taken off the recipe (cart lines holding them can no longer be ordered; past orders keep their snapshot).',
  });

/** An issue at `[index, field]` (or `[within, index, field]`) for each value seen before in the list. */
function refuseRepeats(values: ReadonlyArray<string | number>, ctx: z.RefinementCtx, field: string, message: string, within?: string): void {
  const seen = new Set<string | number>();
  values.forEach((value, index) => {
    if (seen.has(value)) ctx.addIssue({ code: 'custom', path: within === undefined ? [index, field] : [within, index, field], message });
    seen.add(value);
  });
}

export const createRecipeBody = z
  .object({
    name,
    description: description.optional(),
    category: category.optional(),
    ingredients: recipeLinesInput,
    option_groups: optionGroupsInput.optional(),
  })
  .strict()
  .openapi('CreateRecipe');

export const updateRecipeBody = z
  .object({
    name: name.optional(),
    description: description.optional(),
    category: category.optional(),
    ingredients: recipeLinesInput.optional().openapi({ description: 'Replaces the whole set of ingredients when given' }),
    option_groups: optionGroupsInput.optional(),
  })
  .strict()
  .openapi('UpdateRecipe');

const dietName = z.enum(DIETS);

const optionSchema = z
  .object({
    id: z.number().int().positive(),
    name: z.string(),
    price_cents: z.number().int().min(0).openapi({ description: "Added to the line's unit price when chosen" }),
    ingredients: z.array(z.object({ ingredient_id: z.number().int().positive(), quantity: z.number().int().min(1) })),
    default: z.boolean().openapi({ description: "Chosen when a cart line names none of the group's options" }),
    available: z.boolean().openapi({ description: "Live: every ingredient of it switched on and in stock (for it plus the recipe's own need of it)" }),
    allergens: z.array(allergenName).openapi({ description: 'What choosing it adds' }),
  })
  .openapi('RecipeOption');

const optionGroupSchema = z
  .object({
    id: z.number().int().positive(),
    name: z.string(),
    min_select: z.number().int().min(0),
    max_select: z.number().int().min(1),
    options: z.array(optionSchema),
  })
  .openapi('RecipeOptionGroup');

export const recipeSchema = z
  .object({
    id: z.number().int().positive(),
    name: z.string(),
    description: z.string(),
    category: z.string(),
    price_cents: z.number().int().openapi({ description: 'Σ ingredient price × quantity, computed from the current ingredient prices at read time' }),
    available: z.boolean().openapi({
      description: 'Live: true when every ingredient is switched on (its `available`) and has stock ≥ its quantity. Customers see "sold out" when false.',
    }),
    max_orderable: z
      .number()
      .int()
      .min(0)
      .openapi({
        description:
          'Portions the current stock allows as served by default: the smallest floor(stock / need) over the ingredients, the need counting ' +
          'the available default options too; 0 when not available',
      }),
    ingredients: z
      .array(
        z.object({
          ingredient_id: z.number().int().positive(),
          name: z.string(),
          unit: z.string(),
          quantity: z.number().int().min(1),
          removable: z.boolean(),
          max_quantity: z.number().int().nullable(),
          price_cents: z.number().int().openapi({ description: 'Price of one unit of the ingredient (the line costs price_cents × quantity)' }),
          allergens: z.array(allergenName).openapi({ description: 'What the ingredient brings (removing a removable one takes them away)' }),
        }),
      )
      .openapi({ description: 'The ingredients, by ingredient id' }),
    option_groups: z.array(optionGroupSchema).openapi({
      description: 'In order. The recipe is available only if every group with min_select ≥ 1 has that many available options.',
    }),
    allergens: z.array(allergenName).openapi({ description: "EU allergens of what it holds as served: its ingredients and its default options' ingredients" }),
    dietary: z.array(dietName).openapi({ description: '`vegan`, `vegetarian`: when every ingredient it holds as served is' }),
    free_of_by_removing: z
      .array(z.number().int().positive())
      .optional()
      .openapi({
        description:
          'Only while `exclude_allergens` filters the menu: the removable ingredients to take off (customisation quantity 0) for the ' +
          'recipe to be free of them; empty when it is free as served.',
      }),
    image: z
      .object({
        url: z.string().openapi({ description: 'The full picture (WebP, at most 2048 px), on MEDIA_BASE_URL' }),
        width: z.number().int().positive(),
        height: z.number().int().positive(),
        variants: z
          .object({ thumb: z.string(), medium: z.string(), large: z.string() })
          .openapi({ description: 'WebP renditions at most 200, 600 and 1200 px' }),
      })
      .nullable()
      .openapi({ description: 'The picture, null without one. URLs never change meaning: a new picture gets new URLs' }),
  })
  .openapi('Recipe');

const appliedPreferencesSchema = z
  .object({
    exclude_allergens: z.array(allergenName),
    dietary: z.array(dietName),
  })
  .nullable()
  .openapi('AppliedPreferences', {
    description:
      "The caller's saved preferences this page was filtered by: each field holds the saved values applied (empty when none are saved " +
      'for it or the query set that filter itself). Null when no saved preference was applied: not signed in, `preferences=off`, none saved, ' +
      'or the query set both filters.',
  });

export const recipePageSchema = pageOf(recipeSchema).extend({ applied_preferences: appliedPreferencesSchema }).openapi('RecipePage');

/** A comma-separated list of names from `names`; an unknown one is a 400 naming it. Empty: an explicit "none". */
const nameList = <const T extends readonly string[]>(names: T, what: string) =>
  z
    .string()
    .max(300)
    .transform((value, ctx) => {
      const list = value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');
      const unknown = list.filter((part) => !(names as readonly string[]).includes(part));
      if (unknown.length > 0) {
        ctx.addIssue({ code: 'custom', message: `unknown ${what} ${unknown.join(', ')}; use ${names.join(', ')}` });
        return z.NEVER;
      }
      return [...new Set(list)] as Array<T[number]>;
    });

export const listRecipesQuery = z.object({
  ...pageQuery,
  search: z.string().trim().max(100).optional().openapi({ description: 'Case-insensitive substring of the name or description' }),
  category: z.string().max(30).optional().openapi({ description: 'Exact category' }),
  available: queryFlag.optional().openapi({ description: '`true`: only recipes that can be ordered now; `false`: only sold-out ones' }),
  exclude_allergens: nameList(ALLERGENS, 'allergen')
    .optional()
    .openapi({
      description:
        'Comma-separated EU allergens, e.g. `milk,gluten`: recipes free of them as served, and those that can be made free by removing ' +
        'removable ingredients (those carry `free_of_by_removing`). Sent empty: no exclusion, whatever the saved preferences say.',
    }),
  dietary: nameList(DIETS, 'diet').optional().openapi({
    description: 'Comma-separated `vegan`, `vegetarian`: recipes that are, as served. Sent empty: no diet filter, whatever the saved preferences say.',
  }),
  preferences: z.enum(['on', 'off']).optional().openapi({ description: "`off`: ignore the signed-in caller's saved preferences. Default `on`." }),
});
