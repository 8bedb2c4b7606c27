import type { Knex } from 'knex';
import type { Allergen } from '../src/lib/allergens.js';

export const DEMO_DOMAIN = 'demo.localhost';

export interface DemoSeedResult {
  restaurantId: number;
  /** False when the restaurant already existed: its menu, stock and ledger were left as they were. */
  created: boolean;
}

export interface DemoSeedOptions {
  /** A Cognito user to make (or keep) manager of the demo restaurant. */
  manager?: { sub: string; email: string };
}

export interface DemoIngredient {
  name: string;
  description: string;
  unit: string;
  /** Per unit, in the restaurant's currency (EUR cents). */
  priceCents: number;
  stock: number;
  lowStockThreshold: number;
  /** EU allergens it contains, as a kitchen's allergen matrix would list them. */
  allergens: readonly Allergen[];
  /** vegan implies vegetarian. */
  diet: 'vegan' | 'vegetarian' | 'neither';
}

export interface DemoRecipeLine {
  /** The ingredient's name in the same menu. */
  ingredient: string;
  quantity: number;
  removable?: boolean;
  maxQuantity?: number;
}

export interface DemoOption {
  name: string;
  priceCents: number;
  ingredients: ReadonlyArray<{ ingredient: string; quantity: number }>;
  default?: boolean;
}

export interface DemoOptionGroup {
  name: string;
  minSelect: number;
  maxSelect: number;
  options: readonly DemoOption[];
}

export interface DemoRecipe {
  name: string;
  description: string;
  category: string;
  ingredients: readonly DemoRecipeLine[];
  optionGroups?: readonly DemoOptionGroup[];
}

export interface DemoMenu {
  ingredients: readonly DemoIngredient[];
  recipes: readonly DemoRecipe[];
}

export const DEMO_RESTAURANT = {
  domain: DEMO_DOMAIN,
  name: 'Tablekit Demo Kitchen',
  currency: 'EUR',
  timezone: 'Europe/Berlin',
} as const;

const ingredients: readonly DemoIngredient[] = [
  // Burgers
  {
    name: 'Sesame bun',
    unit: 'piece',
    priceCents: 100,
    stock: 100,
    lowStockThreshold: 20,
    description: 'Wheat bun topped with sesame seeds; no egg or dairy.',
    allergens: ['gluten', 'sesame'],
    diet: 'vegan',
  },
  {
    name: 'Brioche bun',
    unit: 'piece',
    priceCents: 100,
    stock: 120,
    lowStockThreshold: 25,
    description: 'Soft butter brioche bun, toasted to order.',
    allergens: ['eggs', 'gluten', 'milk'],
    diet: 'vegetarian',
  },
  {
    name: 'Beef patty',
    unit: 'piece',
    priceCents: 650,
    stock: 90,
    lowStockThreshold: 20,
    description: '180 g dry-aged beef, ground in house each morning.',
    allergens: [],
    diet: 'neither',
  },
  {
    name: 'Crispy chicken fillet',
    unit: 'piece',
    priceCents: 690,
    stock: 60,
    lowStockThreshold: 12,
    description: 'Buttermilk-marinated chicken thigh, fried crisp.',
    allergens: ['eggs', 'gluten', 'milk'],
    diet: 'neither',
  },
  {
    name: 'Plant-based patty',
    unit: 'piece',
    priceCents: 690,
    stock: 30,
    lowStockThreshold: 8,
    description: 'Pea-protein patty, vegan.',
    allergens: [],
    diet: 'vegan',
  },
  {
    name: 'Cheddar',
    unit: 'slice',
    priceCents: 120,
    stock: 240,
    lowStockThreshold: 50,
    description: 'Mature cheddar, made with vegetarian rennet.',
    allergens: ['milk'],
    diet: 'vegetarian',
  },
  {
    name: 'Bacon',
    unit: 'slice',
    priceCents: 90,
    stock: 160,
    lowStockThreshold: 30,
    description: 'Beech-smoked streaky bacon.',
    allergens: [],
    diet: 'neither',
  },
  { name: 'Lettuce', unit: 'portion', priceCents: 30, stock: 150, lowStockThreshold: 30, description: 'Crisp romaine leaves.', allergens: [], diet: 'vegan' },
  { name: 'Tomato', unit: 'slice', priceCents: 25, stock: 300, lowStockThreshold: 60, description: 'Ripe vine tomato.', allergens: [], diet: 'vegan' },
  {
    name: 'Red onion',
    unit: 'portion',
    priceCents: 25,
    stock: 120,
    lowStockThreshold: 25,
    description: 'Thinly sliced red onion.',
    allergens: [],
    diet: 'vegan',
  },
  {
    name: 'Pickles',
    unit: 'portion',
    priceCents: 30,
    stock: 100,
    lowStockThreshold: 20,
    description: 'House-brined dill pickle slices.',
    allergens: ['mustard'],
    diet: 'vegan',
  },
  {
    name: 'House burger sauce',
    unit: 'portion',
    priceCents: 40,
    stock: 200,
    lowStockThreshold: 40,
    description: 'Smoky mayonnaise with mustard and gherkin.',
    allergens: ['eggs', 'mustard'],
    diet: 'vegetarian',
  },
  {
    name: 'Jalapeños',
    unit: 'portion',
    priceCents: 50,
    stock: 80,
    lowStockThreshold: 15,
    description: 'Pickled green jalapeño slices. Hot.',
    allergens: [],
    diet: 'vegan',
  },
  // Used by the Truffle Burger alone, and out of stock: the demo's sold-out dish.
  {
    name: 'Black truffle',
    unit: 'portion',
    priceCents: 380,
    stock: 0,
    lowStockThreshold: 4,
    description: 'Shaved Périgord black truffle, 3 g.',
    allergens: [],
    diet: 'vegan',
  },
  {
    name: 'Mushrooms',
    unit: 'portion',
    priceCents: 150,
    stock: 60,
    lowStockThreshold: 12,
    description: 'Brown mushrooms sautéed in butter and thyme.',
    allergens: ['milk'],
    diet: 'vegetarian',
  },
  // Pizza
  {
    name: 'Pizza dough',
    unit: 'piece',
    priceCents: 450,
    stock: 70,
    lowStockThreshold: 15,
    description: '48-hour fermented dough ball for one 30 cm pizza.',
    allergens: ['gluten'],
    diet: 'vegan',
  },
  {
    name: 'Tomato sauce',
    unit: 'portion',
    priceCents: 150,
    stock: 90,
    lowStockThreshold: 20,
    description: 'San Marzano tomatoes, salt, olive oil.',
    allergens: [],
    diet: 'vegan',
  },
  {
    name: 'Mozzarella',
    unit: '100 g',
    priceCents: 300,
    stock: 100,
    lowStockThreshold: 20,
    description: 'Fior di latte mozzarella.',
    allergens: ['milk'],
    diet: 'vegetarian',
  },
  {
    name: 'Spicy salami',
    unit: 'portion',
    priceCents: 280,
    stock: 50,
    lowStockThreshold: 10,
    description: 'Calabrian salami with chilli.',
    allergens: [],
    diet: 'neither',
  },
  {
    name: 'Fresh basil',
    unit: 'portion',
    priceCents: 50,
    stock: 60,
    lowStockThreshold: 12,
    description: 'A handful of basil leaves.',
    allergens: [],
    diet: 'vegan',
  },
  // Parmigiano Reggiano is made with animal rennet: not vegetarian.
  {
    name: 'Parmesan',
    unit: 'portion',
    priceCents: 120,
    stock: 80,
    lowStockThreshold: 15,
    description: 'Parmigiano Reggiano aged 24 months, shaved.',
    allergens: ['milk'],
    diet: 'neither',
  },
  // Bowls and salads
  {
    name: 'Jasmine rice',
    unit: 'portion',
    priceCents: 250,
    stock: 80,
    lowStockThreshold: 15,
    description: 'Steamed jasmine rice, lightly seasoned.',
    allergens: [],
    diet: 'vegan',
  },
  {
    name: 'Salmon',
    unit: '100 g',
    priceCents: 650,
    stock: 40,
    lowStockThreshold: 8,
    description: 'Sashimi-grade Norwegian salmon, diced.',
    allergens: ['fish'],
    diet: 'neither',
  },
  {
    name: 'Marinated tofu',
    unit: '100 g',
    priceCents: 380,
    stock: 35,
    lowStockThreshold: 8,
    description: 'Firm tofu in soy, ginger and sesame.',
    allergens: ['gluten', 'sesame', 'soya'],
    diet: 'vegan',
  },
  {
    name: 'Avocado',
    unit: 'half',
    priceCents: 200,
    stock: 60,
    lowStockThreshold: 12,
    description: 'Half a ripe Hass avocado, sliced.',
    allergens: [],
    diet: 'vegan',
  },
  {
    name: 'Edamame',
    unit: 'portion',
    priceCents: 120,
    stock: 60,
    lowStockThreshold: 12,
    description: 'Shelled soy beans.',
    allergens: ['soya'],
    diet: 'vegan',
  },
  {
    name: 'Cucumber',
    unit: 'portion',
    priceCents: 60,
    stock: 100,
    lowStockThreshold: 20,
    description: 'Crunchy cucumber slices.',
    allergens: [],
    diet: 'vegan',
  },
  {
    name: 'Sesame dressing',
    unit: 'portion',
    priceCents: 60,
    stock: 90,
    lowStockThreshold: 20,
    description: 'Toasted sesame, rice vinegar and soy.',
    allergens: ['gluten', 'sesame', 'soya'],
    diet: 'vegan',
  },
  {
    name: 'Croutons',
    unit: 'portion',
    priceCents: 60,
    stock: 70,
    lowStockThreshold: 15,
    description: 'Sourdough croutons baked with garlic.',
    allergens: ['gluten'],
    diet: 'vegan',
  },
  {
    name: 'Caesar dressing',
    unit: 'portion',
    priceCents: 70,
    stock: 70,
    lowStockThreshold: 15,
    description: 'Anchovy, garlic, lemon and parmesan.',
    allergens: ['eggs', 'fish', 'milk', 'mustard'],
    diet: 'neither',
  },
  // Sides
  {
    name: 'Fries',
    unit: 'portion',
    priceCents: 380,
    stock: 150,
    lowStockThreshold: 30,
    description: 'Hand-cut potatoes, fried twice, sea salt.',
    allergens: [],
    diet: 'vegan',
  },
  {
    name: 'Sweet potato fries',
    unit: 'portion',
    priceCents: 450,
    stock: 60,
    lowStockThreshold: 12,
    description: 'Sweet potato wedges with smoked paprika.',
    allergens: [],
    diet: 'vegan',
  },
  { name: 'Sea salt', unit: 'pinch', priceCents: 5, stock: 500, lowStockThreshold: 50, description: 'Flaky Maldon sea salt.', allergens: [], diet: 'vegan' },
  { name: 'Ketchup', unit: 'portion', priceCents: 30, stock: 300, lowStockThreshold: 50, description: 'Tomato ketchup.', allergens: [], diet: 'vegan' },
  {
    name: 'Mayonnaise',
    unit: 'portion',
    priceCents: 30,
    stock: 300,
    lowStockThreshold: 50,
    description: 'Free-range egg mayonnaise.',
    allergens: ['eggs', 'mustard'],
    diet: 'vegetarian',
  },
  // Drinks
  {
    name: 'Espresso',
    unit: 'shot',
    priceCents: 180,
    stock: 500,
    lowStockThreshold: 80,
    description: 'A double-ristretto shot of our house blend.',
    allergens: [],
    diet: 'vegan',
  },
  {
    name: 'Milk',
    unit: '100 ml',
    priceCents: 60,
    stock: 400,
    lowStockThreshold: 80,
    description: 'Whole organic milk, steamed or cold.',
    allergens: ['milk'],
    diet: 'vegetarian',
  },
  { name: 'Ice', unit: 'portion', priceCents: 10, stock: 600, lowStockThreshold: 100, description: 'A scoop of ice cubes.', allergens: [], diet: 'vegan' },
  { name: 'Cane syrup', unit: 'shot', priceCents: 50, stock: 120, lowStockThreshold: 25, description: 'Raw cane sugar syrup.', allergens: [], diet: 'vegan' },
  {
    name: 'Lemon juice',
    unit: 'shot',
    priceCents: 120,
    stock: 100,
    lowStockThreshold: 20,
    description: 'Freshly squeezed lemon juice.',
    allergens: [],
    diet: 'vegan',
  },
  {
    name: 'Sparkling water',
    unit: '250 ml',
    priceCents: 100,
    stock: 120,
    lowStockThreshold: 24,
    description: 'Chilled sparkling mineral water.',
    allergens: [],
    diet: 'vegan',
  },
  { name: 'Fresh mint', unit: 'sprig', priceCents: 30, stock: 80, lowStockThreshold: 15, description: 'A sprig of garden mint.', allergens: [], diet: 'vegan' },
  // Desserts
  {
    name: 'Chocolate brownie',
    unit: 'piece',
    priceCents: 380,
    stock: 24,
    lowStockThreshold: 6,
    description: 'Fudgy dark chocolate brownie, baked daily.',
    allergens: ['eggs', 'gluten', 'milk', 'soya'],
    diet: 'vegetarian',
  },
  {
    name: 'Vanilla ice cream',
    unit: 'scoop',
    priceCents: 180,
    stock: 120,
    lowStockThreshold: 25,
    description: 'Madagascar vanilla ice cream.',
    allergens: ['eggs', 'milk'],
    diet: 'vegetarian',
  },
  {
    name: 'Chocolate sauce',
    unit: 'portion',
    priceCents: 50,
    stock: 80,
    lowStockThreshold: 15,
    description: 'Warm dark chocolate sauce.',
    allergens: ['milk', 'soya'],
    diet: 'vegetarian',
  },
  {
    name: 'Whipped cream',
    unit: 'portion',
    priceCents: 60,
    stock: 60,
    lowStockThreshold: 12,
    description: 'Lightly sweetened whipped cream.',
    allergens: ['milk'],
    diet: 'vegetarian',
  },
];

// Option groups the burgers share (each recipe gets its own copy in the database).
const burgerSize: DemoOptionGroup = {
  name: 'Size',
  minSelect: 1,
  maxSelect: 1,
  options: [
    { name: 'Single', priceCents: 0, ingredients: [], default: true },
    {
      name: 'Double',
      priceCents: 750,
      ingredients: [
        { ingredient: 'Beef patty', quantity: 1 },
        { ingredient: 'Cheddar', quantity: 1 },
      ],
    },
  ],
};

const addASide: DemoOptionGroup = {
  name: 'Add a side',
  minSelect: 0,
  maxSelect: 2,
  options: [
    { name: 'Fries', priceCents: 350, ingredients: [{ ingredient: 'Fries', quantity: 1 }] },
    { name: 'Sweet potato fries', priceCents: 420, ingredients: [{ ingredient: 'Sweet potato fries', quantity: 1 }] },
    // Shares the lettuce and tomato with the burger: both are reserved together at checkout.
    {
      name: 'Side salad',
      priceCents: 300,
      ingredients: [
        { ingredient: 'Lettuce', quantity: 1 },
        { ingredient: 'Tomato', quantity: 2 },
        { ingredient: 'Cucumber', quantity: 1 },
      ],
    },
  ],
};

const recipes: readonly DemoRecipe[] = [
  {
    name: 'Classic Cheeseburger',
    category: 'Burgers',
    description: 'Beef, cheddar, lettuce, tomato, red onion and house sauce on a sesame bun.',
    ingredients: [
      { ingredient: 'Sesame bun', quantity: 1 },
      { ingredient: 'Beef patty', quantity: 1 },
      { ingredient: 'Cheddar', quantity: 1, removable: true, maxQuantity: 3 },
      { ingredient: 'Lettuce', quantity: 1, removable: true },
      { ingredient: 'Tomato', quantity: 2, removable: true, maxQuantity: 4 },
      { ingredient: 'Red onion', quantity: 1, removable: true },
      { ingredient: 'House burger sauce', quantity: 1, removable: true, maxQuantity: 3 },
    ],
    optionGroups: [burgerSize, addASide],
  },
  {
    name: 'Bacon Cheeseburger',
    category: 'Burgers',
    description: 'Beef, cheddar, smoked bacon, pickles, red onion and house sauce.',
    ingredients: [
      { ingredient: 'Brioche bun', quantity: 1 },
      { ingredient: 'Beef patty', quantity: 1 },
      { ingredient: 'Cheddar', quantity: 1, removable: true, maxQuantity: 3 },
      { ingredient: 'Bacon', quantity: 2, removable: true, maxQuantity: 4 },
      { ingredient: 'Pickles', quantity: 1, removable: true },
      { ingredient: 'Red onion', quantity: 1, removable: true },
      { ingredient: 'House burger sauce', quantity: 1, removable: true, maxQuantity: 3 },
    ],
    optionGroups: [burgerSize, addASide],
  },
  {
    name: 'Crispy Chicken Burger',
    category: 'Burgers',
    description: 'Buttermilk fried chicken, lettuce, tomato, jalapeños and house sauce.',
    ingredients: [
      { ingredient: 'Brioche bun', quantity: 1 },
      { ingredient: 'Crispy chicken fillet', quantity: 1 },
      { ingredient: 'Lettuce', quantity: 1, removable: true },
      { ingredient: 'Tomato', quantity: 1, removable: true, maxQuantity: 3 },
      { ingredient: 'Jalapeños', quantity: 1, removable: true, maxQuantity: 3 },
      { ingredient: 'House burger sauce', quantity: 1, removable: true, maxQuantity: 3 },
    ],
    optionGroups: [addASide],
  },
  {
    name: 'Garden Burger',
    category: 'Burgers',
    description: 'Plant-based patty, avocado, lettuce, tomato and red onion on a sesame bun. Vegan.',
    ingredients: [
      { ingredient: 'Sesame bun', quantity: 1 },
      { ingredient: 'Plant-based patty', quantity: 1 },
      { ingredient: 'Avocado', quantity: 1, removable: true, maxQuantity: 2 },
      { ingredient: 'Lettuce', quantity: 1, removable: true },
      { ingredient: 'Tomato', quantity: 2, removable: true, maxQuantity: 4 },
      { ingredient: 'Red onion', quantity: 1, removable: true },
    ],
    optionGroups: [addASide],
  },
  {
    name: 'Truffle Burger',
    category: 'Burgers',
    description: 'Beef, shaved black truffle, butter mushrooms and parmesan.',
    ingredients: [
      { ingredient: 'Brioche bun', quantity: 1 },
      { ingredient: 'Beef patty', quantity: 1 },
      { ingredient: 'Black truffle', quantity: 1 },
      { ingredient: 'Mushrooms', quantity: 1, removable: true, maxQuantity: 2 },
      { ingredient: 'Parmesan', quantity: 1, removable: true },
    ],
  },
  {
    name: 'Pizza Margherita',
    category: 'Pizza',
    description: 'Tomato, fior di latte mozzarella and fresh basil.',
    ingredients: [
      { ingredient: 'Pizza dough', quantity: 1 },
      { ingredient: 'Tomato sauce', quantity: 1 },
      { ingredient: 'Mozzarella', quantity: 1, maxQuantity: 3 },
      { ingredient: 'Fresh basil', quantity: 1, removable: true },
    ],
  },
  {
    name: 'Pizza Diavola',
    category: 'Pizza',
    description: 'Tomato, mozzarella, spicy salami and jalapeños.',
    ingredients: [
      { ingredient: 'Pizza dough', quantity: 1 },
      { ingredient: 'Tomato sauce', quantity: 1 },
      { ingredient: 'Mozzarella', quantity: 1, maxQuantity: 3 },
      { ingredient: 'Spicy salami', quantity: 1, maxQuantity: 2 },
      { ingredient: 'Jalapeños', quantity: 1, removable: true, maxQuantity: 3 },
    ],
  },
  {
    name: 'Pizza Funghi',
    category: 'Pizza',
    description: 'Tomato, mozzarella, butter mushrooms and shaved parmesan.',
    ingredients: [
      { ingredient: 'Pizza dough', quantity: 1 },
      { ingredient: 'Tomato sauce', quantity: 1 },
      { ingredient: 'Mozzarella', quantity: 1, maxQuantity: 3 },
      { ingredient: 'Mushrooms', quantity: 1, maxQuantity: 2 },
      { ingredient: 'Parmesan', quantity: 1, removable: true },
    ],
  },
  {
    name: 'Salmon Poke Bowl',
    category: 'Bowls',
    description: 'Salmon on jasmine rice with avocado, edamame, cucumber and sesame.',
    ingredients: [
      { ingredient: 'Jasmine rice', quantity: 1 },
      { ingredient: 'Salmon', quantity: 1, maxQuantity: 2 },
      { ingredient: 'Avocado', quantity: 1, removable: true, maxQuantity: 2 },
      { ingredient: 'Edamame', quantity: 1, removable: true },
      { ingredient: 'Cucumber', quantity: 1, removable: true },
      { ingredient: 'Sesame dressing', quantity: 1, removable: true, maxQuantity: 2 },
    ],
  },
  {
    name: 'Tofu Poke Bowl',
    category: 'Bowls',
    description: 'Marinated tofu on jasmine rice with avocado, edamame and cucumber.',
    ingredients: [
      { ingredient: 'Jasmine rice', quantity: 1 },
      { ingredient: 'Marinated tofu', quantity: 1, maxQuantity: 2 },
      { ingredient: 'Avocado', quantity: 1, removable: true, maxQuantity: 2 },
      { ingredient: 'Edamame', quantity: 1, removable: true },
      { ingredient: 'Cucumber', quantity: 1, removable: true },
      { ingredient: 'Sesame dressing', quantity: 1, removable: true, maxQuantity: 2 },
    ],
  },
  {
    name: 'Chicken Caesar Salad',
    category: 'Salads',
    description: 'Romaine, crispy chicken, bacon, croutons, parmesan, Caesar dressing.',
    ingredients: [
      { ingredient: 'Lettuce', quantity: 3 },
      { ingredient: 'Crispy chicken fillet', quantity: 1 },
      { ingredient: 'Bacon', quantity: 1, removable: true, maxQuantity: 3 },
      { ingredient: 'Croutons', quantity: 1, removable: true },
      { ingredient: 'Parmesan', quantity: 1, removable: true, maxQuantity: 2 },
      { ingredient: 'Caesar dressing', quantity: 1, removable: true, maxQuantity: 2 },
    ],
  },
  {
    name: 'Side Salad',
    category: 'Salads',
    description: 'Lettuce, tomato, cucumber and red onion with sesame dressing.',
    ingredients: [
      { ingredient: 'Lettuce', quantity: 2 },
      { ingredient: 'Tomato', quantity: 2 },
      { ingredient: 'Cucumber', quantity: 2 },
      { ingredient: 'Red onion', quantity: 1, removable: true },
      { ingredient: 'Sesame dressing', quantity: 1, removable: true, maxQuantity: 2 },
    ],
  },
  {
    name: 'Fries',
    category: 'Sides',
    description: 'Hand-cut fries with sea salt and a sauce of your choice.',
    ingredients: [
      { ingredient: 'Fries', quantity: 1 },
      { ingredient: 'Sea salt', quantity: 1, removable: true },
    ],
    optionGroups: [
      {
        name: 'Choose a sauce',
        minSelect: 1,
        maxSelect: 1,
        options: [
          { name: 'Ketchup', priceCents: 0, ingredients: [{ ingredient: 'Ketchup', quantity: 1 }], default: true },
          { name: 'Mayonnaise', priceCents: 0, ingredients: [{ ingredient: 'Mayonnaise', quantity: 1 }] },
          { name: 'House burger sauce', priceCents: 40, ingredients: [{ ingredient: 'House burger sauce', quantity: 1 }] },
        ],
      },
    ],
  },
  {
    name: 'Sweet Potato Fries',
    category: 'Sides',
    description: 'Sweet potato fries with smoked paprika and mayonnaise.',
    ingredients: [
      { ingredient: 'Sweet potato fries', quantity: 1 },
      { ingredient: 'Mayonnaise', quantity: 1, removable: true, maxQuantity: 3 },
    ],
  },
  {
    name: 'Cappuccino',
    category: 'Drinks',
    description: 'Espresso with steamed milk.',
    ingredients: [
      { ingredient: 'Espresso', quantity: 1, maxQuantity: 2 },
      { ingredient: 'Milk', quantity: 2 },
    ],
  },
  {
    name: 'Iced Latte',
    category: 'Drinks',
    description: 'Espresso over ice with cold milk, sweetened to taste.',
    ingredients: [
      { ingredient: 'Espresso', quantity: 1, maxQuantity: 2 },
      { ingredient: 'Milk', quantity: 2 },
      { ingredient: 'Ice', quantity: 1, removable: true },
      { ingredient: 'Cane syrup', quantity: 1, removable: true, maxQuantity: 2 },
    ],
  },
  {
    name: 'Homemade Lemonade',
    category: 'Drinks',
    description: 'Fresh lemon, cane syrup, sparkling water and mint.',
    ingredients: [
      { ingredient: 'Lemon juice', quantity: 1, maxQuantity: 2 },
      { ingredient: 'Cane syrup', quantity: 1, removable: true, maxQuantity: 2 },
      { ingredient: 'Sparkling water', quantity: 1 },
      { ingredient: 'Fresh mint', quantity: 1, removable: true },
      { ingredient: 'Ice', quantity: 1, removable: true },
    ],
  },
  {
    name: 'Brownie Sundae',
    category: 'Desserts',
    description: 'Warm brownie, vanilla ice cream, chocolate sauce and whipped cream.',
    ingredients: [
      { ingredient: 'Chocolate brownie', quantity: 1 },
      { ingredient: 'Vanilla ice cream', quantity: 1, maxQuantity: 3 },
      { ingredient: 'Chocolate sauce', quantity: 1, removable: true, maxQuantity: 2 },
      { ingredient: 'Whipped cream', quantity: 1, removable: true },
    ],
  },
  {
    name: 'Affogato',
    category: 'Desserts',
    description: 'Vanilla ice cream drowned in a hot espresso shot.',
    ingredients: [
      { ingredient: 'Vanilla ice cream', quantity: 1, maxQuantity: 2 },
      { ingredient: 'Espresso', quantity: 1, maxQuantity: 2 },
    ],
  },
];

export const DEMO_MENU: DemoMenu = { ingredients, recipes };

/**
 * Throws, naming the recipe, when the menu cannot be inserted as written: a recipe naming an ingredient the
 * menu lacks, or two ingredients or recipes sharing a name (the database would reject those less clearly).
 */
export function assertDemoMenuConsistent(menu: DemoMenu): void {
  const ingredientNames = new Set<string>();
  for (const ingredient of menu.ingredients) {
    const key = ingredient.name.toLowerCase();
    if (ingredientNames.has(key)) throw new Error(`Demo menu: ingredient "${ingredient.name}" is listed twice`);
    ingredientNames.add(key);
  }
  const recipeNames = new Set<string>();
  for (const recipe of menu.recipes) {
    const key = recipe.name.toLowerCase();
    if (recipeNames.has(key)) throw new Error(`Demo menu: recipe "${recipe.name}" is listed twice`);
    recipeNames.add(key);
    const optionLines = (recipe.optionGroups ?? []).flatMap((group) => group.options.flatMap((option) => option.ingredients));
    for (const line of [...recipe.ingredients, ...optionLines]) {
      if (!ingredientNames.has(line.ingredient.toLowerCase())) {
        throw new Error(`Demo menu: recipe "${recipe.name}" uses unknown ingredient "${line.ingredient}"`);
      }
    }
  }
}

/** A seeded restaurant: its row, its menu and, optionally, what to do once more when it is first created. */
export interface SeedRestaurantSpec {
  restaurant: { domain: string; name: string; currency: string; timezone: string };
  menu: DemoMenu;
  /** Runs in the creating transaction, after the menu (e.g. opening hours). */
  afterCreate?: (trx: Knex.Transaction, restaurantId: number) => Promise<void>;
}

/**
 * Creates the demo restaurant with its menu, opening stock and ledger, once. A later run (or a concurrent
 * one that lost the race for the domain) leaves the menu alone, so stock staff have changed is kept; it
 * only makes sure the given manager holds the manager role.
 */
export async function seedDemoRestaurant(knex: Knex, options: DemoSeedOptions = {}): Promise<DemoSeedResult> {
  return seedRestaurant(knex, { restaurant: DEMO_RESTAURANT, menu: DEMO_MENU }, options);
}

/** `seedDemoRestaurant` for any restaurant and menu: created once, then only its manager is kept in place. */
export async function seedRestaurant(knex: Knex, spec: SeedRestaurantSpec, options: DemoSeedOptions = {}): Promise<DemoSeedResult> {
  assertDemoMenuConsistent(spec.menu);
  // Only `trx` inside: on PGlite the transaction holds the single connection and `knex` would wait for ever.
  return knex.transaction(async (trx) => {
    // The unique domain decides which of two concurrent seeders creates the menu: the loser waits for the
    // winner's commit here and then inserts nothing.
    const inserted: Array<{ id: number | string }> = await trx('restaurants').insert(spec.restaurant).onConflict('domain').ignore().returning('id');
    const created = inserted[0] !== undefined;
    const restaurantId = created ? Number(inserted[0]?.id) : await existingRestaurantId(trx, spec.restaurant.domain);

    if (created) {
      await insertMenu(trx, restaurantId, spec.menu);
      await spec.afterCreate?.(trx, restaurantId);
    }
    if (options.manager !== undefined) await ensureManager(trx, restaurantId, options.manager);
    return { restaurantId, created };
  });
}

/** The named recipes of a menu and just the ingredients they use, for a smaller menu made of the same dishes. */
export function menuOf(menu: DemoMenu, recipeNames: readonly string[]): DemoMenu {
  const recipes = recipeNames.map((name) => {
    const recipe = menu.recipes.find((candidate) => candidate.name === name);
    if (recipe === undefined) throw new Error(`Demo menu: no recipe "${name}" to take`);
    return recipe;
  });
  const used = new Set(recipes.flatMap((recipe) => recipe.ingredients.map((line) => line.ingredient.toLowerCase())));
  return { ingredients: menu.ingredients.filter((ingredient) => used.has(ingredient.name.toLowerCase())), recipes };
}

async function existingRestaurantId(trx: Knex.Transaction, domain: string): Promise<number> {
  const row: { id: number | string } | undefined = await trx('restaurants').first('id').where({ domain });
  if (row === undefined) throw new Error(`Demo seed: restaurant ${domain} neither inserted nor found`);
  return Number(row.id);
}

async function insertMenu(trx: Knex.Transaction, restaurantId: number, menu: DemoMenu): Promise<void> {
  const ingredientRows: Array<{ id: number | string; name: string }> = await trx('ingredients')
    .insert(
      menu.ingredients.map((ingredient) => ({
        restaurant_id: restaurantId,
        name: ingredient.name,
        description: ingredient.description,
        unit: ingredient.unit,
        price_cents: ingredient.priceCents,
        stock: ingredient.stock,
        low_stock_threshold: ingredient.lowStockThreshold,
        allergens: [...ingredient.allergens],
        vegan: ingredient.diet === 'vegan',
        vegetarian: ingredient.diet !== 'neither',
      })),
    )
    .returning(['id', 'name']);
  const ingredientIds = idsByName(ingredientRows);

  const recipeRows: Array<{ id: number | string; name: string }> = await trx('recipes')
    .insert(
      menu.recipes.map((recipe) => ({
        restaurant_id: restaurantId,
        name: recipe.name,
        description: recipe.description,
        category: recipe.category,
      })),
    )
    .returning(['id', 'name']);
  const recipeIds = idsByName(recipeRows);

  await trx('recipe_ingredients').insert(
    menu.recipes.flatMap((recipe) =>
      recipe.ingredients.map((line) => ({
        restaurant_id: restaurantId,
        recipe_id: lookUp(recipeIds, recipe.name, 'recipe'),
        ingredient_id: lookUp(ingredientIds, line.ingredient, `ingredient of recipe "${recipe.name}"`),
        quantity: line.quantity,
        removable: line.removable ?? false,
        max_quantity: line.maxQuantity ?? null,
      })),
    ),
  );

  for (const recipe of menu.recipes) {
    const recipeId = lookUp(recipeIds, recipe.name, 'recipe');
    for (const [position, group] of (recipe.optionGroups ?? []).entries()) {
      const [groupRow]: Array<{ id: number | string }> = await trx('recipe_option_groups')
        .insert({ restaurant_id: restaurantId, recipe_id: recipeId, name: group.name, min_select: group.minSelect, max_select: group.maxSelect, position })
        .returning('id');
      for (const [optionPosition, option] of group.options.entries()) {
        const [optionRow]: Array<{ id: number | string }> = await trx('recipe_options')
          .insert({
            restaurant_id: restaurantId,
            recipe_id: recipeId,
            group_id: Number(groupRow?.id),
            name: option.name,
            price_cents: option.priceCents,
            is_default: option.default ?? false,
            position: optionPosition,
          })
          .returning('id');
        if (option.ingredients.length > 0) {
          await trx('recipe_option_ingredients').insert(
            option.ingredients.map((line) => ({
              restaurant_id: restaurantId,
              option_id: Number(optionRow?.id),
              ingredient_id: lookUp(ingredientIds, line.ingredient, `ingredient of an option of "${recipe.name}"`),
              quantity: line.quantity,
            })),
          );
        }
      }
    }
  }

  // The ledger must sum to the stock, so the opening stock is a movement like any later restock.
  const openingStock = menu.ingredients
    .filter((ingredient) => ingredient.stock > 0)
    .map((ingredient) => ({
      restaurant_id: restaurantId,
      ingredient_id: lookUp(ingredientIds, ingredient.name, 'ingredient'),
      delta: ingredient.stock,
      reason: 'restock' as const,
      stock_after: ingredient.stock,
      order_id: null,
      user_sub: null,
      note: 'Opening stock',
    }));
  if (openingStock.length > 0) await trx('inventory_movements').insert(openingStock);
}

async function ensureManager(trx: Knex.Transaction, restaurantId: number, manager: { sub: string; email: string }): Promise<void> {
  // Touches the row only when it differs, so a repeated seed leaves it (and its updated_at) as it was.
  await trx.raw(
    `INSERT INTO staff_members (restaurant_id, user_sub, email, role) VALUES (?, ?, ?, 'manager')
     ON CONFLICT (restaurant_id, user_sub) DO UPDATE SET email = excluded.email, role = excluded.role, updated_at = now()
     WHERE (staff_members.email, staff_members.role) IS DISTINCT FROM (excluded.email, excluded.role)`,
    [restaurantId, manager.sub, manager.email],
  );
}

function idsByName(rows: ReadonlyArray<{ id: number | string; name: string }>): Map<string, number> {
  return new Map(rows.map((row) => [row.name.toLowerCase(), Number(row.id)]));
}

function lookUp(ids: Map<string, number>, name: string, what: string): number {
  const id = ids.get(name.toLowerCase());
  if (id === undefined) throw new Error(`Demo seed: unknown ${what} "${name}"`);
  return id;
}
