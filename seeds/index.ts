export * from './demo-restaurant.js';
