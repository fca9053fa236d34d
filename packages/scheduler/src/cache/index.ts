export * from './node_tree.js';
export * from './snapshot.js';
export * from './cache.js';
