import type { KubeObject } from '@k8ts/client';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { AbsentOwners } from './absent_owners.js';
import {
  FOREGROUND_FINALIZER,
  ORPHAN_FINALIZER,
  beingDeleted,
  blocksOwnerDeletion,
  hasFinalizer,
  identityOf,
  identityOfReference,
  referenceMatches,
  sameIdentity,
  type ObjectIdentity,
} from './identity.js';

/**
 * The garbage collector's dependency graph (upstream's GraphBuilder.uidToNode): one node per uid,
 * with its owners (its ownerReferences) and its dependents (the nodes whose ownerReferences name
 * it). It is built from informer events only, without I/O, and tells the collector what to look at
 * through GraphActions:
 *
 * - An owner named by a reference but not observed yet gets a "virtual" node, and is queued to be
 *   checked against the API server (it may exist and just not be in the caches yet, or be gone).
 * - An observed deletion removes the node and queues its dependents (their owner may now be gone)
 *   and its owners that wait in foreground deletion (one blocking dependent fewer).
 * - An object that starts being deleted with the `orphan` finalizer is queued to be orphaned; one
 *   with `foregroundDeletion` is marked deletingDependents and queued with its dependents.
 * - A dependent that stops blocking its owner (reference removed or blockOwnerDeletion turned off)
 *   queues that owner.
 *
 * Nothing here walks the graph recursively: cycles of references cost nothing.
 */
export interface GraphActions {
  attemptToDelete(uid: string): void;
  attemptToOrphan(uid: string): void;
  /** A dependent names an owner that lives in another namespace. */
  invalidNamespaceOwnerRef(dependent: ObjectIdentity, reference: OwnerReference): void;
}

/** Whether an apiVersion/kind is namespaced; undefined when no served resource has that kind. */
export type ScopeOf = (apiVersion: string, kind: string) => boolean | undefined;

export class GraphNode {
  owners: readonly OwnerReference[] = [];
  readonly dependents = new Set<GraphNode>();
  /** Seen through an informer (false: a virtual node, known only from references to it). */
  observed: boolean;
  beingDeleted = false;
  deletingDependents = false;

  constructor(
    public identity: ObjectIdentity,
    observed: boolean,
  ) {
    this.observed = observed;
  }

  /** Dependents whose reference to this node has blockOwnerDeletion. */
  blockingDependents(): GraphNode[] {
    const uid = this.identity.uid;
    return [...this.dependents].filter((dependent) => dependent.owners.some((owner) => owner.uid === uid && blocksOwnerDeletion(owner)));
  }
}

export class DependencyGraph {
  private readonly nodes = new Map<string, GraphNode>();
  /** Owners known to be gone: shared with the collector's lookups. */
  readonly absentOwners = new AbsentOwners();

  constructor(
    private readonly actions: GraphActions,
    private readonly scopeOf: ScopeOf = () => undefined,
  ) {}

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  get size(): number {
    return this.nodes.size;
  }

  /** An informer's add (old undefined) or update of an object of `type`. */
  observe(type: { readonly apiVersion: string; readonly kind: string }, object: KubeObject, old?: KubeObject): void {
    const identity = identityOf(type, object);
    if (identity.uid === '') return;
    const owners = object.metadata?.ownerReferences ?? [];
    let node = this.nodes.get(identity.uid);
    if (node !== undefined && !node.observed) this.markObserved(node, identity);
    if (node === undefined) {
      node = new GraphNode(identity, true);
      node.owners = owners;
      node.beingDeleted = beingDeleted(object);
      node.deletingDependents = node.beingDeleted && hasFinalizer(object, FOREGROUND_FINALIZER);
      this.nodes.set(identity.uid, node);
      this.addDependentToOwners(node, owners);
    } else {
      const { added, removed, changed } = referenceDiffs(node.owners, owners);
      if (added.length + removed.length + changed.length > 0) {
        this.queueUnblockedOwners(removed, changed);
        node.owners = owners;
        this.addDependentToOwners(node, added);
        this.removeDependentFromOwners(node, removed);
      }
      if (beingDeleted(object)) node.beingDeleted = true;
    }
    this.processTransitions(node, object, old);
  }

  /** An informer's delete. */
  observeDelete(type: { readonly apiVersion: string; readonly kind: string }, object: KubeObject): void {
    const identity = identityOf(type, object);
    const node = this.nodes.get(identity.uid);
    if (node !== undefined) this.removeNode(node, identity);
  }

  /**
   * The API server said `identity` does not exist (NotFound, or another uid under that name). A
   * node seen through an informer is removed only when the identity is the one observed; a virtual
   * node whose dependents disagree on its coordinates stays for the ones not yet disproved.
   */
  virtualDelete(identity: ObjectIdentity): void {
    const node = this.nodes.get(identity.uid);
    if (node === undefined) return;
    if (!node.observed) {
      const { matching, nonmatching } = partitionDependents(node.dependents, identity);
      if (nonmatching.length > 0) {
        if (matching.length > 0) this.disproved(identity, matching);
        if (sameIdentity(node.identity, identity)) {
          // Try the coordinates another dependent gives for this uid next.
          const other = nonmatching[0] as GraphNode;
          const reference = other.owners.find((owner) => owner.uid === identity.uid) as OwnerReference;
          node.identity = this.referencedIdentity(reference, other.identity);
          this.actions.attemptToDelete(identity.uid);
        }
        return;
      }
    } else if (!sameIdentity(node.identity, identity)) {
      // The object exists under other coordinates: only references naming the disproved ones are dangling.
      const { matching } = partitionDependents(node.dependents, identity);
      if (matching.length > 0) this.disproved(identity, matching);
      return;
    }
    this.removeNode(node, identity);
  }

  private disproved(identity: ObjectIdentity, dependents: readonly GraphNode[]): void {
    this.absentOwners.add(identity);
    for (const dependent of dependents) this.actions.attemptToDelete(dependent.identity.uid);
  }

  /** A virtual node seen at last: it takes the observed coordinates; dependents that named others are rechecked. */
  private markObserved(node: GraphNode, observed: ObjectIdentity): void {
    if (!sameIdentity(node.identity, observed)) {
      const { nonmatching } = partitionDependents(node.dependents, observed);
      for (const dependent of nonmatching) {
        if (observed.namespace !== '' && dependent.identity.namespace !== observed.namespace) this.reportInvalidNamespace(dependent, observed.uid);
        this.actions.attemptToDelete(dependent.identity.uid);
      }
      node.identity = observed;
    }
    node.observed = true;
  }

  private referencedIdentity(reference: OwnerReference, dependent: ObjectIdentity): ObjectIdentity {
    const namespaced = this.scopeOf(reference.apiVersion, reference.kind);
    return identityOfReference(reference, namespaced === false ? '' : dependent.namespace);
  }

  private addDependentToOwners(node: GraphNode, owners: readonly OwnerReference[]): void {
    let suspicious = false;
    for (const reference of owners) {
      let owner = this.nodes.get(reference.uid);
      if (owner === undefined) {
        owner = new GraphNode(this.referencedIdentity(reference, node.identity), false);
        this.nodes.set(reference.uid, owner);
        owner.dependents.add(node);
        // Ask the API server whether it exists.
        this.actions.attemptToDelete(reference.uid);
        continue;
      }
      owner.dependents.add(node);
      if (suspicious) continue;
      const ownerNamespace = owner.identity.namespace;
      if (ownerNamespace !== '' && ownerNamespace !== node.identity.namespace) {
        // A namespaced owner can only own objects of its own namespace.
        if (owner.observed) this.reportInvalidNamespace(node, reference.uid);
        suspicious = true;
      } else if (!referenceMatches(reference, owner.identity)) {
        suspicious = true;
      } else if (ownerNamespace === '' && node.identity.namespace !== '' && !owner.observed && this.scopeOf(reference.apiVersion, reference.kind) !== false) {
        // A virtual owner first named by a cluster-scoped object may be a namespaced kind it cannot own.
        suspicious = true;
      }
    }
    // Let the collector verify this dependent's references against the API server.
    if (suspicious) this.actions.attemptToDelete(node.identity.uid);
  }

  private removeDependentFromOwners(node: GraphNode, owners: readonly OwnerReference[]): void {
    for (const reference of owners) this.nodes.get(reference.uid)?.dependents.delete(node);
  }

  private removeNode(node: GraphNode, deleted: ObjectIdentity): void {
    this.nodes.delete(node.identity.uid);
    this.removeDependentFromOwners(node, node.owners);
    if (node.dependents.size > 0) this.absentOwners.add(deleted);
    for (const dependent of node.dependents) this.actions.attemptToDelete(dependent.identity.uid);
    for (const reference of node.owners) {
      const owner = this.nodes.get(reference.uid);
      // One dependent fewer: the owner may now lose its foregroundDeletion finalizer.
      if (owner?.deletingDependents) this.actions.attemptToDelete(owner.identity.uid);
    }
  }

  private queueUnblockedOwners(removed: readonly OwnerReference[], changed: readonly ReferenceChange[]): void {
    const unblocked = [
      ...removed.filter(blocksOwnerDeletion),
      ...changed.filter(({ before, after }) => blocksOwnerDeletion(before) && !blocksOwnerDeletion(after)).map(({ after }) => after),
    ];
    for (const reference of unblocked) if (this.nodes.has(reference.uid)) this.actions.attemptToDelete(reference.uid);
  }

  private processTransitions(node: GraphNode, object: KubeObject, old: KubeObject | undefined): void {
    if (startsDeletionWith(ORPHAN_FINALIZER, object, old)) {
      this.actions.attemptToOrphan(node.identity.uid);
      return;
    }
    if (startsDeletionWith(FOREGROUND_FINALIZER, object, old)) {
      // A node first known as virtual did not get this at creation: set it here.
      node.deletingDependents = true;
      for (const dependent of node.dependents) this.actions.attemptToDelete(dependent.identity.uid);
      this.actions.attemptToDelete(node.identity.uid);
    }
  }

  private reportInvalidNamespace(dependent: GraphNode, ownerUid: string): void {
    const reference = dependent.owners.find((owner) => owner.uid === ownerUid);
    if (reference !== undefined) this.actions.invalidNamespaceOwnerRef(dependent.identity, reference);
  }
}

/** The object is being deleted with `finalizer`, and was not before (or is new to us). */
function startsDeletionWith(finalizer: string, object: KubeObject, old: KubeObject | undefined): boolean {
  if (!beingDeleted(object) || !hasFinalizer(object, finalizer)) return false;
  return old === undefined || !beingDeleted(old) || !hasFinalizer(old, finalizer);
}

interface ReferenceChange {
  readonly before: OwnerReference;
  readonly after: OwnerReference;
}

export function referenceDiffs(
  before: readonly OwnerReference[],
  after: readonly OwnerReference[],
): { added: OwnerReference[]; removed: OwnerReference[]; changed: ReferenceChange[] } {
  const old = new Map(before.map((reference) => [reference.uid, reference]));
  const added: OwnerReference[] = [];
  const changed: ReferenceChange[] = [];
  for (const reference of after) {
    const previous = old.get(reference.uid);
    if (previous === undefined) added.push(reference);
    else if (JSON.stringify(previous) !== JSON.stringify(reference)) changed.push({ before: previous, after: reference });
    old.delete(reference.uid);
  }
  return { added, removed: [...old.values()], changed };
}

/** Dependents whose reference to `owner.uid` names `owner`'s coordinates, and those that name others. */
function partitionDependents(dependents: Iterable<GraphNode>, owner: ObjectIdentity): { matching: GraphNode[]; nonmatching: GraphNode[] } {
  const matching: GraphNode[] = [];
  const nonmatching: GraphNode[] = [];
  for (const dependent of dependents) {
    if (owner.namespace !== '' && owner.namespace !== dependent.identity.namespace) {
      nonmatching.push(dependent);
      continue;
    }
    const references = dependent.owners.filter((reference) => reference.uid === owner.uid);
    if (references.some((reference) => referenceMatches(reference, owner))) matching.push(dependent);
    if (references.some((reference) => !referenceMatches(reference, owner))) nonmatching.push(dependent);
  }
  return { matching, nonmatching };
}
