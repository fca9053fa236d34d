/**
 * A simulated twin of the API server, for driving real Schedulers in tests: an in-memory set of
 * Nodes, Pods and Namespaces with resourceVersions, the write rules the scheduler depends on, and
 * watch streams that reach each subscriber late, by a random number of event-loop turns per event
 * (seeded), but in order (a watch stream is ordered). Test-only (not exported from the package).
 *
 * The API rules that matter to a scheduler:
 * - pods/binding refuses a pod that already has a node, is being deleted (409 Conflict) or is gone
 *   (404 NotFound), so no pod ever gets a second node, whoever asks;
 * - eviction marks the victim (DisruptionTarget) and deletes it: a bound pod turns terminating and is
 *   gone a little later (the kubelet stopping it), an unbound one is gone at once;
 * - status writes that change nothing write nothing.
 * Every write answers after a random latency. The history keeps every binding attempt with the API's
 * answer (accepted or refused alike: the refusal protects the cluster, but a scheduler that tries to
 * bind a pod it knows is bound has a bug the checkers must still see), and every eviction, for the
 * invariant checkers (invariants.ts).
 */
import type { Namespace, Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { apiErrors, type ApiError } from '@k8ts/apimachinery';
import { seededRandom } from '@k8ts/base';
import { podKey } from '../framework/node_info.js';
import type { ClusterWriter } from '../scheduler/cluster_writer.js';

/** What a watching scheduler receives (Scheduler implements it). */
export interface InformerHandlers {
  addPod(pod: Pod): void;
  updatePod(oldPod: Pod, newPod: Pod): void;
  deletePod(pod: Pod): void;
  addNode(node: Node): void;
  updateNode(oldNode: Node, newNode: Node): void;
  deleteNode(node: Node): void;
  setNamespace(namespace: Namespace): void;
  deleteNamespace(namespace: Namespace): void;
}

/** A latency in event-loop turns (setImmediate), drawn uniformly from [min, max] per event or write. */
export interface Turns {
  min: number;
  max: number;
}

export interface SimClusterOptions {
  seed?: number;
  /** Time stamped on history and objects (a FakeClock in tests); a counter by default. */
  clock?: { now(): number };
  /** How late a watch event reaches a subscriber. Default 0–2 turns. */
  deliveryDelay?: Turns;
  /** How long an API write takes before it applies. Default 0–2 turns. */
  writeDelay?: Turns;
  /** From an evicted pod turning terminating to its deletion. Default 0–3 turns. */
  terminationDelay?: Turns;
  /**
   * Whether objects handed out are frozen (default true, to catch a scheduler mutating them). The
   * cycle benchmark turns it off: a real informer's objects are not frozen.
   */
  freeze?: boolean;
}

export interface BindingRecord {
  /** namespace/name */
  pod: string;
  uid: string;
  node: string;
  writer: string;
  time: number;
}

export interface RefusedBinding extends BindingRecord {
  /** The API's reason: Conflict or NotFound. */
  reason: string;
  message: string;
}

/** Why pods/binding refused a binding, as the API's rule that refused it. */
export type BindingRefusal = 'AlreadyAssigned' | 'BeingDeleted' | 'NotFound';

/** A binding a writer sent, as it reached the API, and the API's answer. */
export interface BindingAttempt extends BindingRecord {
  /** 'Bound' (201 Created) or the rule that refused it (409 Conflict, 404 NotFound). */
  answer: 'Bound' | BindingRefusal;
}

export interface EvictionRecord {
  pod: string;
  node: string;
  preemptor: string;
  writer: string;
  time: number;
}

export interface SimHistory {
  /** Every binding sent, in the order it reached the API, accepted or not. */
  attempts: BindingAttempt[];
  /** The accepted ones. */
  bindings: BindingRecord[];
  /** The refused ones, with the API's reason and message. */
  refused: RefusedBinding[];
  evictions: EvictionRecord[];
}

export interface RecordedEvent {
  /** The pod's namespace/name. */
  object: string;
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  message: string;
  writer: string;
  time: number;
}

const PODS = { group: '', resource: 'pods' };
const BINDINGS = { group: '', resource: 'pods/binding' };

/** One macrotask turn: lets every promise continuation that is ready run first. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await nextTurn();
}

function draw(random: () => number, { min, max }: Turns): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** API objects are plain JSON: this copies them faster than structuredClone. */
function copyOf<T>(object: T): T {
  return JSON.parse(JSON.stringify(object)) as T;
}

/** Objects handed out are frozen: a scheduler that mutated an informer's object would corrupt every reader's copy. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** A gate that holds whoever waits on it until opened. */
class Gate {
  private opened: Promise<void> | undefined;
  private open: (() => void) | undefined;

  get closed(): boolean {
    return this.opened !== undefined;
  }
  close(): void {
    this.opened ??= new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.opened = this.open = undefined;
  }
  async pass(): Promise<void> {
    while (this.opened !== undefined) await this.opened;
  }
}

/** One watcher's ordered stream of events. */
export class Subscription {
  /** Events published to this watcher and not delivered yet. */
  backlog = 0;
  private tail: Promise<void> = Promise.resolve();
  private readonly gate = new Gate();
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly handlers: InformerHandlers,
    private readonly random: () => number,
    private readonly delay: Turns,
    private readonly errors: Error[],
  ) {}

  get paused(): boolean {
    return this.gate.closed;
  }

  /** Holds deliveries (events keep queueing, in order) until resume(). */
  pause(): void {
    this.gate.close();
  }

  resume(): void {
    this.gate.release();
  }

  /** Delivers nothing more. */
  stop(): void {
    this.stopped = true;
    this.gate.release();
  }

  publish(deliver: (handlers: InformerHandlers) => void): void {
    if (this.stopped) return;
    this.backlog++;
    const wait = draw(this.random, this.delay);
    this.tail = this.tail.then(async () => {
      await turns(wait);
      await this.gate.pass();
      try {
        if (!this.stopped) deliver(this.handlers);
      } catch (error) {
        this.errors.push(new Error(`${this.name}: an informer handler threw: ${error instanceof Error ? error.message : String(error)}`));
      } finally {
        this.backlog--;
      }
    });
  }
}

export class SimCluster {
  readonly history: SimHistory = { attempts: [], bindings: [], refused: [], evictions: [] };
  readonly events: RecordedEvent[] = [];
  /** Errors thrown by subscribers' handlers: a correct scheduler throws none. */
  readonly deliveryErrors: Error[] = [];

  private readonly random: () => number;
  private readonly clock: { now(): number };
  private readonly deliveryDelay: Turns;
  private readonly writeDelay: Turns;
  private readonly terminationDelay: Turns;
  private readonly podsByKey = new Map<string, Pod>();
  private readonly nodesByName = new Map<string, Node>();
  private readonly namespacesByName = new Map<string, Namespace>();
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly bindingGates = new Map<string, Gate>();
  private resourceVersion = 0;
  /** Bindings waiting at a closed gate: in flight, but not work the simulation will finish on its own. */
  private heldBindings = 0;
  private ticks = 0;
  private readonly freeze: boolean;

  constructor(options: SimClusterOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
    this.clock = options.clock ?? { now: () => ++this.ticks };
    this.deliveryDelay = options.deliveryDelay ?? { min: 0, max: 2 };
    this.writeDelay = options.writeDelay ?? { min: 0, max: 2 };
    this.terminationDelay = options.terminationDelay ?? { min: 0, max: 3 };
    this.freeze = options.freeze ?? true;
  }

  // --- watching ---

  /** Starts a watch for `handlers`: first the current objects as adds (the informer's list), then every change. */
  subscribe(handlers: InformerHandlers, name = `watcher-${this.subscriptions.length + 1}`): Subscription {
    const random = seededRandom(Math.floor(this.random() * 2 ** 32));
    const subscription = new Subscription(name, handlers, random, this.deliveryDelay, this.deliveryErrors);
    this.subscriptions.push(subscription);
    for (const namespace of this.namespacesByName.values()) subscription.publish((h) => h.setNamespace(namespace));
    for (const node of this.nodesByName.values()) subscription.publish((h) => h.addNode(node));
    for (const pod of this.podsByKey.values()) subscription.publish((h) => h.addPod(pod));
    return subscription;
  }

  // --- what users and controllers do (applied at once) ---

  addNamespace(namespace: Namespace): void {
    const stored = this.stamp(namespace);
    this.namespacesByName.set(namespace.metadata?.name ?? '', stored);
    this.publish((h) => h.setNamespace(stored));
  }

  addNode(node: Node): Node {
    const name = node.metadata?.name ?? '';
    if (this.nodesByName.has(name)) throw apiErrors.alreadyExists({ group: '', resource: 'nodes' }, name);
    const stored = this.stamp(node);
    this.nodesByName.set(name, stored);
    this.publish((h) => h.addNode(stored));
    return stored;
  }

  updateNode(node: Node): Node {
    const name = node.metadata?.name ?? '';
    const old = this.nodesByName.get(name);
    if (old === undefined) throw apiErrors.notFound({ group: '', resource: 'nodes' }, name);
    const stored = this.stamp(node);
    this.nodesByName.set(name, stored);
    this.publish((h) => h.updateNode(old, stored));
    return stored;
  }

  deleteNode(name: string): void {
    const old = this.nodesByName.get(name);
    if (old === undefined) throw apiErrors.notFound({ group: '', resource: 'nodes' }, name);
    this.nodesByName.delete(name);
    this.publish((h) => h.deleteNode(old));
  }

  createPod(pod: Pod): Pod {
    const key = podKey(pod);
    if (this.podsByKey.has(key)) throw apiErrors.alreadyExists(PODS, pod.metadata?.name ?? '');
    const stored = this.stamp(pod);
    this.podsByKey.set(key, stored);
    this.publish((h) => h.addPod(stored));
    return stored;
  }

  /** Marks the pod terminating (deletionTimestamp) and keeps it, as a finalizer or a grace period would. */
  markTerminating(key: string): Pod {
    return this.replacePod(this.existingPod(key), (pod) => {
      markDeleted(pod, new Date(this.clock.now()).toISOString());
    });
  }

  /** Removes the pod at once. */
  deletePod(key: string): void {
    const old = this.existingPod(key);
    this.podsByKey.delete(key);
    this.publish((h) => h.deletePod(old));
  }

  // --- reading ---

  pod(key: string): Pod | undefined {
    return this.podsByKey.get(key);
  }
  pods(): Pod[] {
    return [...this.podsByKey.values()];
  }
  node(name: string): Node | undefined {
    return this.nodesByName.get(name);
  }
  nodes(): Node[] {
    return [...this.nodesByName.values()];
  }
  eventsFor(key: string): RecordedEvent[] {
    return this.events.filter((event) => event.object === key);
  }

  // --- the scheduler's side ---

  /** The API as one scheduler writes to it; `name` attributes its writes in the history. */
  writer(name = 'default-scheduler'): ClusterWriter {
    return {
      bind: (pod, nodeName) => this.track(this.bind(name, pod, nodeName)),
      updatePodSchedulingStatus: (pod, condition, nominatedNodeName) => this.track(this.updateSchedulingStatus(pod, condition, nominatedNodeName)),
      clearNominatedNodeName: (pod) => this.track(this.clearNomination(pod)),
      evictPod: (victim, preemptor, nodeName) => this.track(this.evict(name, victim, preemptor, nodeName)),
      recordEvent: (pod, type, reason, action, message) => {
        this.events.push({ object: podKey(pod), type, reason, action, message, writer: name, time: this.clock.now() });
      },
    };
  }

  /** Holds the bindings `writer` sends (they apply on release), like an API server that is slow for one client. */
  holdBindings(writer: string): () => void {
    let gate = this.bindingGates.get(writer);
    if (gate === undefined) this.bindingGates.set(writer, (gate = new Gate()));
    gate.close();
    return () => gate.release();
  }

  // --- quiescence ---

  /** Writes under way or events still to be delivered (held bindings and paused watchers excepted). */
  busy(): boolean {
    return this.inFlight.size > this.heldBindings || this.subscriptions.some((s) => !s.paused && s.backlog > 0);
  }

  /** Resolves once nothing is busy(). */
  async idle(): Promise<void> {
    while (this.busy()) await nextTurn();
  }

  // --- the API's rules ---

  private async bind(writer: string, pod: Pod, nodeName: string): Promise<void> {
    await turns(draw(this.random, this.writeDelay));
    const gate = this.bindingGates.get(writer);
    if (gate?.closed) {
      this.heldBindings++;
      await gate.pass();
      this.heldBindings--;
    }
    const key = podKey(pod);
    const name = pod.metadata?.name ?? '';
    const record: BindingRecord = { pod: key, uid: pod.metadata?.uid ?? '', node: nodeName, writer, time: this.clock.now() };
    const refuse = (answer: BindingRefusal, error: ApiError): never => {
      this.history.attempts.push({ ...record, answer });
      this.history.refused.push({ ...record, reason: error.reason, message: error.message });
      throw error;
    };
    const current = this.podsByKey.get(key);
    if (current === undefined || (record.uid !== '' && current.metadata?.uid !== record.uid)) return refuse('NotFound', apiErrors.notFound(PODS, name));
    if (current.spec?.nodeName) refuse('AlreadyAssigned', apiErrors.conflict(BINDINGS, name, `pod ${name} is already assigned to node "${current.spec.nodeName}"`));
    if (current.metadata?.deletionTimestamp) refuse('BeingDeleted', apiErrors.conflict(BINDINGS, name, `pod ${name} is being deleted, cannot be assigned to a host`));
    this.replacePod(current, (next) => {
      next.spec!.nodeName = nodeName;
      setCondition(next, { type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(this.clock.now()).toISOString() });
    });
    this.history.attempts.push({ ...record, answer: 'Bound' });
    this.history.bindings.push(record);
  }

  private async updateSchedulingStatus(pod: Pod, condition: PodCondition, nominatedNodeName?: string | null): Promise<void> {
    await turns(draw(this.random, this.writeDelay));
    const current = this.existingPod(podKey(pod));
    const old = current.status?.conditions?.find((c) => c.type === condition.type);
    const sameCondition = old !== undefined && old.status === condition.status && old.reason === condition.reason && old.message === condition.message;
    const nominationChanges = nominatedNodeName !== undefined && (current.status?.nominatedNodeName ?? null) !== (nominatedNodeName || null);
    if (sameCondition && !nominationChanges) return;
    this.replacePod(current, (next) => {
      // As the API's condition update: the transition time moves only when the status does.
      const since = old?.status === condition.status ? old.lastTransitionTime : undefined;
      setCondition(next, since !== undefined ? { ...condition, lastTransitionTime: since } : condition);
      if (nominationChanges) setNomination(next, nominatedNodeName || undefined);
    });
  }

  private async clearNomination(pod: Pod): Promise<void> {
    await turns(draw(this.random, this.writeDelay));
    const current = this.existingPod(podKey(pod));
    if (!current.status?.nominatedNodeName) return;
    this.replacePod(current, (next) => setNomination(next, undefined));
  }

  private async evict(writer: string, victim: Pod, preemptor: Pod, nodeName: string): Promise<void> {
    await turns(draw(this.random, this.writeDelay));
    const key = podKey(victim);
    const current = this.podsByKey.get(key);
    if (current === undefined || current.metadata?.uid !== victim.metadata?.uid) throw apiErrors.notFound(PODS, victim.metadata?.name ?? '');
    const now = new Date(this.clock.now()).toISOString();
    const marked = this.replacePod(current, (next) => {
      setCondition(next, {
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'PreemptionByScheduler',
        message: `${writer}: preempting to accommodate a higher priority pod`,
        lastTransitionTime: now,
      });
    });
    // The API deletes a pod no kubelet runs at once; a bound one terminates first.
    if (marked.spec?.nodeName) {
      const terminating = this.replacePod(marked, (next) => markDeleted(next, now));
      void this.track(this.finishTermination(terminating));
    } else {
      this.podsByKey.delete(key);
      this.publish((h) => h.deletePod(marked));
    }
    this.history.evictions.push({ pod: key, node: nodeName, preemptor: podKey(preemptor), writer, time: this.clock.now() });
    this.events.push({
      object: key,
      type: 'Normal',
      reason: 'Preempted',
      action: 'Preempting',
      message: `Preempted by pod ${preemptor.metadata?.uid ?? ''} on node ${nodeName}`,
      writer,
      time: this.clock.now(),
    });
  }

  /** The kubelet stops the pod; then it is gone. */
  private async finishTermination(pod: Pod): Promise<void> {
    await turns(draw(this.random, this.terminationDelay));
    const key = podKey(pod);
    const current = this.podsByKey.get(key);
    if (current === undefined || current.metadata?.uid !== pod.metadata?.uid) return;
    this.podsByKey.delete(key);
    this.publish((h) => h.deletePod(current));
  }

  // --- storage ---

  private existingPod(key: string): Pod {
    const pod = this.podsByKey.get(key);
    if (pod === undefined) throw apiErrors.notFound(PODS, key.slice(key.indexOf('/') + 1));
    return pod;
  }

  /**
   * Stores a changed copy of `current` and tells the watchers. Stored objects are frozen, so the copy
   * shares what `change` leaves alone and copies only metadata, spec and status (which it may set).
   */
  private replacePod(current: Pod, change: (next: Pod) => void): Pod {
    const next: Pod = { ...current, metadata: { ...current.metadata }, spec: { containers: [], ...current.spec }, status: { ...current.status } };
    change(next);
    const stored = this.stamp(next, false);
    this.podsByKey.set(podKey(stored), stored);
    this.publish((h) => h.updatePod(current, stored));
    return stored;
  }

  /** The object (a copy of it unless told it is already one) with the next resourceVersion, frozen (by default). */
  private stamp<T extends { metadata?: { resourceVersion?: string } }>(object: T, copy = true): T {
    const stored = copy ? copyOf(object) : object;
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.resourceVersion) };
    return this.freeze ? deepFreeze(stored) : stored;
  }

  private publish(deliver: (handlers: InformerHandlers) => void): void {
    for (const subscription of this.subscriptions) subscription.publish(deliver);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = (): void => {
      this.inFlight.delete(work);
    };
    work.then(done, done);
    return work;
  }

}

function setCondition(pod: Pod, condition: PodCondition): void {
  const others = (pod.status!.conditions ?? []).filter((c) => c.type !== condition.type);
  pod.status!.conditions = [...others, condition];
}

function markDeleted(pod: Pod, time: string): void {
  const metadata = pod.metadata as { deletionTimestamp?: string };
  metadata.deletionTimestamp ??= time;
}

function setNomination(pod: Pod, nodeName: string | undefined): void {
  if (nodeName === undefined) delete pod.status!.nominatedNodeName;
  else pod.status!.nominatedNodeName = nodeName;
}

// --- running schedulers against the simulation until nothing moves ---

/** What the helpers below read of a running scheduler (Scheduler has it). */
export interface QueueReporter {
  pendingPods(): { active: number; backoff: number; unschedulable: number };
}

const MAX_TURNS_TO_QUIET = 100_000;

/**
 * Waits, without moving time, until the simulation has no write or delivery under way and no
 * scheduler has a pod ready to try, twice in a row (a turn lets every ready continuation run).
 */
export async function quiet(sim: SimCluster, schedulers: readonly QueueReporter[]): Promise<void> {
  let calm = 0;
  for (let turn = 0; calm < 2; turn++) {
    if (turn > MAX_TURNS_TO_QUIET) throw new Error('the simulation never went quiet');
    await sim.idle();
    await nextTurn();
    calm = !sim.busy() && schedulers.every((s) => s.pendingPods().active === 0) ? calm + 1 : 0;
  }
}

/**
 * quiet(), then moves `clock` on a second at a time (the queue's backoff flush period) while any
 * scheduler has pods backing off, until none has. Throws after `maxSeconds` of simulated time.
 */
export async function settle(sim: SimCluster, schedulers: readonly QueueReporter[], clock: { advance(ms: number): void }, maxSeconds = 120): Promise<void> {
  for (let second = 0; ; second++) {
    await quiet(sim, schedulers);
    if (schedulers.every((s) => s.pendingPods().backoff === 0)) return;
    if (second >= maxSeconds) throw new Error(`pods still backing off after ${maxSeconds} simulated seconds`);
    clock.advance(1_000);
  }
}
