import type { Mount } from '../runtime/runtime.js';

/**
 * Where each container of a pod gets its volumes: container name → its mounts, in the order of its
 * `volumeMounts` (init and ephemeral containers included). A container without volumeMounts has an
 * empty list (or no entry).
 */
export type VolumeMounts = Readonly<Record<string, readonly Mount[]>>;
