import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { setRecipeImage } from '../src/modules/catalog/recipe-images.js';
import { loadSharp } from '../src/modules/media/images.js';
import type { MediaStore } from '../src/modules/media/store.js';
import type { DemoMenu, DemoRecipe } from './demo-restaurant.js';

/**
 * Pictures for the demo menus, drawn rather than shipped: each dish is a plate seen from above, its base
 * set by its category (a bun, a pizza, a bowl, a glass…) and a piece of every ingredient it is made of
 * in that ingredient's colour, so no two dishes look alike and a changed recipe draws itself anew. They
 * go through the same path as an upload (decoded, re-encoded as WebP renditions, stored in S3), so the demo
 * shows exactly what a manager's photo would.
 */

const WIDTH = 1200;
const HEIGHT = 900;

// The colour a kitchen would paint each ingredient, found by a word of its name (first match wins).
const INGREDIENT_COLOURS: ReadonlyArray<readonly [RegExp, string]> = [
  [/truffle|brownie|chocolate|espresso/i, '#4a2c1d'],
  [/beef|patty|bacon|salami/i, '#8b3a2b'],
  [/chicken|fillet|croutons/i, '#d9a441'],
  [/salmon/i, '#f08a5d'],
  [/tofu|mozzarella|vanilla|whipped|milk|mayonnaise|rice/i, '#f4efe1'],
  [/cheddar|parmesan|lemon|fries|dough/i, '#f2c14e'],
  [/sweet potato/i, '#e07a2f'],
  [/tomato|ketchup|jalape|red onion/i, '#d1362f'],
  [/lettuce|basil|mint|cucumber|edamame|avocado|pickle/i, '#5a9e3a'],
  [/mushroom/i, '#a38a6d'],
  [/bun|brioche/i, '#c98b3c'],
  [/sauce|dressing|syrup/i, '#e3b04b'],
  [/water|ice/i, '#bfe3f2'],
  [/salt|sesame/i, '#ece6d6'],
];

function colourOf(ingredient: string): string {
  for (const [pattern, colour] of INGREDIENT_COLOURS) if (pattern.test(ingredient)) return colour;
  // Any other ingredient gets a steady colour of its own, from its name.
  let hash = 0;
  for (const char of ingredient) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return `hsl(${hash % 360}, 55%, 55%)`;
}

// What the dish sits in or on, by category: the shape that says "burger" or "drink" at a glance.
function baseOf(category: string, cx: number, cy: number): string {
  switch (category) {
    case 'Burgers':
      return `<ellipse cx="${cx}" cy="${cy}" rx="210" ry="190" fill="#c98b3c"/><ellipse cx="${cx}" cy="${cy - 20}" rx="170" ry="140" fill="#d99a4a"/>`;
    case 'Pizza':
      return `<circle cx="${cx}" cy="${cy}" r="250" fill="#e8b86a"/><circle cx="${cx}" cy="${cy}" r="215" fill="#c7402d"/>`;
    case 'Bowls':
    case 'Salads':
      return `<circle cx="${cx}" cy="${cy}" r="255" fill="#2f5d62"/><circle cx="${cx}" cy="${cy}" r="225" fill="#f7f3ea"/>`;
    case 'Drinks':
      return `<circle cx="${cx}" cy="${cy}" r="200" fill="#d8eef5" stroke="#9cc9d9" stroke-width="18"/>`;
    case 'Desserts':
      return `<circle cx="${cx}" cy="${cy}" r="230" fill="#f3e1d2"/>`;
    default: {
      // A carton of sticks: fries, and any other side.
      const sticks = Array.from({ length: 9 }, (_, i) => {
        const x = cx - 150 + i * 36;
        return `<rect x="${x}" y="${cy - 200 + (i % 3) * 18}" width="24" height="220" rx="8" fill="#f2c14e" stroke="#d49a2a" stroke-width="4"/>`;
      }).join('');
      return `${sticks}<path d="M ${cx - 190} ${cy - 40} L ${cx + 190} ${cy - 40} L ${cx + 150} ${cy + 200} L ${cx - 150} ${cy + 200} Z" fill="#b23a3a"/>`;
    }
  }
}

/** The dish as SVG: a table, a plate, the base, then a piece per ingredient portion in a ring. */
export function demoPictureSvg(recipe: DemoRecipe): string {
  const cx = WIDTH / 2;
  const cy = HEIGHT / 2;
  const pieces: string[] = [];
  const portions = recipe.ingredients.flatMap((line) => Array.from({ length: Math.min(line.quantity, 4) }, () => line.ingredient));
  portions.forEach((ingredient, index) => {
    const angle = (index / portions.length) * 2 * Math.PI + recipe.name.length;
    const radius = portions.length === 1 ? 0 : 70 + (index % 3) * 45;
    const x = cx + Math.cos(angle) * radius;
    const y = cy + Math.sin(angle) * radius * 0.85;
    const size = 38 + ((index * 7 + recipe.name.length) % 4) * 8;
    pieces.push(
      `<ellipse cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" rx="${size}" ry="${(size * 0.8).toFixed(1)}" fill="${colourOf(ingredient)}" stroke="rgba(0,0,0,0.18)" stroke-width="4"/>`,
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#6b4f3a"/>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="none" stroke="#5a4230" stroke-width="60"/>`,
    `<circle cx="${cx + 12}" cy="${cy + 16}" r="320" fill="rgba(0,0,0,0.25)"/>`,
    `<circle cx="${cx}" cy="${cy}" r="320" fill="#fbfaf7"/><circle cx="${cx}" cy="${cy}" r="280" fill="#f1eee8"/>`,
    baseOf(recipe.category, cx, cy),
    ...pieces,
    '</svg>',
  ].join('');
}

export interface DemoPictureDeps {
  db: Knex;
  media: MediaStore;
  logger: Logger;
}

/**
 * Gives every recipe of a seeded demo restaurant that has no picture its drawn one. Recipes that have a
 * picture (drawn at an earlier start, or uploaded by a manager) are left alone, so this is cheap after the
 * first start and never overwrites a real photo. Stops between two dishes once `signal` aborts. Returns how
 * many pictures it drew.
 */
export async function seedDemoPictures(deps: DemoPictureDeps, domain: string, menu: DemoMenu, signal?: AbortSignal): Promise<number> {
  const restaurant: { id: number | string } | undefined = await deps.db('restaurants').first('id').where({ domain });
  if (restaurant === undefined) return 0;
  const restaurantId = Number(restaurant.id);
  const bare: Array<{ id: number | string; name: string }> = await deps
    .db('recipes')
    .select('id', 'name')
    .where({ restaurant_id: restaurantId })
    .whereNull('image_id')
    .whereNull('archived_at');
  let drawn = 0;
  for (const row of bare) {
    if (signal?.aborted === true) break;
    const recipe = menu.recipes.find((candidate) => candidate.name === row.name);
    if (recipe === undefined) continue; // a dish staff added: theirs to photograph
    const sharp = await loadSharp();
    const png = await sharp(Buffer.from(demoPictureSvg(recipe)))
      .png()
      .toBuffer();
    await setRecipeImage(deps, restaurantId, Number(row.id), { body: png, type: 'image/png' });
    drawn += 1;
  }
  return drawn;
}
