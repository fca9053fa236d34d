import type { EventRecorder, KubeObject } from '@k8ts/client';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Logger } from 'pino';
import { decide, type ClassifiedReferences } from './decide.js';
import type { DependencyGraph, GraphNode } from './graph.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER, beingDeleted, describeIdentity, hasFinalizer, identityOfReference, type ObjectIdentity } from './identity.js';
import type { ObjectApi } from './object_api.js';
import { deleteObject, removeFinalizer, removeOwnerReferences, unblockOwnerReferences } from './operations.js';

/** A virtual node whose object exists but no informer has shown it yet: look again later. */
export class NotObservedYetError extends Error {
  constructor(identity: ObjectIdentity) {
    super(`${describeIdentity(identity)} exists but has not been observed by an informer yet`);
  }
}

/**
 * What the collector's workers do with a key of each queue (upstream's attemptToDeleteItem and
 * attemptToOrphanWorker). Every decision that something is gone is taken from a live read of the
 * API server, never from the graph, so informers that lag can delay collection but never make it
 * delete an object whose owner exists. Each step is safe to redo after a crash half-way: it reads
 * the live state first and writes with preconditions.
 */
export class Collector {
  constructor(
    private readonly graph: DependencyGraph,
    private readonly api: ObjectApi,
    /** Queues a uid for attemptToDelete. */
    private readonly queueAttemptToDelete: (uid: string) => void,
    private readonly recorder: EventRecorder,
    private readonly logger: Logger,
  ) {}

  /** Throws to be retried with backoff. */
  async attemptToDelete(uid: string): Promise<void> {
    const node = this.graph.get(uid);
    if (node === undefined) return;
    // Being deleted is a one-way trip: its dependents are looked at when its deletion is observed.
    if (node.beingDeleted && !node.deletingDependents) return;
    const identity = node.identity;
    const latest = await this.api.get(identity);
    if (latest === undefined || latest.metadata?.uid !== identity.uid) {
      this.graph.virtualDelete(identity);
      return;
    }
    if (node.deletingDependents) {
      await this.processDeletingDependents(node);
    } else {
      await this.collectIfGarbage(node, latest);
    }
    // A virtual node that exists: keep looking until an informer shows it (or it goes).
    if (!node.observed && this.graph.get(uid) === node) throw new NotObservedYetError(identity);
  }

  /** Removes the owner's references from its dependents, then its orphan finalizer. */
  async attemptToOrphan(uid: string): Promise<void> {
    const owner = this.graph.get(uid);
    if (owner === undefined) return;
    const failures: string[] = [];
    await Promise.all(
      [...owner.dependents].map((dependent) =>
        removeOwnerReferences(this.api, dependent.identity, [uid]).catch((error: unknown) => {
          failures.push(`orphaning ${describeIdentity(dependent.identity)} failed: ${(error as Error).message}`);
        }),
      ),
    );
    if (failures.length > 0) throw new Error(`failed to orphan dependents of owner ${describeIdentity(owner.identity)}: ${failures.join('; ')}`);
    await removeFinalizer(this.api, owner.identity, ORPHAN_FINALIZER);
  }

  private async processDeletingDependents(node: GraphNode): Promise<void> {
    const blocking = node.blockingDependents();
    if (blocking.length === 0) {
      this.logger.debug({ object: node.identity }, 'no blocking dependents left; removing the foregroundDeletion finalizer');
      await removeFinalizer(this.api, node.identity, FOREGROUND_FINALIZER);
      return;
    }
    // Make sure every blocking dependent is on its way out (graph changes queued them already).
    for (const dependent of blocking) if (!dependent.deletingDependents) this.queueAttemptToDelete(dependent.identity.uid);
  }

  private async collectIfGarbage(node: GraphNode, latest: KubeObject): Promise<void> {
    const references = latest.metadata?.ownerReferences ?? [];
    if (references.length === 0) return;
    const classified = await this.classify(node, references);
    if (classified === undefined) return;
    const dependents = [...node.dependents];
    const decision = decide(classified, latest.metadata?.finalizers ?? [], {
      count: dependents.length,
      anyDeletingDependents: dependents.some((dependent) => dependent.deletingDependents),
    });
    switch (decision.action) {
      case 'keep':
        return;
      case 'removeReferences':
        this.logger.info({ object: node.identity, owners: decision.uids }, 'removing references to owners that are gone or waiting for their dependents');
        await removeOwnerReferences(this.api, node.identity, decision.uids);
        return;
      case 'delete':
        if (decision.unblockFirst) await unblockOwnerReferences(this.api, node.identity);
        this.logger.info({ object: node.identity, propagationPolicy: decision.policy }, 'deleting garbage');
        if (!(await deleteObject(this.api, node.identity, latest, decision.policy))) this.graph.virtualDelete(node.identity);
        return;
    }
  }

  /** Sorts the references by their owners' live state; undefined when the object cannot have such owners. */
  private async classify(node: GraphNode, references: readonly OwnerReference[]): Promise<ClassifiedReferences | undefined> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const reference of references) {
      const owner = await this.ownerOf(node, reference);
      if (owner === 'invalid') return undefined;
      if (owner === undefined) dangling.push(reference);
      else if (beingDeleted(owner) && hasFinalizer(owner, FOREGROUND_FINALIZER)) waiting.push(reference);
      else solid.push(reference);
    }
    return { solid, dangling, waitingForDependentsDeletion: waiting };
  }

  /** The owner a reference names, read live; undefined when it is gone; 'invalid' for a namespaced owner of a cluster-scoped object. */
  private async ownerOf(node: GraphNode, reference: OwnerReference): Promise<KubeObject | undefined | 'invalid'> {
    const clusterKey = identityOfReference(reference, '');
    const namespacedKey = identityOfReference(reference, node.identity.namespace);
    const namespaced = this.api.scopeOf(reference.apiVersion, reference.kind);
    // Upstream (1.20+): such a reference can never resolve, and the object is never collected for it.
    if (namespaced === true && node.identity.namespace === '') {
      this.logger.info({ object: node.identity, owner: reference }, 'a cluster-scoped object refers to a namespaced owner; left alone');
      this.recorder.event(
        objectOf(node.identity),
        'Warning',
        'OwnerRefInvalidNamespace',
        `ownerRef ${describeIdentity(namespacedKey)} does not exist in namespace ""`,
      );
      return 'invalid';
    }
    if (this.graph.absentOwners.has(clusterKey) || this.graph.absentOwners.has(namespacedKey)) return undefined;
    const key = namespaced === false ? clusterKey : namespacedKey;
    const owner = await this.api.get(key);
    if (owner === undefined || owner.metadata?.uid !== reference.uid) {
      this.graph.absentOwners.add(key);
      return undefined;
    }
    return owner;
  }
}

/** An object reference an event can be about. */
export function objectOf(identity: ObjectIdentity): KubeObject {
  return {
    apiVersion: identity.apiVersion,
    kind: identity.kind,
    metadata: { name: identity.name, uid: identity.uid, ...(identity.namespace !== '' ? { namespace: identity.namespace } : {}) },
  };
}
