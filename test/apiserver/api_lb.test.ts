import { ApiLoadBalancerProcess, ApiServerProcess, TestCluster, waitForLeader } from '@k8ts/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

/**
 * k8ts-api-lb in front of two real API servers over one store, driven by the real kubectl: it works
 * through the load balancer; with one API server stopped, kubectl keeps working (at once, by the
 * proxy's retry on a refused dial, and after the health checks take the backend out), the
 * backend's gauge shows it down; started again, the checks bring it back in.
 */
let store: TestCluster;
let apiservers: ApiServerProcess[] = [];
let lb: ApiLoadBalancerProcess;

const backendOf = (api: ApiServerProcess): string => new URL(api.url).host;

beforeAll(async () => {
  store = await TestCluster.start('k8ts');
  await waitForLeader(store.endpoints);
  apiservers = await Promise.all([ApiServerProcess.start(store.endpoints), ApiServerProcess.start(store.endpoints)]);
  lb = await ApiLoadBalancerProcess.start(apiservers.map(backendOf), {
    extraArgs: ['--health-interval', '200ms', '--health-timeout', '1s', '--health-failure-threshold', '2', '--health-success-threshold', '2'],
  });
}, 90_000);

afterAll(async () => {
  await lb?.stop();
  for (const api of apiservers) await api.stop();
  await store?.stop();
});

/** The k8ts_api_lb_backend_up gauge of each backend, from the load balancer's /metrics. */
async function backendUp(): Promise<Record<string, number>> {
  const text = await lb.metrics();
  return Object.fromEntries([...text.matchAll(/^k8ts_api_lb_backend_up\{backend="([^"]+)"\} (\d+)$/gm)].map((match) => [match[1] as string, Number(match[2])]));
}

/** Polls `check` until it holds, failing after `timeoutMs` with what it last saw. */
async function until<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}\n${lb.log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function kubectlOk(args: string[]): Promise<string> {
  const result = await lb.kubectl(args);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

test('kubectl through the load balancer works, and both API servers are in its pool', async () => {
  await kubectlOk(['create', 'configmap', 'through-lb', '--from-literal=a=1']);
  expect(await kubectlOk(['get', 'configmap', 'through-lb', '-o', 'jsonpath={.data.a}'])).toBe('1');
  const [first, second] = apiservers.map(backendOf) as [string, string];
  expect(await until('both backends up', backendUp, (up) => up[first] === 1 && up[second] === 1)).toEqual({ [first]: 1, [second]: 1 });
  const metrics = await lb.metrics();
  expect(metrics).toMatch(/^k8ts_api_lb_accepted_connections_total \d+$/m);
  expect(metrics).toMatch(/^k8ts_api_lb_health_checks_total\{backend="[^"]+",result="success"\} \d+$/m);
});

test('an API server is killed (-9): kubectl keeps working, its backend goes down; it starts again: back in', async () => {
  const [gone, staying] = apiservers as [ApiServerProcess, ApiServerProcess];
  await gone.kill('SIGKILL');
  // At once, whether or not the checks have noticed yet: a dial the dead server refuses is retried on the other.
  for (let i = 0; i < 3; i++) await kubectlOk(['get', 'configmap', 'through-lb', '-o', 'name']);

  const down = await until('the stopped backend down', backendUp, (up) => up[backendOf(gone)] === 0);
  expect(down[backendOf(staying)]).toBe(1);
  await kubectlOk(['create', 'configmap', 'while-one-is-down', '--from-literal=b=2']);
  for (let i = 0; i < 3; i++) expect(await kubectlOk(['get', 'configmap', 'while-one-is-down', '-o', 'jsonpath={.data.b}'])).toBe('2');
  expect(lb.log).toContain('backend down');

  gone.launch(); // same port and flags
  await gone.waitReady();
  await until('the restarted backend back up', backendUp, (up) => up[backendOf(gone)] === 1 && up[backendOf(staying)] === 1);
  expect(lb.log).toContain('backend up');
  await kubectlOk(['get', 'configmap', 'while-one-is-down', '-o', 'name']);
});

test('SIGTERM stops it cleanly (exit code 0)', async () => {
  expect(await lb.kill('SIGTERM')).toBe(0);
  lb.launch();
  await lb.waitHealthy();
});
