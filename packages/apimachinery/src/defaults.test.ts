import { describe, expect, it } from 'vitest';
import { applyDefaults, pullPolicyFor } from './defaults.js';
import { findResource } from './resources.js';

function typeOf(resource: string, group = '') {
  const type = findResource(group, 'v1', resource);
  if (type === undefined) throw new Error(`no resource ${resource}`);
  return type;
}

describe('pods', () => {
  it('fills the pod spec and container defaults kubectl get -o yaml shows', () => {
    const pod = { metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] } };
    applyDefaults(typeOf('pods'), pod);
    expect(pod.spec).toEqual({
      containers: [
        {
          name: 'web',
          image: 'nginx',
          imagePullPolicy: 'Always',
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
        },
      ],
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
    });
  });

  it('keeps what the user set', () => {
    const pod = { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 5, containers: [{ name: 'c', image: 'x:1', imagePullPolicy: 'Never' }] } };
    applyDefaults(typeOf('pods'), pod);
    expect(pod.spec.restartPolicy).toBe('Never');
    expect(pod.spec.terminationGracePeriodSeconds).toBe(5);
    expect(pod.spec.containers[0]?.imagePullPolicy).toBe('Never');
  });

  it('defaults requests to limits, probes, env field refs and volume modes', () => {
    const pod = {
      spec: {
        containers: [
          {
            name: 'c',
            image: 'x:1',
            resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } },
            livenessProbe: { httpGet: { port: 8080 } },
            env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
          },
        ],
        volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }, { name: 'scratch' }],
      },
    };
    applyDefaults(typeOf('pods'), pod);
    const container = pod.spec.containers[0];
    expect(container?.resources.requests).toEqual({ cpu: '500m', memory: '1Gi' });
    expect(container?.livenessProbe).toEqual({
      httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(container?.env[0]?.valueFrom.fieldRef).toEqual({ fieldPath: 'spec.nodeName', apiVersion: 'v1' });
    expect(pod.spec.volumes).toEqual([{ name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } }, { name: 'scratch', emptyDir: {} }]);
  });

  it('is idempotent', () => {
    const pod = { spec: { containers: [{ name: 'c', image: 'nginx' }] } };
    applyDefaults(typeOf('pods'), pod);
    const once = structuredClone(pod);
    applyDefaults(typeOf('pods'), pod);
    expect(pod).toEqual(once);
  });

  it('gives zero probe fields their defaults and skips null probes and handlers, as SetDefaults_Probe', () => {
    const container = {
      name: 'c',
      image: 'nginx',
      livenessProbe: { httpGet: { port: 80 }, successThreshold: 0, timeoutSeconds: 0, periodSeconds: 0, failureThreshold: 0 },
      readinessProbe: null,
      lifecycle: { preStop: { httpGet: null } },
    };
    applyDefaults(typeOf('pods'), { spec: { containers: [container] } });
    expect(container.livenessProbe).toEqual({ httpGet: { port: 80, path: '/', scheme: 'HTTP' }, successThreshold: 1, timeoutSeconds: 1, periodSeconds: 10, failureThreshold: 3 });
    expect(container.readinessProbe).toBeNull();
  });
});

describe('pullPolicyFor', () => {
  it.each([
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.27', 'IfNotPresent'],
    ['registry:5000/team/app', 'Always'],
    ['registry:5000/team/app:v2', 'IfNotPresent'],
    ['nginx@sha256:abc', 'IfNotPresent'],
    ['nginx:latest@sha256:abc', 'Always'],
  ])('%s pulls %s', (image, policy) => {
    expect(pullPolicyFor(image)).toBe(policy);
  });
});

describe('workloads', () => {
  it('defaults a Deployment and its pod template (without pod-only fields)', () => {
    const deployment = {
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1' }] } } },
    };
    applyDefaults(typeOf('deployments', 'apps'), deployment);
    expect(deployment.spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    const podSpec = deployment.spec.template.spec as Record<string, unknown>;
    expect(podSpec['restartPolicy']).toBe('Always');
    expect(podSpec['enableServiceLinks']).toBeUndefined();
  });

  it('leaves a Recreate strategy without rollingUpdate', () => {
    const deployment = { spec: { strategy: { type: 'Recreate' }, template: {} } };
    applyDefaults(typeOf('deployments', 'apps'), deployment);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('defaults ReplicaSet replicas to 1', () => {
    const replicaSet = { spec: { template: { spec: { containers: [] } } } } as { spec: { replicas?: number } };
    applyDefaults(typeOf('replicasets', 'apps'), replicaSet);
    expect(replicaSet.spec.replicas).toBe(1);
  });
});

describe('services', () => {
  it('defaults type, affinity, protocols, target ports and traffic policy; no cluster IP', () => {
    const service = { spec: { ports: [{ port: 80 }, { port: 443, targetPort: 'https' }] } };
    applyDefaults(typeOf('services'), service);
    expect(service.spec).toEqual({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ports: [
        { port: 80, protocol: 'TCP', targetPort: 80 },
        { port: 443, protocol: 'TCP', targetPort: 'https' },
      ],
    });
  });

  it('adds the external fields of a LoadBalancer and the ClientIP timeout', () => {
    const service = { spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } };
    applyDefaults(typeOf('services'), service);
    expect(service.spec).toMatchObject({
      externalTrafficPolicy: 'Cluster',
      allocateLoadBalancerNodePorts: true,
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    });
  });

  it('gives an ExternalName service no internal traffic policy', () => {
    const service = { spec: { type: 'ExternalName', externalName: 'example.com' } } as { spec: Record<string, unknown> };
    applyDefaults(typeOf('services'), service);
    expect(service.spec['internalTrafficPolicy']).toBeUndefined();
  });
});

describe('other kinds', () => {
  it('types a Secret as Opaque', () => {
    const secret: { type?: string } = {};
    applyDefaults(typeOf('secrets'), secret);
    expect(secret.type).toBe('Opaque');
  });

  it('gives a new Namespace its finalizer, phase and name label; not on update', () => {
    const created = { metadata: { name: 'team-a' } };
    applyDefaults(typeOf('namespaces'), created);
    expect(created).toEqual({
      metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    const updated = { metadata: { name: 'team-a' }, spec: { finalizers: [] }, status: { phase: 'Terminating' } };
    applyDefaults(typeOf('namespaces'), updated, 'update');
    expect(updated.spec.finalizers).toEqual([]);
    expect(updated.status.phase).toBe('Terminating');
  });

  it('copies node capacity to allocatable', () => {
    const node = { status: { capacity: { cpu: '4', pods: '110' } } } as { status: Record<string, unknown> };
    applyDefaults(typeOf('nodes'), node);
    expect(node.status['allocatable']).toEqual({ cpu: '4', pods: '110' });
  });

  it('defaults endpoint ports and priority class preemption', () => {
    const endpoints = { subsets: [{ ports: [{ port: 80 }] }] };
    applyDefaults(typeOf('endpoints'), endpoints);
    expect(endpoints.subsets[0]?.ports[0]).toEqual({ port: 80, protocol: 'TCP' });
    const slice = { ports: [{ port: 80 }] };
    applyDefaults(typeOf('endpointslices', 'discovery.k8s.io'), slice);
    expect(slice.ports[0]).toEqual({ port: 80, name: '', protocol: 'TCP' });
    const priorityClass: { value: number; preemptionPolicy?: string } = { value: 5 };
    applyDefaults(typeOf('priorityclasses', 'scheduling.k8s.io'), priorityClass);
    expect(priorityClass.preemptionPolicy).toBe('PreemptLowerPriority');
  });

  it('leaves ConfigMaps alone', () => {
    const configMap = { data: { a: 'b' } };
    applyDefaults(typeOf('configmaps'), configMap);
    expect(configMap).toEqual({ data: { a: 'b' } });
  });
});
