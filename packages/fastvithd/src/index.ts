export * from './preprocess/index.js';
export * from './model/index.js';
