/**
 * The framework runtime: registries, profiles, the Framework that runs a profile's plugins, and the
 * algorithm that picks a node for one pod.
 */
export * from './registry.js';
export * from './profile.js';
export * from './framework.js';
export * from './placement.js';
export * from './schedule_one.js';
