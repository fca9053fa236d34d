/**
 * How each field of the served kinds merges, from the `patchStrategy`/`patchMergeKey` tags of
 * k8s.io/api (and `+structType=atomic`/`+mapType=atomic` markers for server-side apply). Only
 * fields that differ from the default are listed: an object field merges key by key, a list
 * without an entry is replaced whole (atomic), as upstream treats untagged lists.
 */
export interface FieldStrategy {
  /** A list with patchStrategy "merge": a list of objects keyed by `mergeKey`, or a set of primitives. */
  readonly merge?: { readonly mergeKey?: string };
  /** The fields of this object, or of each object of this list. */
  readonly fields?: StructStrategy;
  /** The object is owned and replaced as a whole by server-side apply (upstream's atomic struct/map). */
  readonly atomic?: boolean;
  /**
   * A Go struct field that is always serialized (even empty): a write never adds or removes it
   * as a whole, so an "Update" entry in managedFields gives it no `.` marker, as upstream.
   */
  readonly struct?: boolean;
}

export type StructStrategy = Readonly<Partial<Record<string, FieldStrategy>>>;

const mergeBy = (mergeKey: string, fields?: StructStrategy): FieldStrategy => ({
  merge: { mergeKey },
  ...(fields === undefined ? {} : { fields }),
});
const mergeSet: FieldStrategy = { merge: {} };
const struct = (fields: StructStrategy = {}): FieldStrategy => ({ fields, struct: true });
const atomic: FieldStrategy = { atomic: true };

const objectMeta = struct({
  finalizers: mergeSet,
  ownerReferences: mergeBy('uid'),
});

const container: StructStrategy = {
  ports: mergeBy('containerPort'),
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
  resources: struct(),
};

const podSpec = struct({
  volumes: mergeBy('name'), // merge,retainKeys upstream; $retainKeys is honoured wherever it appears
  initContainers: mergeBy('name', container),
  containers: mergeBy('name', container),
  ephemeralContainers: mergeBy('name', container),
  imagePullSecrets: mergeBy('name'),
  hostAliases: mergeBy('ip'),
  topologySpreadConstraints: mergeBy('topologyKey'),
  schedulingGates: mergeBy('name'),
  resourceClaims: mergeBy('name'),
  nodeSelector: atomic,
});

const conditionsByType = struct({ conditions: mergeBy('type') });

/** Deployment and ReplicaSet: a pod template under spec. */
const podTemplateOwner: StructStrategy = {
  metadata: objectMeta,
  spec: struct({ selector: atomic, strategy: struct(), template: struct({ metadata: objectMeta, spec: podSpec }) }),
  status: conditionsByType,
};

const metadataOnly: StructStrategy = { metadata: objectMeta };

/** By kind. Tolerations, taints, Endpoints subsets and EndpointSlice endpoints are atomic upstream. */
export const PATCH_STRATEGIES: Readonly<Record<string, StructStrategy>> = {
  Pod: {
    metadata: objectMeta,
    spec: podSpec,
    status: struct({
      conditions: mergeBy('type'),
      podIPs: mergeBy('ip'),
      hostIPs: mergeBy('ip'),
      resourceClaimStatuses: mergeBy('name'),
    }),
  },
  Deployment: podTemplateOwner,
  ReplicaSet: podTemplateOwner,
  Service: { metadata: objectMeta, spec: struct({ ports: mergeBy('port'), selector: atomic }), status: conditionsByType },
  Endpoints: metadataOnly,
  Node: {
    metadata: objectMeta,
    spec: struct({ podCIDRs: mergeSet }),
    status: struct({ conditions: mergeBy('type'), addresses: mergeBy('type') }),
  },
  Namespace: { metadata: objectMeta, spec: struct(), status: conditionsByType },
  ConfigMap: metadataOnly,
  Secret: metadataOnly,
  ServiceAccount: { metadata: objectMeta, secrets: mergeBy('name') },
  Event: metadataOnly,
  Lease: { metadata: objectMeta, spec: struct() },
  EndpointSlice: metadataOnly,
  PriorityClass: metadataOnly,
  PodDisruptionBudget: { metadata: objectMeta, spec: struct(), status: conditionsByType },
};

/** The strategies of a kind; an unknown kind gets none (every list atomic). */
export function strategiesFor(kind: string): StructStrategy {
  return Object.hasOwn(PATCH_STRATEGIES, kind) ? (PATCH_STRATEGIES[kind] ?? {}) : {};
}

/** The strategy of one field of an object described by `fields` (undefined: the defaults). */
export function fieldStrategy(fields: StructStrategy | undefined, name: string): FieldStrategy | undefined {
  return fields !== undefined && Object.hasOwn(fields, name) ? fields[name] : undefined;
}
