/** apps/v1, coordination/v1, discovery/v1, policy/v1 and scheduling/v1 messages, one table per package. Table syntax: see schema.ts. */
import type { MessageTable } from './message_table.js';

const appsMessages: MessageTable = {
  Deployment: 'metadata=1:meta.ObjectMeta spec=2:DeploymentSpec status=3:DeploymentStatus',
  DeploymentSpec: 'replicas=1:int32* selector=2:meta.LabelSelector* template=3:core.PodTemplateSpec ' +
    'strategy=4:DeploymentStrategy minReadySeconds=5:int32? revisionHistoryLimit=6:int32* paused=7:bool? ' +
    'progressDeadlineSeconds=9:int32*',
  DeploymentStrategy: 'type=1:string? rollingUpdate=2:RollingUpdateDeployment*',
  RollingUpdateDeployment: 'maxUnavailable=1:IntOrString* maxSurge=2:IntOrString*',
  DeploymentStatus: 'observedGeneration=1:int64? replicas=2:int32? updatedReplicas=3:int32? readyReplicas=7:int32? ' +
    'availableReplicas=4:int32? unavailableReplicas=5:int32? conditions=6:DeploymentCondition[]? ' +
    'collisionCount=8:int32*',
  DeploymentCondition: 'type=1:string status=2:string lastUpdateTime=6:Time lastTransitionTime=7:Time ' +
    'reason=4:string? message=5:string?',
  ReplicaSet: 'metadata=1:meta.ObjectMeta spec=2:ReplicaSetSpec status=3:ReplicaSetStatus',
  ReplicaSetSpec: 'replicas=1:int32* minReadySeconds=4:int32? selector=2:meta.LabelSelector* ' +
    'template=3:core.PodTemplateSpec',
  ReplicaSetStatus: 'replicas=1:int32 fullyLabeledReplicas=2:int32? readyReplicas=4:int32? ' +
    'availableReplicas=5:int32? observedGeneration=3:int64? conditions=6:ReplicaSetCondition[]?',
  ReplicaSetCondition: 'type=1:string status=2:string lastTransitionTime=3:Time reason=4:string? message=5:string?',
};

const coordinationMessages: MessageTable = {
  Lease: 'metadata=1:meta.ObjectMeta spec=2:LeaseSpec',
  LeaseSpec: 'holderIdentity=1:string* leaseDurationSeconds=2:int32* acquireTime=3:MicroTime* ' +
    'renewTime=4:MicroTime* leaseTransitions=5:int32* strategy=6:string* preferredHolder=7:string*',
};

const discoveryMessages: MessageTable = {
  EndpointSlice: 'metadata=1:meta.ObjectMeta addressType=4:string endpoints=2:Endpoint[] ports=3:EndpointPort[]',
  Endpoint: 'addresses=1:string[] conditions=2:EndpointConditions hostname=3:string* ' +
    'targetRef=4:core.ObjectReference* deprecatedTopology=5:map<string>? nodeName=6:string* zone=7:string* ' +
    'hints=8:EndpointHints*',
  EndpointConditions: 'ready=1:bool* serving=2:bool* terminating=3:bool*',
  EndpointHints: 'forZones=1:ForZone[]?',
  ForZone: 'name=1:string',
  EndpointPort: 'name=1:string* protocol=2:string* port=3:int32* appProtocol=4:string*',
};

const schedulingMessages: MessageTable = {
  PriorityClass: 'metadata=1:meta.ObjectMeta value=2:int32 globalDefault=3:bool? description=4:string? ' +
    'preemptionPolicy=5:string*',
};

const policyMessages: MessageTable = {
  Eviction: 'metadata=1:meta.ObjectMeta deleteOptions=2:meta.DeleteOptions*',
  PodDisruptionBudget: 'metadata=1:meta.ObjectMeta spec=2:PodDisruptionBudgetSpec status=3:PodDisruptionBudgetStatus',
  PodDisruptionBudgetSpec: 'minAvailable=1:IntOrString* selector=2:meta.LabelSelector* maxUnavailable=3:IntOrString* ' +
    'unhealthyPodEvictionPolicy=4:string*',
  PodDisruptionBudgetStatus: 'observedGeneration=1:int64? disruptedPods=2:map<Time>? disruptionsAllowed=3:int32 ' +
    'currentHealthy=4:int32 desiredHealthy=5:int32 expectedPods=6:int32 conditions=7:meta.Condition[]?',
};

export const apiMessageTables: Readonly<Record<string, MessageTable>> = {
  apps: appsMessages,
  coordination: coordinationMessages,
  discovery: discoveryMessages,
  policy: policyMessages,
  scheduling: schedulingMessages,
};
