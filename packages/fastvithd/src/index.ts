export * from './preprocess/index.js';
