/** k8s.io/apimachinery meta/v1 messages (package `meta`). Table syntax: see schema.ts. */
import type { MessageTable } from './message_table.js';

export const metaMessages: MessageTable = {
  ObjectMeta: 'name=1:string? generateName=2:string? namespace=3:string? selfLink=4:string? uid=5:string? ' +
    'resourceVersion=6:string? generation=7:int64? creationTimestamp=8:Time deletionTimestamp=9:Time* ' +
    'deletionGracePeriodSeconds=10:int64* labels=11:map<string>? annotations=12:map<string>? ' +
    'ownerReferences=13:OwnerReference[]? finalizers=14:string[]? managedFields=17:ManagedFieldsEntry[]?',
  OwnerReference: 'apiVersion=5:string kind=1:string name=3:string uid=4:string controller=6:bool* ' +
    'blockOwnerDeletion=7:bool*',
  ManagedFieldsEntry: 'manager=1:string? operation=2:string? apiVersion=3:string? time=4:Time* ' +
    'fieldsType=6:string? fieldsV1=7:FieldsV1* subresource=8:string?',
  Condition: 'type=1:string status=2:string observedGeneration=3:int64? lastTransitionTime=4:Time reason=5:string ' +
    'message=6:string',
  LabelSelector: 'matchLabels=1:map<string>? matchExpressions=2:LabelSelectorRequirement[]?',
  LabelSelectorRequirement: 'key=1:string operator=2:string values=3:string[]?',
  DeleteOptions: 'gracePeriodSeconds=1:int64* preconditions=2:Preconditions* orphanDependents=3:bool* ' +
    'propagationPolicy=4:string* dryRun=5:string[]?',
  Preconditions: 'uid=1:string* resourceVersion=2:string*',
};
