import type { KubeObject } from '@k8ts/client';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LifecycleCluster, processesWith, waitFor, type PodObject } from './lifecycle_cluster.js';

/**
 * The kubelet's pod lifecycle on a real cluster: store, apiserver, scheduler, controller manager
 * and two process-runtime k8ts-node-agents (pods in their own network namespaces). What a user
 * checks with kubectl: Deployments come up Running and Ready over both nodes, a crashing container
 * backs off with growing delays, a liveness failure restarts a container, an unknown image shows
 * ErrImagePull then ImagePullBackOff, init containers run in order, a deleted pod's processes stop
 * within its grace period, and a kill -9'd agent started again runs no pod twice.
 */

const NODES = ['lc-node-a', 'lc-node-b'];
const WAIT_MS = 90_000;
const NS = 'lifecycle';

let cluster: LifecycleCluster;

beforeAll(async () => {
  cluster = await LifecycleCluster.start(NODES);
  await cluster.plane.createNamespace(NS);
}, 240_000);

afterAll(async () => {
  await cluster?.deleteWorkloads(NS).catch((error: unknown) => process.stderr.write(`cleaning up: ${(error as Error).message}\n${cluster.logs()}\n`));
  await cluster?.stop();
}, 120_000);

/** Runs `body`, printing the agents' logs when it fails. */
async function withLogs(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    process.stderr.write(`${cluster.logs()}\n`);
    throw error;
  }
}

const marker = (): string => `lc-marker-${randomBytes(4).toString('hex')}`;

function bare(name: string, spec: Partial<NonNullable<Pod['spec']>>, nodeName = NODES[0]!): PodObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: { nodeName, containers: [], ...spec },
  };
}

const statusOf = (pod: Pod | undefined, container = 'main'): ContainerStatus | undefined =>
  [...(pod?.status?.containerStatuses ?? []), ...(pod?.status?.initContainerStatuses ?? [])].find((status) => status.name === container);

const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describe('the kubelet runs pods through their lifecycle', () => {
  test('a Deployment of k8ts/http-echo with a readiness probe comes up Running and Ready on both nodes, answering on its pod IPs', () =>
    withLogs(async () => {
      const deployments = cluster.plane.client.resource<Deployment & KubeObject>('apps', 'v1', 'deployments').namespace(NS);
      await deployments.create({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'echo' },
        spec: {
          replicas: 4,
          selector: { matchLabels: { app: 'echo' } },
          template: {
            metadata: { labels: { app: 'echo' } },
            spec: {
              topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'echo' } } }],
              containers: [
                {
                  name: 'main',
                  image: 'k8ts/http-echo:1.0',
                  ports: [{ containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      });
      const pods = await waitFor(
        async () => {
          const list = (await cluster.pods.namespace(NS).list({ labelSelector: 'app=echo' })).items;
          return list.length === 4 && list.every((pod) => pod.status?.phase === 'Running' && isReady(pod)) ? list : undefined;
        },
        WAIT_MS,
        'four echo pods Running and Ready',
      );
      expect(new Set(pods.map((pod) => pod.spec?.nodeName))).toEqual(new Set(NODES));
      for (const pod of pods) {
        expect(pod.status).toMatchObject({ qosClass: 'BestEffort', hostIP: '127.0.0.1' });
        expect(pod.status?.podIP).toMatch(/^10\.245\.\d+\.\d+$/);
        expect(statusOf(pod)).toMatchObject({ ready: true, started: true, restartCount: 0, image: 'k8ts/http-echo:1.0', state: { running: {} } });
        expect(statusOf(pod)?.containerID).toMatch(/^k8ts:\/\//);
        expect(statusOf(pod)?.imageID).toMatch(/sha256:/);
        expect(pod.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort()).toEqual(
          ['ContainersReady=True', 'Initialized=True', 'PodReadyToStartContainers=True', 'PodScheduled=True', 'Ready=True'],
        );
        const answer = (await (await fetch(`http://${pod.status?.podIP}:8080/`)).json()) as { pod: string };
        expect(answer.pod).toBe(pod.metadata?.name);
      }
      const events = await cluster.eventsOf(NS, pods[0]!.metadata!.name!);
      expect(events).toEqual(expect.arrayContaining(['Created: Created container: main', 'Started: Started container main']));
    }),
  180_000);

  test('a crashing container goes into CrashLoopBackOff with growing delays', () =>
    withLogs(async () => {
      await cluster.pods.create(bare('crasher', { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'echo dying; exit 3'] }] }));
      const seen = new Set<string>();
      const pod = await waitFor(
        async () => {
          const current = await cluster.pod(NS, 'crasher');
          const waiting = statusOf(current)?.state?.waiting;
          if (waiting?.reason === 'CrashLoopBackOff') seen.add(waiting.message ?? '');
          return [...seen].some((message) => message.startsWith('back-off 20s')) ? current : undefined;
        },
        WAIT_MS,
        'a back-off of 20 s',
      );
      const uid = pod.metadata?.uid;
      expect([...seen]).toEqual(expect.arrayContaining([`back-off 10s restarting failed container=main pod=crasher_${NS}(${uid})`, `back-off 20s restarting failed container=main pod=crasher_${NS}(${uid})`]));
      const status = statusOf(pod);
      expect(status?.restartCount).toBeGreaterThanOrEqual(2);
      expect(status?.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
      expect(pod.status?.phase).toBe('Running');
      expect(await cluster.eventsOf(NS, 'crasher')).toContain(`BackOff: Back-off restarting failed container main in pod crasher_${NS}(${uid})`);
    }),
  180_000);

  test('a failing liveness probe restarts the container, with the events upstream records', () =>
    withLogs(async () => {
      await cluster.pods.create(
        bare('unwell', {
          containers: [
            {
              name: 'main',
              image: 'k8ts/http-echo:1.0',
              ports: [{ containerPort: 8080, name: 'http' }],
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 2 },
            },
          ],
        }),
      );
      const running = await waitFor(async () => {
        const pod = await cluster.pod(NS, 'unwell');
        return statusOf(pod)?.state?.running && pod?.status?.podIP ? pod : undefined;
      }, WAIT_MS, 'unwell running');
      const firstId = statusOf(running)?.containerID;
      const answer = await waitFor(async () => (await fetch(`http://${running.status?.podIP}:8080/fail-healthz`, { method: 'POST' })).status, WAIT_MS, 'http-echo told to fail');
      expect(answer).toBe(200);
      const restarted = await waitFor(async () => {
        const pod = await cluster.pod(NS, 'unwell');
        const status = statusOf(pod);
        return status?.restartCount === 1 && status.state?.running ? pod : undefined;
      }, WAIT_MS, 'the container restarted');
      expect(statusOf(restarted)?.containerID).not.toBe(firstId);
      expect(statusOf(restarted)?.lastState?.terminated?.containerID).toBe(firstId);
      const events = await cluster.eventsOf(NS, 'unwell');
      expect(events).toContain('Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500');
      expect(events).toContain('Killing: Container main failed liveness probe, will be restarted');
    }),
  180_000);

  test('an unknown image shows ErrImagePull, then ImagePullBackOff, with an event naming the image', () =>
    withLogs(async () => {
      await cluster.pods.create(bare('no-image', { containers: [{ name: 'main', image: 'k8ts/does-not-exist:1' }] }));
      const reasons = new Set<string>();
      await waitFor(
        async () => {
          const reason = statusOf(await cluster.pod(NS, 'no-image'))?.state?.waiting?.reason;
          if (reason !== undefined) reasons.add(reason);
          return reasons.has('ErrImagePull') && reasons.has('ImagePullBackOff') ? true : undefined;
        },
        WAIT_MS,
        'ErrImagePull then ImagePullBackOff',
      );
      const pod = await cluster.pod(NS, 'no-image');
      expect(pod?.status?.phase).toBe('Pending');
      const events = await cluster.eventsOf(NS, 'no-image');
      expect(events.some((event) => event.startsWith('Failed: Failed to pull image "k8ts/does-not-exist:1": '))).toBe(true);
      expect(events).toEqual(expect.arrayContaining(['Failed: Error: ErrImagePull', 'BackOff: Back-off pulling image "k8ts/does-not-exist:1"', 'Failed: Error: ImagePullBackOff']));
    }),
  180_000);

  test('init containers run one after the other, in order, before the main container', () =>
    withLogs(async () => {
      const write = (word: string): string => `echo ${word} >> /work/order`;
      await cluster.pods.create(
        bare('ordered', {
          restartPolicy: 'Never',
          volumes: [{ name: 'work', emptyDir: {} }],
          initContainers: [
            { name: 'first', image: 'busybox:1.36', command: ['sh', '-c', `sleep 1; ${write('first')}`], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
            { name: 'second', image: 'busybox:1.36', command: ['sh', '-c', write('second')], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
          ],
          containers: [
            {
              name: 'main',
              image: 'busybox:1.36',
              command: ['sh', '-c', 'cat /work/order; exit 1'],
              terminationMessagePolicy: 'FallbackToLogsOnError',
              volumeMounts: [{ name: 'work', mountPath: '/work' }],
            },
          ],
        }),
      );
      const pod = await waitFor(async () => {
        const current = await cluster.pod(NS, 'ordered');
        return current?.status?.phase === 'Failed' ? current : undefined;
      }, WAIT_MS, 'the pod Failed (its main container exits 1)');
      expect(statusOf(pod, 'main')?.state?.terminated).toMatchObject({ exitCode: 1, reason: 'Error', message: 'first\nsecond\n' });
      const first = statusOf(pod, 'first')?.state?.terminated;
      const second = statusOf(pod, 'second')?.state?.terminated;
      expect(first).toMatchObject({ exitCode: 0, reason: 'Completed' });
      expect(second).toMatchObject({ exitCode: 0, reason: 'Completed' });
      expect(Date.parse(second!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first!.finishedAt!));
      expect(pod.status?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
    }),
  180_000);

  test('a ConfigMap reaches the process as env and as a volume; a missing one is CreateContainerConfigError until it exists', () =>
    withLogs(async () => {
      await cluster.pods.create(
        bare('configured', {
          restartPolicy: 'Never',
          volumes: [{ name: 'cfg', configMap: { name: 'settings' } }],
          containers: [
            {
              name: 'main',
              image: 'busybox:1.36',
              command: ['sh', '-c', 'echo "env=$GREETING"; echo "file=$(cat /etc/cfg/greeting)"; exit 7'],
              env: [{ name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } }],
              volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }],
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
        }),
      );
      const waiting = await waitFor(async () => {
        const state = statusOf(await cluster.pod(NS, 'configured'))?.state?.waiting;
        return state?.reason === 'CreateContainerConfigError' || state?.reason === 'ContainerCreating' ? state : undefined;
      }, WAIT_MS, 'the container waiting for its ConfigMap');
      expect(['CreateContainerConfigError', 'ContainerCreating']).toContain(waiting.reason);
      const configMaps = cluster.plane.client.resource<KubeObject & { data?: Record<string, string> }>('', 'v1', 'configmaps').namespace(NS);
      await configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { greeting: 'hello' } });
      const pod = await waitFor(async () => {
        const current = await cluster.pod(NS, 'configured');
        return current?.status?.phase === 'Failed' ? current : undefined;
      }, WAIT_MS, 'the container ran and exited 7');
      expect(statusOf(pod)?.state?.terminated).toMatchObject({ exitCode: 7, reason: 'Error', message: 'env=hello\nfile=hello\n' });
      const events = await cluster.eventsOf(NS, 'configured');
      expect(events.some((event) => event === 'Failed: Error: configmap "settings" not found' || event.startsWith('FailedMount: '))).toBe(true);
    }),
  180_000);

  test('a command that does not exist: the container cannot run, and is restarted with back-off', () =>
    withLogs(async () => {
      await cluster.pods.create(bare('no-command', { containers: [{ name: 'main', image: 'busybox:1.36', command: ['/no/such/program'] }] }));
      const pod = await waitFor(async () => {
        const current = await cluster.pod(NS, 'no-command');
        return statusOf(current)?.state?.waiting?.reason === 'CrashLoopBackOff' ? current : undefined;
      }, WAIT_MS, 'CrashLoopBackOff');
      expect(statusOf(pod)?.lastState?.terminated).toMatchObject({ reason: 'ContainerCannotRun' });
      expect(statusOf(pod)?.lastState?.terminated?.message).toContain('/no/such/program');
    }),
  180_000);

  test('a container over its memory limit is OOMKilled (exit code 137) and restarted by its policy', () =>
    withLogs(async () => {
      // k8ts/stress holds 256 MiB; the limit is 64 MiB (the cgroup, or the runtime's measurement, kills it).
      await cluster.pods.create(
        bare('hungry', {
          restartPolicy: 'OnFailure',
          containers: [{ name: 'main', image: 'k8ts/stress', args: ['--memory', '256Mi'], resources: { limits: { memory: '64Mi' }, requests: { memory: '64Mi' } } }],
        }),
      );
      const pod = await waitFor(async () => {
        const current = await cluster.pod(NS, 'hungry');
        return statusOf(current)?.lastState?.terminated?.reason === 'OOMKilled' ? current : undefined;
      }, WAIT_MS, 'lastState OOMKilled');
      expect(statusOf(pod)?.lastState?.terminated?.exitCode).toBe(137);
      expect(statusOf(pod)?.restartCount).toBeGreaterThanOrEqual(1);
      expect(pod?.status?.qosClass).toBe('Burstable');
    }),
  180_000);

  test('deleting a pod stops its processes within the grace period, then the pod object goes', () =>
    withLogs(async () => {
      const word = marker();
      // The shell ignores SIGTERM: only the end of the grace period (SIGKILL) stops it.
      await cluster.pods.create(
        bare('stubborn', { terminationGracePeriodSeconds: 3, containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', `trap '' TERM; while true; do sleep 1; done; : ${word}`] }] }),
      );
      await waitFor(async () => (statusOf(await cluster.pod(NS, 'stubborn'))?.state?.running ? true : undefined), WAIT_MS, 'running');
      expect(await processesWith(word)).toHaveLength(1);
      await cluster.pods.namespace(NS).delete('stubborn');
      await waitFor(async () => ((await cluster.pod(NS, 'stubborn')) === undefined ? true : undefined), WAIT_MS, 'the pod object removed');
      expect(await processesWith(word)).toEqual([]);
      const events = await cluster.eventsOf(NS, 'stubborn');
      expect(events).toContain('Killing: Stopping container main');
    }),
  180_000);

  test('a kill -9\'d agent started again adopts its pods: no pod runs twice, none restarts', () =>
    withLogs(async () => {
      const node = NODES[1]!;
      const looping = (word: string) => [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', `while true; do sleep 1; done; : ${word}`] }];
      const [word, forced, leaving] = [marker(), marker(), marker()];
      await cluster.pods.create(bare('survivor', { containers: looping(word) }, node));
      await cluster.pods.create(bare('forced', { containers: looping(forced) }, node));
      await cluster.pods.create(bare('leaving', { terminationGracePeriodSeconds: 2, containers: looping(leaving) }, node));
      const running = async (name: string): Promise<PodObject | undefined> => {
        const pod = await cluster.pod(NS, name);
        return statusOf(pod)?.state?.running && isReady(pod!) ? pod : undefined;
      };
      await waitFor(() => running('forced'), WAIT_MS, 'forced running');
      await waitFor(() => running('leaving'), WAIT_MS, 'leaving running');
      const before = await waitFor(() => running('survivor'), WAIT_MS, 'survivor running');
      const pids = await processesWith(word);
      expect(pids).toHaveLength(1);

      const agent = cluster.agent(node);
      await agent.kill('SIGKILL');
      expect(await processesWith(word)).toEqual(pids); // containers outlive their kubelet
      // While the agent is down: one pod is force-deleted (gone from the API at once), one deleted gracefully (it waits for its kubelet).
      await cluster.pods.namespace(NS).delete('forced', { gracePeriodSeconds: 0 });
      await cluster.pods.namespace(NS).delete('leaving');
      agent.launch();
      await agent.waitHealthy(60_000);
      // The restarted kubelet stops what belongs to no pod any more, and finishes the graceful delete.
      await waitFor(async () => ((await processesWith(forced)).length === 0 ? true : undefined), WAIT_MS, 'the force-deleted pod\'s processes stopped');
      await waitFor(async () => ((await cluster.pod(NS, 'leaving')) === undefined ? true : undefined), WAIT_MS, 'the gracefully deleted pod removed');
      expect(await processesWith(leaving)).toEqual([]);
      // A second pod created after the restart runs: the restarted kubelet syncs pods again.
      await cluster.pods.create(bare('after-restart', { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'while true; do sleep 1; done'] }] }, node));
      await waitFor(async () => (statusOf(await cluster.pod(NS, 'after-restart'))?.state?.running ? true : undefined), WAIT_MS, 'a pod started after the restart runs');

      const after = await cluster.pod(NS, 'survivor');
      expect(await processesWith(word)).toEqual(pids);
      expect(statusOf(after)).toMatchObject({ restartCount: 0, containerID: statusOf(before)?.containerID, state: { running: {} } });
      expect(after?.status?.phase).toBe('Running');
    }),
  180_000);
});
