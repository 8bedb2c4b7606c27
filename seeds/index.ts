export * from './demo-restaurant.js';
export * from './bistro-restaurant.js';
