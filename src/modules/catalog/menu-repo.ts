import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { runPrepared, type PreparedStatement } from '../../db/prepared.js';
import { ALLERGENS, type Allergen, type Diet } from '../../lib/allergens.js';
import { OPTION_INGREDIENT_USABLE, OPTION_INGREDIENTS_FROM, optionGroupsLateral, RECIPE_LINE_USABLE, RECIPE_PRICE } from './recipes-repo.js';

// The recipes as the API shows them (API.md "Recipes", "Menu"), built by PostgreSQL as JSON text: the menu is
// the busiest read, and building its page in the database spares the service parsing the rows' JSON, mapping
// it and serialising it again. What can be served is decided by the same SQL as the cart's pricing
// (recipes-repo.ts), so the menu and checkout always agree.

export interface RecipeFilter {
  afterId?: number | undefined;
  ids?: readonly number[] | undefined;
  category?: string | undefined;
  /** A LIKE pattern, already escaped and wrapped in `%`. */
  searchPattern?: string | undefined;
  available?: boolean | undefined;
  /**
   * Only recipes free of these as served, or once removable ingredients are taken off; each then says which
   * to take off (`free_of_by_removing`).
   */
  excludeAllergens?: readonly Allergen[] | undefined;
  /** Only recipes that keep to every one of these diets as served. */
  dietary?: readonly Diet[] | undefined;
  limit?: number | undefined;
}

/** How the URL of a picture's rendition is made: `prefix`, the picture's id, `suffix`. */
export interface ImageUrlParts {
  prefix: string;
  suffix: string;
}

/** The URL parts of each rendition a recipe's `image` shows (catalog/recipe-images.ts makes them). */
export interface RecipeImageUrls {
  original: ImageUrlParts;
  thumb: ImageUrlParts;
  medium: ImageUrlParts;
  large: ImageUrlParts;
}

/**
 * The allergens of a set of rows as a JSON array, each once, in the API's order (alphabetical, as
 * allergenSet sorts): one bool_or per EU allergen, an aggregate over `column` (a row's text[]), so no unnest
 * multiplies the rows the other aggregates of the same query see.
 */
const allergensOf = (column: string) =>
  `to_json(array_remove(ARRAY[${[...ALLERGENS]
    .sort()
    .map((allergen) => `CASE WHEN bool_or('${allergen}' = ANY(${column})) THEN '${allergen}' END`)
    .join(', ')}], NULL))`;

/**
 * Everything the API says of the recipe `r`'s ingredients, from one row per ingredient it holds as served:
 * its own line `ri` (null when only a default option holds it) and `d`, what its default options take of it
 * (`d.quantity` counts only the default options that can be served now, and is null when none can). Default
 * options count as not removable: taking one off is choosing another.
 * - price, availability and the lines as the API shows them, from the own lines;
 * - the allergens and diets as served, and (on a page filtered by allergens) whether an excluded allergen
 *   cannot be removed, and which removable lines to take off for it (`free_of_by_removing`);
 * - `portions`: how many default portions the stock allows, the smallest stock ÷ need (integer division:
 *   both are whole and not negative), 0 when it holds nothing.
 */
const AS_SERVED = (excludesAllergens: boolean) => `
  SELECT ${RECIPE_PRICE} AS price_cents,
         coalesce(bool_and(${RECIPE_LINE_USABLE}) FILTER (WHERE ri.ingredient_id IS NOT NULL), false) AS available,
         coalesce(json_agg(json_build_object(
           'ingredient_id', ri.ingredient_id, 'name', i.name, 'unit', i.unit, 'quantity', ri.quantity, 'removable', ri.removable,
           'max_quantity', ri.max_quantity, 'price_cents', i.price_cents, 'allergens', i.allergens
         ) ORDER BY ri.ingredient_id) FILTER (WHERE ri.ingredient_id IS NOT NULL), '[]'::json) AS ingredients,
         ${allergensOf('i.allergens')}
           AS allergens,
         coalesce(bool_and(i.vegan), false) AS vegan,
         coalesce(bool_and(i.vegetarian), false) AS vegetarian,
         coalesce(min(i.stock / (coalesce(ri.quantity, 0) + coalesce(d.quantity, 0))) FILTER (WHERE ri.quantity IS NOT NULL OR d.quantity IS NOT NULL), 0)
           AS portions${
             excludesAllergens
               ? `,
         coalesce(json_agg(ri.ingredient_id ORDER BY ri.ingredient_id) FILTER (WHERE ri.removable AND i.allergens && ?::text[]), '[]'::json)
           AS free_of_by_removing,
         coalesce(bool_or((d.ingredient_id IS NOT NULL OR NOT ri.removable) AND i.allergens && ?::text[]), false) AS holds_excluded`
               : ''
           }
    FROM (SELECT ri.ingredient_id, ri.quantity, ri.removable, ri.max_quantity
            FROM recipe_ingredients ri
           WHERE ri.restaurant_id = r.restaurant_id AND ri.recipe_id = r.id) AS ri
    FULL JOIN (
      SELECT y.ingredient_id, sum(y.quantity) FILTER (WHERE y.servable) AS quantity
        FROM (SELECT x.ingredient_id, x.quantity, NOT EXISTS (SELECT FROM ${OPTION_INGREDIENTS_FROM} AND NOT (${OPTION_INGREDIENT_USABLE})) AS servable
                FROM recipe_options o
                JOIN recipe_option_groups g ON g.restaurant_id = o.restaurant_id AND g.id = o.group_id
                JOIN recipe_option_ingredients x ON x.restaurant_id = o.restaurant_id AND x.option_id = o.id
               WHERE o.restaurant_id = r.restaurant_id AND o.recipe_id = r.id AND o.is_default
                 AND o.archived_at IS NULL AND g.archived_at IS NULL) AS y
       GROUP BY y.ingredient_id
    ) AS d ON d.ingredient_id = ri.ingredient_id
    JOIN ingredients i ON i.restaurant_id = r.restaurant_id AND i.id = coalesce(ri.ingredient_id, d.ingredient_id)`;

/** The option groups as the API shows them: an option's allergens are those of its ingredients. */
const VIEW_OPTION_GROUPS = optionGroupsLateral(
  `'id', o.id, 'name', o.name, 'price_cents', o.price_cents, 'ingredients', oi.ingredients, 'default', o.is_default, 'available', oi.available,
   'allergens', oi.allergens`,
  `coalesce(json_agg(json_build_object('ingredient_id', x.ingredient_id, 'quantity', x.quantity) ORDER BY x.ingredient_id), '[]'::json) AS ingredients,
   ${allergensOf('i.allergens')} AS allergens`,
);

/** A rendition's URL: its prefix and suffix are bindings (`imageBindings`, in this order). */
const IMAGE_URL = '?::text || r.image_id || ?::text';

/** The picture as the API shows it (API.md "Pictures"), or null. */
const IMAGE = `CASE WHEN r.image_id IS NULL THEN NULL ELSE json_build_object(
    'url', ${IMAGE_URL}, 'width', r.image_width, 'height', r.image_height,
    'variants', json_build_object('thumb', ${IMAGE_URL}, 'medium', ${IMAGE_URL}, 'large', ${IMAGE_URL})
  ) END`;

const imageBindings = (urls: RecipeImageUrls): string[] =>
  (['original', 'thumb', 'medium', 'large'] as const).flatMap((rendition) => [urls[rendition].prefix, urls[rendition].suffix]);

/** A statement's text with `?` placeholders and the values they take, in order. */
interface Statement {
  sql: string;
  bindings: Knex.RawBinding[];
}

/**
 * Active recipes as the API shows them (`id`, `view`: the recipe's JSON, and any `columns` more), with live
 * prices and availability: one statement whatever the number of recipes. Filters, including availability and
 * allergens, are in the WHERE, so a page of N is N matching recipes (the scan continues past non-matching
 * ones) and keyset pages are never short. Written as text rather than with knex's builder: it is nearly all
 * SQL fragments already, and building it cost the menu's every request more than PostgreSQL's planning.
 */
function recipeViews(restaurantId: number, filter: RecipeFilter, images: RecipeImageUrls, columns = ''): Statement {
  const excluded = filter.excludeAllergens ?? [];
  // One text[] binding whatever the number of allergens, so one filter shape is one SQL text. The names come
  // from the fixed EU list (validated), so the array literal needs no quoting.
  const excludedArray = `{${excluded.join(',')}}`;
  const freeOfByRemoving = excluded.length > 0;
  const bindings: Knex.RawBinding[] = [...imageBindings(images), ...(freeOfByRemoving ? [excludedArray, excludedArray] : []), restaurantId];
  const where = ['r.restaurant_id = ?', 'r.archived_at IS NULL'];
  const and = (condition: string, ...values: Knex.RawBinding[]) => {
    where.push(condition);
    bindings.push(...values);
  };
  if (filter.afterId !== undefined) and('r.id > ?', filter.afterId);
  if (filter.ids !== undefined) and('r.id = ANY(?::bigint[])', [...filter.ids]);
  if (filter.category !== undefined) and('r.category = ?', filter.category);
  // The same expression as the trigram index recipes_search_trgm, so the index can serve it.
  if (filter.searchPattern !== undefined) and(`lower(r.name || ' ' || r.description) LIKE lower(?) ESCAPE '\\'`, filter.searchPattern);
  if (filter.available !== undefined) and('(t.available AND og.available) = ?', filter.available);
  if (freeOfByRemoving) and('NOT t.holds_excluded');
  if (filter.dietary?.includes('vegan') === true) and('t.vegan');
  if (filter.dietary?.includes('vegetarian') === true) and('t.vegetarian');
  const view = `json_build_object(
      'id', r.id, 'name', r.name, 'description', r.description, 'category', r.category, 'price_cents', t.price_cents,
      'available', t.available AND og.available,
      'max_orderable', CASE WHEN t.available AND og.available THEN t.portions ELSE 0 END,
      'image', ${IMAGE},
      'ingredients', t.ingredients, 'option_groups', og.option_groups, 'allergens', t.allergens,
      'dietary', to_json(array_remove(ARRAY[CASE WHEN t.vegan THEN 'vegan' END, CASE WHEN t.vegetarian THEN 'vegetarian' END], NULL))${
        freeOfByRemoving ? ", 'free_of_by_removing', t.free_of_by_removing" : ''
      }
    ) AS view`;
  return {
    sql: `SELECT r.id, ${view}${columns}
  FROM recipes r
 CROSS JOIN LATERAL (${AS_SERVED(freeOfByRemoving)}) AS t
 CROSS JOIN LATERAL (${VIEW_OPTION_GROUPS}) AS og
 WHERE ${where.join(' AND ')}`,
    bindings,
  };
}

/**
 * A named (prepared) statement: PostgreSQL plans this one afresh each time otherwise, which costs as much as
 * running it. The name says which filters are set, so one name is always one SQL text (pg requires it).
 * Behind PgBouncer in transaction mode this needs its max_prepared_statements (PgBouncer 1.21 and later).
 */
function statementName(kind: string, filter: RecipeFilter): string {
  const shape = [
    filter.afterId,
    filter.category,
    filter.searchPattern,
    filter.available,
    (filter.excludeAllergens?.length ?? 0) > 0 || undefined,
    filter.dietary?.includes('vegan') || undefined,
    filter.dietary?.includes('vegetarian') || undefined,
  ]
    .map((v) => (v === undefined ? '0' : '1'))
    .join('');
  return `${kind}_${shape}_${filter.ids === undefined ? 'all' : 'ids'}`;
}

/** A page of the menu: `data` is the JSON text of its recipes (an array), `lastId` the last of them. */
export interface MenuPageRows {
  data: string;
  lastId: number | null;
  hasMore: boolean;
}

/**
 * The statement of a menu page of `limit` recipes, unexecuted: one row, the page's JSON text, its last id and
 * whether more recipes follow (it reads `limit + 1`). (Baseline B′ of the bench runs it as the service sent it,
 * captured from knex's `query` event.)
 */
function menuPageQuery(restaurantId: number, filter: RecipeFilter & { limit: number }, images: RecipeImageUrls): PreparedStatement {
  const page = recipeViews(restaurantId, filter, images, ', row_number() OVER (ORDER BY r.id) AS n');
  return {
    name: statementName('menu_page', filter),
    sql: `SELECT coalesce(json_agg(p.view ORDER BY p.n) FILTER (WHERE p.n <= ?), '[]'::json)::text AS data,
       max(p.id) FILTER (WHERE p.n <= ?) AS last_id, count(*) > ? AS has_more
  FROM (${page.sql} ORDER BY r.id LIMIT ?) AS p`,
    bindings: [filter.limit, filter.limit, filter.limit, ...page.bindings, filter.limit + 1],
  };
}

export async function selectMenuPage(
  db: Queryable,
  restaurantId: number,
  filter: RecipeFilter & { limit: number },
  images: RecipeImageUrls,
): Promise<MenuPageRows> {
  const result = await runPrepared<{ data: string; last_id: unknown; has_more: boolean }>(db, menuPageQuery(restaurantId, filter, images));
  const [row] = result.rows;
  if (row === undefined) throw new Error('the menu page statement returned no row');
  return { data: row.data, lastId: row.last_id === null ? null : Number(row.last_id), hasMore: row.has_more };
}

/** One active recipe as the API shows it, as JSON text; undefined when there is no such active recipe. */
export async function selectRecipeView(db: Queryable, restaurantId: number, id: number, images: RecipeImageUrls): Promise<string | undefined> {
  const filter = { ids: [id] };
  const views = recipeViews(restaurantId, filter, images);
  const result = await runPrepared<{ view: string }>(db, {
    name: statementName('recipe_view', filter),
    sql: `SELECT p.view::text AS view FROM (${views.sql}) AS p`,
    bindings: views.bindings,
  });
  return result.rows[0]?.view;
}
