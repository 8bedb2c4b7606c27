/**
 * The 14 allergens EU Regulation 1169/2011 (Annex II) requires a menu to declare, by the names API.md
 * uses, and the diets a dish can be marked with. Shared by the catalog (ingredients, recipes) and the
 * customers' saved preferences.
 */
export const ALLERGENS = [
  'celery',
  'gluten',
  'crustaceans',
  'eggs',
  'fish',
  'lupin',
  'milk',
  'molluscs',
  'mustard',
  'tree_nuts',
  'peanuts',
  'sesame',
  'soya',
  'sulphites',
] as const;

export type Allergen = (typeof ALLERGENS)[number];

export const DIETS = ['vegan', 'vegetarian'] as const;

export type Diet = (typeof DIETS)[number];

export const isAllergen = (value: string): value is Allergen => (ALLERGENS as readonly string[]).includes(value);

/** Each allergen once, in a fixed (alphabetical) order, so equal sets compare and display equal. */
export function allergenSet(values: Iterable<Allergen>): Allergen[] {
  return [...new Set(values)].sort();
}

/** What a guest wants the menu filtered by: saved on the customer, or sent in the menu's query. */
export interface MenuPreferences {
  exclude_allergens: Allergen[];
  dietary: Diet[];
}
