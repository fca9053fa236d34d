import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { AGE_COLUMN, NAME_COLUMN, column, metadataOf } from './format.js';
import { timeSince } from './human_duration.js';
import type { Printer } from './types.js';

/** NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE, "N/A" for the bound not set. */
export const podDisruptionBudgetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Min Available', 'string', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    AGE_COLUMN,
  ],
  cells: (object, now) => {
    const budget = object as PodDisruptionBudget;
    const metadata = metadataOf(object);
    const bound = (value: number | string | undefined): string => (value === undefined || value === null ? 'N/A' : String(value));
    return [
      metadata.name ?? '',
      bound(budget.spec?.minAvailable),
      bound(budget.spec?.maxUnavailable),
      budget.status?.disruptionsAllowed ?? 0,
      timeSince(metadata.creationTimestamp, now),
    ];
  },
};
