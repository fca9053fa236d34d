import type { Container } from 'kubernetes-types/core/v1.js';
import type { LabelSelector, ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { FIELD_DOCS } from './descriptions.js';
import type { TableColumnDefinition } from './types.js';

/** A column definition; `wide` marks the priority 1 columns kubectl shows with `-o wide`. */
export function column(
  name: string,
  type: 'string' | 'integer' | 'boolean',
  description: string,
  options: { wide?: boolean; format?: string } = {},
): TableColumnDefinition {
  return { name, type, format: options.format ?? '', description, priority: options.wide === true ? 1 : 0 };
}

export const NAME_COLUMN = column('Name', 'string', FIELD_DOCS.name, { format: 'name' });
export const AGE_COLUMN = column('Age', 'string', FIELD_DOCS.creationTimestamp);
export const CONTAINERS_COLUMN = column('Containers', 'string', 'Names of each container in the template.', { wide: true });
export const IMAGES_COLUMN = column('Images', 'string', 'Images referenced by each container in the template.', { wide: true });

/** The metadata of a stored object, or an empty one. */
export function metadataOf(object: object): ObjectMeta {
  const metadata = (object as { metadata?: ObjectMeta }).metadata;
  return metadata ?? {};
}

/** Container names and images, each comma-joined, as the wide CONTAINERS and IMAGES cells. */
export function containerCells(containers: readonly Container[] | undefined): [names: string, images: string] {
  const list = containers ?? [];
  return [list.map((container) => container.name).join(','), list.map((container) => container.image ?? '').join(',')];
}

/** labels.FormatLabels: "a=1,b=2" sorted by key, or "<none>". */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((key) => `${key}=${labels?.[key] ?? ''}`).join(',');
}

const SET_OPERATORS: Readonly<Record<string, string>> = { In: 'in', NotIn: 'notin' };

/**
 * A LabelSelector in selector syntax ("app=web,tier in (a,b),!canary"), requirements sorted by key
 * as labels.Selector.String() prints them: "" for a nil or empty selector, undefined when invalid.
 */
export function selectorString(selector: LabelSelector | undefined): string | undefined {
  if (selector === undefined) return '';
  const requirements: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) requirements.push({ key, text: `${key}=${value}` });
  for (const expression of selector.matchExpressions ?? []) {
    const { key, operator } = expression;
    const values = [...(expression.values ?? [])].sort();
    const setOperator = SET_OPERATORS[operator];
    if (setOperator !== undefined) {
      if (values.length === 0) return undefined;
      requirements.push({ key, text: `${key} ${setOperator} (${values.join(',')})` });
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0) return undefined;
      requirements.push({ key, text: operator === 'Exists' ? key : `!${key}` });
    } else {
      return undefined;
    }
  }
  requirements.sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
  return requirements.map((requirement) => requirement.text).join(',');
}

/** metav1.FormatLabelSelector: like selectorString but "<none>" when empty and "<error>" when invalid. */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  const text = selectorString(selector);
  if (text === undefined) return '<error>';
  return text === '' ? '<none>' : text;
}

/** net.JoinHostPort: IPv6 hosts in brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The first `max` entries comma-joined, then " + N more..." for the rest; "<unset>" when empty. */
export function listWithMore(items: readonly string[], max = 3): string {
  const shown = items.slice(0, max).join(',');
  if (items.length > max) return `${shown} + ${items.length - max} more...`;
  return shown === '' ? '<unset>' : shown;
}
