import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import { leaderGauge } from '@k8ts/service';
import { formatLeaderReport, leaderReports } from './leaders.js';

const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

/** An HTTP server answering each path from `routes` (404 otherwise). */
async function serve(routes: Record<string, { status?: number; body: string }>): Promise<string> {
  const server = createServer((request, response) => {
    const route = routes[request.url ?? ''];
    response.writeHead(route?.status ?? (route ? 200 : 404)).end(route?.body ?? '');
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const gauge = (name: string, value: number): string =>
  `# TYPE leader_election_master_status gauge\nleader_election_master_status{name="${name}"} ${value}\nprocess_cpu_seconds_total 1\n`;
const leasePath = (name: string): string => `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`;

describe("reading who leads from the Lease and the replicas' /metrics", () => {
  test('the gauge is read for the named Lease only', () => {
    const text = `${gauge('kube-scheduler', 0)}leader_election_master_status{zone="a",name="kube-controller-manager"} 1\n`;
    expect(leaderGauge(text, 'kube-scheduler')).toBe(0);
    expect(leaderGauge(text, 'kube-controller-manager')).toBe(1);
    expect(leaderGauge(text, 'other')).toBeUndefined();
  });

  test('the replica reporting 1 leads; the Lease names its holder and whether it expired', async () => {
    const now = Date.parse('2026-01-01T00:00:10Z');
    const apiserver = await serve({
      [leasePath('kube-scheduler')]: { body: JSON.stringify({ spec: { holderIdentity: 'host_a', renewTime: '2026-01-01T00:00:05.000000Z', leaseDurationSeconds: 15 } }) },
      [leasePath('kube-controller-manager')]: { body: JSON.stringify({ spec: { holderIdentity: 'host_b', renewTime: '2026-01-01T00:00:00.000000Z', leaseDurationSeconds: 5 } }) },
    });
    const replica = async (lease: string, value: number): Promise<string> => serve({ '/metrics': { body: gauge(lease, value) } });
    const processes = [
      { name: 'scheduler-1', healthUrl: await replica('kube-scheduler', 0), lease: 'kube-scheduler' },
      { name: 'scheduler-2', healthUrl: await replica('kube-scheduler', 1), lease: 'kube-scheduler' },
      { name: 'controller-manager-1', healthUrl: await replica('kube-controller-manager', 0), lease: 'kube-controller-manager' },
      { name: 'controller-manager-2', healthUrl: await serve({}), lease: 'kube-controller-manager' },
    ];
    const [scheduler, manager] = await leaderReports(apiserver, processes, now);
    expect(scheduler).toEqual({ lease: 'kube-scheduler', holder: 'host_a', expired: false, leaders: ['scheduler-2'], problems: [] });
    expect(formatLeaderReport(scheduler!)).toBe('kube-scheduler:           scheduler-2 leads (Lease kube-system/kube-scheduler: holderIdentity host_a)');
    expect(manager).toEqual({ lease: 'kube-controller-manager', holder: 'host_b', expired: true, leaders: [], problems: ['controller-manager-2: /metrics answered 404'] });
    expect(formatLeaderReport(manager!)).toBe(
      'kube-controller-manager:  no local replica leads (Lease kube-system/kube-controller-manager: holderIdentity host_b, expired); could not read controller-manager-2: /metrics answered 404',
    );
  });

  test('no Lease yet, a released one, and an API server that fails', async () => {
    const apiserver = await serve({ [leasePath('released')]: { body: JSON.stringify({ spec: { holderIdentity: '' } }) }, [leasePath('broken')]: { status: 500, body: 'etcd down' } });
    const replica = (lease: string): { name: string; healthUrl: string; lease: string } => ({ name: lease, healthUrl: 'http://127.0.0.1:1', lease });
    const reports = await leaderReports(apiserver, [replica('missing'), replica('released'), replica('broken')]);
    expect(reports.map((report) => [report.holder, report.problems[0]?.split(':')[0]])).toEqual([
      [undefined, 'missing'],
      ['', 'released'],
      [undefined, 'lease'],
    ]);
    expect(formatLeaderReport(reports[0]!)).toContain('no Lease yet');
    expect(formatLeaderReport(reports[1]!)).toContain('Lease released');
    expect(reports[2]?.problems[0]).toBe('lease: GET lease broken: 500 etcd down');
  });
});
