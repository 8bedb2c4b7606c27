import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { sqlState, withTransaction } from '../../db/transaction.js';
import { conflict, notFound, validationFailed, type FieldError } from '../../lib/errors.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { allergenSet, type Allergen, type Diet, type MenuPreferences } from '../../lib/allergens.js';
import * as repo from './recipes-repo.js';
import * as menuRepo from './menu-repo.js';
import type { RecipeImageUrls } from './menu-repo.js';

export type { PricedRecipe, RecipeIngredientLine, RecipeOption, RecipeOptionGroup, OptionOwner } from './recipes-repo.js';

export interface ListRecipesOptions {
  limit: number;
  cursor?: string | undefined;
  search?: string | undefined;
  category?: string | undefined;
  available?: boolean | undefined;
  excludeAllergens?: readonly Allergen[] | undefined;
  dietary?: readonly Diet[] | undefined;
}

/** What the menu's query says of the filters: a field present (even empty) was set by the caller. */
export interface MenuQuery {
  exclude_allergens?: Allergen[] | undefined;
  dietary?: Diet[] | undefined;
  preferences?: 'on' | 'off' | undefined;
}

/** The filters a menu page uses, and which of them came from the caller's saved preferences. */
export interface MenuFilter {
  excludeAllergens: Allergen[];
  dietary: Diet[];
  /** The saved values applied; null when none was (the page is then the same for everyone). */
  applied: MenuPreferences | null;
}

/**
 * Saved preferences apply as if they were in the query, field by field: a filter the query sets itself wins
 * (an empty one included), and `preferences=off` ignores them. Pure.
 */
export function menuFilterFor(query: MenuQuery, saved: MenuPreferences | undefined): MenuFilter {
  const use = saved !== undefined && query.preferences !== 'off';
  const fromSaved: MenuPreferences = {
    exclude_allergens: use && query.exclude_allergens === undefined ? saved.exclude_allergens : [],
    dietary: use && query.dietary === undefined ? saved.dietary : [],
  };
  return {
    excludeAllergens: query.exclude_allergens ?? fromSaved.exclude_allergens,
    dietary: query.dietary ?? fromSaved.dietary,
    applied: fromSaved.exclude_allergens.length > 0 || fromSaved.dietary.length > 0 ? fromSaved : null,
  };
}

/** Whether saved preferences could change this query's answer (else they need not be read). */
export const menuQueryTakesPreferences = (query: MenuQuery): boolean =>
  query.preferences !== 'off' && (query.exclude_allergens === undefined || query.dietary === undefined);

/** A page of the menu as the API shows it: `data` is the JSON text of its recipes (an array). */
export interface MenuPage {
  data: string;
  next_cursor: string | null;
}

/**
 * A page of the menu, keyset on id (new recipes land on later pages), prices and availability live, built by
 * PostgreSQL (menu-repo.ts). One statement. With `excludeAllergens`, each recipe says which removable
 * ingredients to take off for it to be free of them (`free_of_by_removing`, empty when it already is).
 */
export async function listRecipes(db: Queryable, restaurantId: number, options: ListRecipesOptions, images: RecipeImageUrls): Promise<MenuPage> {
  const after = decodeCursor(options.cursor, ['number']);
  const search = options.search?.trim();
  const page = await menuRepo.selectMenuPage(
    db,
    restaurantId,
    {
      afterId: after === undefined ? undefined : Number(after[0]),
      category: options.category === undefined || options.category === '' ? undefined : options.category,
      searchPattern: search === undefined || search === '' ? undefined : `%${escapeLike(search)}%`,
      available: options.available,
      excludeAllergens: options.excludeAllergens,
      dietary: options.dietary,
      limit: options.limit,
    },
    images,
  );
  return { data: page.data, next_cursor: page.hasMore && page.lastId !== null ? encodeCursor([page.lastId]) : null };
}

/** An active recipe of this restaurant as the API shows it (JSON text), prices and availability live; else 404. */
export async function getRecipe(db: Queryable, restaurantId: number, id: number, images: RecipeImageUrls): Promise<string> {
  const view = await menuRepo.selectRecipeView(db, restaurantId, id, images);
  if (view === undefined) throw notFound('The recipe');
  return view;
}

/**
 * For the cart and checkout: the active recipes among `recipeIds`, each with its lines and options and, per
 * ingredient, its current price, stock, switch and archived state. One query, the same one the menu uses, so
 * a cart is priced exactly as the menu shows it. Unknown or archived ids are simply absent from the result
 * (the caller answers 400 for them). Ordered by id.
 */
export async function getRecipesForPricing(db: Queryable, restaurantId: number, recipeIds: readonly number[]): Promise<repo.PricedRecipe[]> {
  return repo.selectPricedRecipes(db, restaurantId, [...new Set(recipeIds)]);
}

/** Options by id, active or taken off, with the recipe and group they belong to (unknown ids are absent). */
export async function describeOptions(db: Queryable, restaurantId: number, optionIds: readonly number[]): Promise<repo.OptionOwner[]> {
  return repo.selectOptionOwners(db, restaurantId, [...new Set(optionIds)]);
}

export interface Customization {
  ingredient_id: number;
  quantity: number;
}

/** What a cart line asks of a recipe besides the portions. */
export interface LineSelection {
  customizations: readonly Customization[];
  /** Options chosen; a group none of them belongs to gets its default options. Absent: none named. */
  options?: readonly number[] | undefined;
}

export interface ChosenOption {
  id: number;
  name: string;
  price_cents: number;
}

export interface PricedPortion {
  /** The recipe's price, each customised ingredient's difference in quantity × its unit price, plus the chosen options' prices. */
  unit_price_cents: number;
  /** Units of each ingredient one portion needs: its customised lines (0-quantity ones left out) plus the chosen options', by ingredient id. */
  ingredients: Array<{ ingredient_id: number; quantity: number }>;
  /** The options the portion holds, the defaults included, in the menu's order. */
  options: ChosenOption[];
  /** The allergens of what the portion really holds. Sorted. */
  allergens: Allergen[];
}

/**
 * Prices one portion of a recipe with customisations and options (API.md "Cart", "Menu") and says what it
 * needs of each ingredient. Customisation rules: the ingredient must be in the recipe's own lines and named
 * once; 0 only for a `removable` one; less than the recipe's quantity only for a `removable` one; at most
 * `max_quantity` (no more than the recipe's quantity when that is null). Option rules, per group (path
 * `options.<group_id>`): a group none of the chosen options belongs to gets its defaults; then at least
 * `min_select` and at most `max_select`. An option that is not one of the recipe's now is refused at
 * `options` (`assertOptionsBelong` names its group when it has one). Violations are `400 validation_failed`
 * with paths after `prefix` (e.g. `items.0.`). Pure: takes a recipe from `getRecipesForPricing`.
 */
export function priceRecipeLine(recipe: repo.PricedRecipe, selection: LineSelection, prefix = ''): PricedPortion {
  const errors: FieldError[] = [];
  const chosen = new Map<number, number>();
  selection.customizations.forEach((customization, index) => {
    const line = recipe.ingredients.find((candidate) => candidate.ingredient_id === customization.ingredient_id);
    const at = `${prefix}customizations.${index}`;
    if (line === undefined) {
      errors.push({ path: `${at}.ingredient_id`, message: `not an ingredient of ${recipe.name}` });
    } else if (chosen.has(line.ingredient_id)) {
      errors.push({ path: `${at}.ingredient_id`, message: 'customised more than once' });
    } else if (!Number.isInteger(customization.quantity) || customization.quantity < 0) {
      errors.push({ path: `${at}.quantity`, message: 'must be a whole number, 0 or more' });
    } else if (customization.quantity < line.quantity && !line.removable) {
      errors.push({ path: `${at}.quantity`, message: `${line.name} cannot be removed or reduced` });
    } else if (customization.quantity > (line.max_quantity ?? line.quantity)) {
      errors.push({ path: `${at}.quantity`, message: `at most ${line.max_quantity ?? line.quantity} ${line.unit} of ${line.name}` });
    } else {
      chosen.set(line.ingredient_id, customization.quantity);
    }
  });

  const named = new Set(selection.options ?? []);
  const known = new Set(recipe.option_groups.flatMap((group) => group.options.map((option) => option.id)));
  for (const id of named) {
    if (!known.has(id)) errors.push({ path: `${prefix}options`, message: `option ${id} is not an option of ${recipe.name}` });
  }
  const options: repo.RecipeOption[] = [];
  for (const group of recipe.option_groups) {
    const picked = group.options.filter((option) => named.has(option.id));
    const holds = picked.length > 0 ? picked : group.options.filter((option) => option.default);
    const at = `${prefix}options.${group.id}`;
    if (holds.length < group.min_select) errors.push({ path: at, message: `choose at least ${group.min_select} of ${group.name}` });
    else if (holds.length > group.max_select) errors.push({ path: at, message: `choose at most ${group.max_select} of ${group.name}` });
    options.push(...holds);
  }
  if (errors.length > 0) throw validationFailed('The customisations or options do not fit the recipe', errors);

  let unitPrice = recipe.price_cents;
  const needs = new Map<number, number>();
  const allergens: Allergen[] = [];
  for (const line of recipe.ingredients) {
    const quantity = chosen.get(line.ingredient_id) ?? line.quantity;
    unitPrice += (quantity - line.quantity) * line.price_cents;
    if (quantity > 0) {
      needs.set(line.ingredient_id, quantity);
      allergens.push(...line.allergens);
    }
  }
  for (const option of options) {
    unitPrice += option.price_cents;
    for (const line of option.ingredients) {
      needs.set(line.ingredient_id, (needs.get(line.ingredient_id) ?? 0) + line.quantity);
      allergens.push(...line.allergens);
    }
  }
  return {
    unit_price_cents: unitPrice,
    ingredients: [...needs].map(([ingredient_id, quantity]) => ({ ingredient_id, quantity })).sort((a, b) => a.ingredient_id - b.ingredient_id),
    options: options.map((option) => ({ id: option.id, name: option.name, price_cents: option.price_cents })),
    allergens: allergenSet(allergens),
  };
}

/** What the recipe holds as served (its own lines and its default options) is allergic to, as the menu shows it. Pure. */
export function asServedAllergens(recipe: repo.PricedRecipe): Allergen[] {
  const defaults = recipe.option_groups.flatMap((group) => group.options.filter((option) => option.default));
  return allergenSet([...recipe.ingredients, ...defaults.flatMap((option) => option.ingredients)].flatMap((line) => line.allergens));
}

/** Whether the stock (as read with the recipe) can make `portions` of this portion now, every ingredient switched on. Pure. */
export function canMake(recipe: repo.PricedRecipe, portion: Pick<PricedPortion, 'ingredients'>, portions: number): boolean {
  const facts = new Map<number, repo.IngredientFacts>();
  for (const line of recipe.ingredients) facts.set(line.ingredient_id, line);
  for (const group of recipe.option_groups) for (const option of group.options) for (const line of option.ingredients) facts.set(line.ingredient_id, line);
  return portion.ingredients.every((need) => {
    const ingredient = facts.get(need.ingredient_id);
    return ingredient?.available && !ingredient.archived && ingredient.stock >= need.quantity * portions;
  });
}

/**
 * Refuses (400) option ids that are not among the recipe's options now, naming the group each belongs to
 * (`options.<group_id>`): another recipe's option, or one taken off this recipe. An id that is no option at
 * all is named at `options`. What `priceRecipeLine` can only call "not an option of this recipe", explained.
 */
export async function assertOptionsBelong(
  db: Queryable,
  restaurantId: number,
  recipe: repo.PricedRecipe,
  optionIds: readonly number[],
  prefix = '',
): Promise<void> {
  const known = new Set(recipe.option_groups.flatMap((group) => group.options.map((option) => option.id)));
  const foreign = [...new Set(optionIds)].filter((id) => !known.has(id));
  if (foreign.length === 0) return;
  const owners = new Map((await repo.selectOptionOwners(db, restaurantId, foreign)).map((owner) => [owner.id, owner]));
  const errors = foreign.map((id): FieldError => {
    const owner = owners.get(id);
    if (owner === undefined) return { path: `${prefix}options`, message: `no option ${id} on this menu` };
    if (owner.recipe_id !== recipe.id)
      return {
        path: `${prefix}options.${owner.group_id}`,
        message: `option ${id} (${owner.name}) is an option of ${owner.recipe_name}, not of ${recipe.name}`,
      };
    return { path: `${prefix}options.${owner.group_id}`, message: `option ${id} (${owner.name}) is no longer offered` };
  });
  throw validationFailed('Some options are not options of this recipe', errors);
}

export interface RecipeLineInput {
  ingredient_id: number;
  quantity: number;
  removable?: boolean | undefined;
  max_quantity?: number | null | undefined;
}

export interface OptionInput {
  id?: number | undefined;
  name: string;
  price_cents: number;
  ingredients: ReadonlyArray<{ ingredient_id: number; quantity: number }>;
  default: boolean;
}

export interface OptionGroupInput {
  id?: number | undefined;
  name: string;
  min_select: number;
  max_select: number;
  options: readonly OptionInput[];
}

export interface CreateRecipeInput {
  name: string;
  description?: string | undefined;
  category?: string | undefined;
  ingredients: readonly RecipeLineInput[];
  option_groups?: readonly OptionGroupInput[] | undefined;
}

export type UpdateRecipeInput = Partial<CreateRecipeInput>;

/** Creates the recipe and answers it as the API shows it (JSON text). */
export async function createRecipe(knex: Knex, restaurantId: number, input: CreateRecipeInput, images: RecipeImageUrls): Promise<string> {
  return withTransaction(knex, async (trx) => {
    await assertIngredientsUsable(trx, restaurantId, ingredientRefs(input));
    const id = await withNameConflict(input.name, () =>
      repo.insertRecipe(trx, restaurantId, { name: input.name, description: input.description ?? '', category: input.category ?? '' }),
    );
    await repo.replaceRecipeLines(trx, restaurantId, id, input.ingredients.map(toLineRow));
    if (input.option_groups !== undefined) await replaceOptionGroups(trx, restaurantId, id, input.option_groups);
    return getRecipe(trx, restaurantId, id, images);
  });
}

/** Updates the given fields; `ingredients` and `option_groups`, when given, replace the whole set (in the same transaction). */
export async function updateRecipe(knex: Knex, restaurantId: number, id: number, input: UpdateRecipeInput, images: RecipeImageUrls): Promise<string> {
  return withTransaction(knex, async (trx) => {
    const changes = {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.category === undefined ? {} : { category: input.category }),
    };
    if (!(await withNameConflict(input.name, () => repo.updateRecipe(trx, restaurantId, id, changes)))) throw notFound('The recipe');
    await assertIngredientsUsable(trx, restaurantId, ingredientRefs(input));
    if (input.ingredients !== undefined) await repo.replaceRecipeLines(trx, restaurantId, id, input.ingredients.map(toLineRow));
    if (input.option_groups !== undefined) await replaceOptionGroups(trx, restaurantId, id, input.option_groups);
    return getRecipe(trx, restaurantId, id, images);
  });
}

/**
 * Makes the recipe's option groups the given ones. A group or option keeps its id (so cart lines holding
 * it stay valid) when the input names that id, or, without an id, when its name matches one there now (a
 * group by name, an option by name within its matched group). The rest is inserted; what is left out is
 * archived. An id that is not this recipe's (or, for an option, not its group's): 400 at its path.
 */
async function replaceOptionGroups(trx: Knex.Transaction, restaurantId: number, recipeId: number, groups: readonly OptionGroupInput[]): Promise<void> {
  const stored = await repo.selectStoredOptionGroups(trx, restaurantId, recipeId);
  const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const errors: FieldError[] = [];
  const takenGroups = new Set(groups.flatMap((group) => (group.id === undefined ? [] : [group.id])));
  const plan = groups.map((group, gi) => {
    const match =
      group.id !== undefined
        ? stored.find((candidate) => candidate.id === group.id)
        : stored.find((candidate) => !takenGroups.has(candidate.id) && sameName(candidate.name, group.name));
    if (group.id !== undefined && match === undefined) errors.push({ path: `option_groups.${gi}.id`, message: `no option group ${group.id} on this recipe` });
    if (match !== undefined) takenGroups.add(match.id);
    const takenOptions = new Set(group.options.flatMap((option) => (option.id === undefined ? [] : [option.id])));
    const options = group.options.map((option, oi) => {
      const optionMatch =
        option.id !== undefined
          ? match?.options.find((candidate) => candidate.id === option.id)
          : match?.options.find((candidate) => !takenOptions.has(candidate.id) && sameName(candidate.name, option.name));
      if (option.id !== undefined && optionMatch === undefined) {
        errors.push({ path: `option_groups.${gi}.options.${oi}.id`, message: `no option ${option.id} in this group` });
      }
      if (optionMatch !== undefined) takenOptions.add(optionMatch.id);
      return { input: option, id: optionMatch?.id };
    });
    return { input: group, id: match?.id, options };
  });
  if (errors.length > 0) throw validationFailed('Some option groups or options are not on this recipe', errors);

  const keep = { groupIds: [] as number[], optionIds: [] as number[] };
  for (const [position, group] of plan.entries()) {
    const fields = { name: group.input.name, min_select: group.input.min_select, max_select: group.input.max_select, position };
    let groupId = group.id;
    if (groupId === undefined) groupId = await repo.insertOptionGroup(trx, restaurantId, recipeId, fields);
    else await repo.updateOptionGroup(trx, restaurantId, groupId, fields);
    keep.groupIds.push(groupId);
    for (const [optionPosition, option] of group.options.entries()) {
      const optionFields = { name: option.input.name, price_cents: option.input.price_cents, is_default: option.input.default, position: optionPosition };
      let optionId = option.id;
      if (optionId === undefined) optionId = await repo.insertOption(trx, restaurantId, recipeId, groupId, optionFields);
      else await repo.updateOption(trx, restaurantId, optionId, optionFields);
      keep.optionIds.push(optionId);
      await repo.replaceOptionIngredients(trx, restaurantId, optionId, option.input.ingredients);
    }
  }
  await repo.archiveOptionsNotIn(trx, restaurantId, recipeId, keep);
}

/** Archives the recipe: off the menu for good; orders keep their snapshots. */
export async function archiveRecipe(db: Queryable, restaurantId: number, id: number): Promise<void> {
  if (!(await repo.archiveRecipe(db, restaurantId, id))) throw notFound('The recipe');
}

/** Active recipes using an ingredient (in their own lines or an option): what stops the ingredient from being archived. */
export async function activeRecipesUsingIngredient(db: Queryable, restaurantId: number, ingredientId: number): Promise<Array<{ id: number; name: string }>> {
  return repo.selectActiveRecipesUsingIngredient(db, restaurantId, ingredientId);
}

/** Every ingredient a recipe body names, with the path to report it at. */
function ingredientRefs(input: UpdateRecipeInput): Array<{ ingredient_id: number; path: string }> {
  const own = (input.ingredients ?? []).map((line, index) => ({ ingredient_id: line.ingredient_id, path: `ingredients.${index}.ingredient_id` }));
  const options = (input.option_groups ?? []).flatMap((group, gi) =>
    group.options.flatMap((option, oi) =>
      option.ingredients.map((line, li) => ({ ingredient_id: line.ingredient_id, path: `option_groups.${gi}.options.${oi}.ingredients.${li}.ingredient_id` })),
    ),
  );
  return [...own, ...options];
}

/** Unknown (including another restaurant's) or archived ingredients: 400 naming each reference's path. */
async function assertIngredientsUsable(
  trx: Knex.Transaction,
  restaurantId: number,
  refs: ReadonlyArray<{ ingredient_id: number; path: string }>,
): Promise<void> {
  const usable = await repo.lockActiveIngredientIds(
    trx,
    restaurantId,
    refs.map((ref) => ref.ingredient_id),
  );
  const errors: FieldError[] = refs
    .filter((ref) => !usable.has(ref.ingredient_id))
    .map((ref) => ({ path: ref.path, message: 'no such ingredient (unknown or archived)' }));
  if (errors.length > 0) throw validationFailed('Some ingredients cannot be used', errors);
}

function toLineRow(line: RecipeLineInput): repo.RecipeLineRow {
  return {
    ingredient_id: line.ingredient_id,
    quantity: line.quantity,
    removable: line.removable ?? false,
    max_quantity: line.max_quantity ?? null,
  };
}

/** `%`, `_` and the escape character itself match literally in a search term. */
export function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (char) => `\\${char}`);
}

async function withNameConflict<T>(name: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (sqlState(error) === '23505' && name !== undefined) {
      throw conflict(`A recipe named "${name}" already exists`, [{ path: 'name', message: 'already used by another recipe' }]);
    }
    throw error;
  }
}
