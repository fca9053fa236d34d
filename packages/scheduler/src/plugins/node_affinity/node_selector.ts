/**
 * Node selectors as the scheduler evaluates them (kube's component-helpers nodeaffinity): a pod's
 * `nodeSelector` map, NodeSelector terms (ORed; a term's requirements ANDed; an empty term matches
 * nothing) over node labels (matchExpressions) and the node's name (matchFields on metadata.name),
 * and preferred terms with weights.
 *
 * A term with a malformed requirement (In without values, Gt with a non-integer, an unknown
 * operator, ...) never matches; for required terms upstream ignores such errors as long as another
 * term matches, which amounts to the same, and for preferred terms it reports them as an error.
 */
import type { Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm } from 'kubernetes-types/core/v1.js';
import { matchesLabels, type LabelRequirement } from '@k8ts/apimachinery';

/** The only node field a matchFields requirement can name. */
export const NODE_NAME_FIELD = 'metadata.name';

interface FieldRequirement {
  key: string;
  equal: boolean;
  value: string;
}

/** A NodeSelectorTerm compiled once: label requirements, field requirements, or why it is malformed. */
export interface CompiledTerm {
  labels: LabelRequirement[] | undefined;
  fields: FieldRequirement[] | undefined;
  errors: string[];
}

const INTEGER = /^[+-]?\d+$/;

function labelRequirement(requirement: NodeSelectorRequirement, path: string): LabelRequirement | string {
  const values = requirement.values ?? [];
  const { key } = requirement;
  switch (requirement.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) return `${path}.values: Required value: for 'in', 'notin' operators, values set can't be empty`;
      return { key, operator: requirement.operator === 'In' ? 'in' : 'notin', values };
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) return `${path}.values: Forbidden: values set must be empty for exists and does not exist`;
      return { key, operator: requirement.operator === 'Exists' ? 'exists' : '!', values: [] };
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) return `${path}.values: Required value: for 'Gt', 'Lt' operators, exactly one value is required`;
      if (!INTEGER.test(values[0] ?? '')) return `${path}.values[0]: Invalid value: "${values[0]}": for 'Gt', 'Lt' operators, the value must be an integer`;
      return { key, operator: requirement.operator === 'Gt' ? 'gt' : 'lt', values };
    default:
      return `${path}.operator: Unsupported value: "${requirement.operator}": supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"`;
  }
}

function fieldRequirement(requirement: NodeSelectorRequirement, path: string): FieldRequirement | string {
  const values = requirement.values ?? [];
  if (requirement.operator !== 'In' && requirement.operator !== 'NotIn')
    return `${path}.operator: Unsupported value: "${requirement.operator}": supported values: "In", "NotIn"`;
  if (values.length !== 1) return `${path}.values: Invalid value: ${JSON.stringify(values)}: must have one element`;
  return { key: requirement.key, equal: requirement.operator === 'In', value: values[0] ?? '' };
}

function compileAll<T>(requirements: readonly NodeSelectorRequirement[] | undefined, path: string, compile: (r: NodeSelectorRequirement, path: string) => T | string, errors: string[]): T[] | undefined {
  if (requirements === undefined || requirements.length === 0) return undefined;
  const compiled: T[] = [];
  requirements.forEach((requirement, index) => {
    const result = compile(requirement, `${path}[${index}]`);
    if (typeof result === 'string') errors.push(result);
    else compiled.push(result);
  });
  return compiled;
}

export function isEmptyTerm(term: NodeSelectorTerm): boolean {
  return (term.matchExpressions?.length ?? 0) === 0 && (term.matchFields?.length ?? 0) === 0;
}

export function compileTerm(term: NodeSelectorTerm, path = ''): CompiledTerm {
  const errors: string[] = [];
  const labels = compileAll(term.matchExpressions, `${path}matchExpressions`, labelRequirement, errors);
  const fields = compileAll(term.matchFields, `${path}matchFields`, fieldRequirement, errors);
  return { labels, fields, errors };
}

/** A well-formed term matches when all its label and field requirements hold for the node. */
export function termMatches(term: CompiledTerm, node: Node): boolean {
  if (term.errors.length > 0) return false;
  if (term.labels !== undefined && !matchesLabels(term.labels, node.metadata?.labels)) return false;
  const name = node.metadata?.name ?? '';
  // A node without a name has no fields to match, so upstream does not check them.
  if (term.fields !== undefined && name !== '') {
    const nodeFields: Record<string, string> = { [NODE_NAME_FIELD]: name };
    return term.fields.every(({ key, equal, value }) => ((nodeFields[key] ?? '') === value) === equal);
  }
  return true;
}

/** A NodeSelector compiled once; `errors` are its malformed terms' problems. */
export class CompiledNodeSelector {
  readonly terms: CompiledTerm[];
  readonly errors: string[];

  constructor(selector: NodeSelector) {
    this.terms = (selector.nodeSelectorTerms ?? [])
      .map((term, index) => ({ term, index }))
      .filter(({ term }) => !isEmptyTerm(term))
      .map(({ term, index }) => compileTerm(term, `nodeSelectorTerms[${index}].`));
    this.errors = this.terms.flatMap((term) => term.errors);
  }

  /** Terms are ORed; with no (non-empty) term nothing matches. */
  matches(node: Node): boolean {
    return this.terms.some((term) => termMatches(term, node));
  }
}

/** Whether the node matches the NodeSelector (e.g. a PersistentVolume's node affinity). */
export function nodeSelectorMatches(selector: NodeSelector, node: Node): boolean {
  return new CompiledNodeSelector(selector).matches(node);
}

/** What a pod requires of its node: `spec.nodeSelector` AND required node affinity. */
export class RequiredNodeAffinity {
  private readonly selector: LabelRequirement[] | undefined;
  private readonly affinity: CompiledNodeSelector | undefined;

  constructor(pod: Pod) {
    const nodeSelector = pod.spec?.nodeSelector ?? {};
    const entries = Object.entries(nodeSelector);
    this.selector = entries.length > 0 ? entries.map(([key, value]) => ({ key, operator: '=', values: [value] })) : undefined;
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.affinity = required === undefined ? undefined : new CompiledNodeSelector(required);
  }

  matches(node: Node): boolean {
    if (this.selector !== undefined && !matchesLabels(this.selector, node.metadata?.labels)) return false;
    return this.affinity === undefined || this.affinity.matches(node);
  }
}

/** Whether the pod's nodeSelector and required node affinity both admit the node (preemption, queue). */
export function podMatchesNodeSelectorAndAffinity(pod: Pod, node: Node): boolean {
  return new RequiredNodeAffinity(pod).matches(node);
}

interface WeightedTerm {
  term: CompiledTerm;
  weight: number;
}

/** Preferred terms; weight-0 and empty terms are dropped, as upstream does. */
export class PreferredTerms {
  private constructor(private readonly terms: readonly WeightedTerm[]) {}

  /** The compiled terms, or the problems of the malformed ones. */
  static compile(terms: readonly PreferredSchedulingTerm[]): PreferredTerms | { errors: string[] } {
    const compiled: WeightedTerm[] = [];
    const errors: string[] = [];
    terms.forEach((term, index) => {
      if (term.weight === 0 || isEmptyTerm(term.preference)) return;
      const parsed = compileTerm(term.preference, `[${index}].`);
      if (parsed.errors.length > 0) errors.push(...parsed.errors);
      else compiled.push({ term: parsed, weight: term.weight });
    });
    return errors.length > 0 ? { errors } : new PreferredTerms(compiled);
  }

  /** The sum of the weights of the terms the node matches. */
  score(node: Node): number {
    return this.terms.reduce((sum, { term, weight }) => (termMatches(term, node) ? sum + weight : sum), 0);
  }
}
