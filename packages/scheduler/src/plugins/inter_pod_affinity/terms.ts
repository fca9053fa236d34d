/**
 * Pod (anti-)affinity terms made ready to match: label selectors parsed once, the namespaces a term
 * covers resolved against the pod that owns the term (kube's framework.AffinityTerm).
 */
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { matchesLabels, requirementsFromLabelSelector, type LabelRequirement } from '@k8ts/apimachinery';

export type Labels = Readonly<Record<string, string>>;

export interface AffinityTerm {
  /** Namespaces listed by the term; the owner's own namespace when neither list nor selector is set. */
  readonly namespaces: ReadonlySet<string>;
  /** null: the term has no namespaceSelector (selects no namespace); []: every namespace. */
  readonly namespaceSelector: readonly LabelRequirement[] | null;
  /** null: the term has no labelSelector, which matches no pod. */
  readonly selector: readonly LabelRequirement[] | null;
  readonly topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

/** All four kinds of inter-pod terms of one pod. */
export interface PodAffinityTerms {
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  readonly preferredAffinity: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinity: readonly WeightedAffinityTerm[];
}

const NO_TERMS: PodAffinityTerms = { requiredAffinity: [], requiredAntiAffinity: [], preferredAffinity: [], preferredAntiAffinity: [] };

/** Parsed terms by pod object: pods in NodeInfos are shared and not mutated, so each is parsed once. */
const parsed = new WeakMap<Pod, PodAffinityTerms>();

/** The pod's terms; throws (a 400 ApiError) when a selector has an operator it cannot parse. */
export function affinityTermsOf(pod: Pod): PodAffinityTerms {
  const cached = parsed.get(pod);
  if (cached !== undefined) return cached;
  const affinity = pod.spec?.affinity;
  const terms: PodAffinityTerms =
    affinity?.podAffinity === undefined && affinity?.podAntiAffinity === undefined
      ? NO_TERMS
      : {
          requiredAffinity: (affinity.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t)),
          requiredAntiAffinity: (affinity.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t)),
          preferredAffinity: (affinity.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => weightedTerm(pod, t)),
          preferredAntiAffinity: (affinity.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => weightedTerm(pod, t)),
        };
  parsed.set(pod, terms);
  return terms;
}

/** An existing pod's terms; a pod whose terms cannot be parsed constrains nothing. */
export function affinityTermsOrNone(pod: Pod): PodAffinityTerms {
  try {
    return affinityTermsOf(pod);
  } catch {
    return NO_TERMS;
  }
}

function affinityTerm(owner: Pod, term: PodAffinityTerm): AffinityTerm {
  const listed = term.namespaces ?? [];
  const ownNamespaceOnly = listed.length === 0 && term.namespaceSelector === undefined;
  return {
    namespaces: new Set(ownNamespaceOnly ? [owner.metadata?.namespace ?? ''] : listed),
    namespaceSelector: requirementsOrNull(term.namespaceSelector),
    selector: requirementsOrNull(term.labelSelector),
    topologyKey: term.topologyKey,
  };
}

function weightedTerm(owner: Pod, term: WeightedPodAffinityTerm): WeightedAffinityTerm {
  return { ...affinityTerm(owner, term.podAffinityTerm), weight: term.weight };
}

function requirementsOrNull(selector: LabelSelector | undefined | null): readonly LabelRequirement[] | null {
  return selector === undefined || selector === null ? null : requirementsFromLabelSelector(selector);
}

/**
 * Whether the term selects the pod: the pod's namespace is one the term names, or its labels
 * (`namespaceLabels`; undefined = namespace unknown, selected by no namespaceSelector) match the
 * term's namespaceSelector; and the pod's labels match the term's labelSelector.
 */
export function termMatches(term: AffinityTerm, pod: Pod, namespaceLabels: Labels | undefined): boolean {
  if (term.selector === null) return false;
  const inNamespace =
    term.namespaces.has(pod.metadata?.namespace ?? '') ||
    (term.namespaceSelector !== null && namespaceLabels !== undefined && matchesLabels(term.namespaceSelector, namespaceLabels));
  return inNamespace && matchesLabels(term.selector, pod.metadata?.labels);
}

/** True when there are terms and the pod matches every one (how required affinity counts a pod). */
export function matchesAllTerms(terms: readonly AffinityTerm[], pod: Pod, namespaceLabels: Labels | undefined): boolean {
  return terms.length > 0 && terms.every((term) => termMatches(term, pod, namespaceLabels));
}

export type NamespaceLabelsOf = (namespace: string) => Labels | undefined;

/** Looks each namespace's labels up once within one scheduling step. */
export function memoizeNamespaceLabels(lookup: NamespaceLabelsOf): NamespaceLabelsOf {
  const seen = new Map<string, Labels | undefined>();
  return (namespace) => {
    if (!seen.has(namespace)) seen.set(namespace, lookup(namespace));
    return seen.get(namespace);
  };
}
