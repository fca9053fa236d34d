/** The pod informer index every node controller reads pods by (upstream names it "spec.nodeName"). */
import type { IndexFunc } from '@k8ts/client';
import type { Pod } from 'kubernetes-types/core/v1.js';

export const POD_NODE_NAME_INDEX = 'spec.nodeName';

export const podNodeNameIndex: IndexFunc<Pod> = (pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : []);
