export * from './cluster_writer.js';
export * from './configuration.js';
export * from './in_tree_registry.js';
export * from './scheduler.js';
