export * from './status.js';
export * from './cycle_state.js';
export * from './resource.js';
export * from './node_info.js';
export * from './interfaces.js';
