import { request } from 'node:http';

/**
 * The few Docker Engine API calls a compose chaos target makes, over the engine's unix socket.
 * The API rather than the `docker` CLI because the monitor looks at every container twice a second:
 * each CLI call costs ~0.2 s of CPU (a Go binary starting), the same answer from the socket ~1 ms,
 * on machines where the cluster under test shares two cores. The target reads /proc and enters
 * namespaces by pid, so it needs an engine on this machine anyway: a unix socket.
 */

/** A container as `GET /containers/json` lists it (the fields read here). */
export interface ListedContainer {
  readonly Id: string;
  readonly Labels: Readonly<Record<string, string>>;
  /** created, restarting, running, removing, paused, exited or dead. */
  readonly State: string;
  readonly NetworkSettings?: { readonly Networks?: Readonly<Record<string, { readonly IPAddress?: string }>> };
}

/** A container as `GET /containers/{id}/json` describes it (the fields read here). */
export interface InspectedContainer {
  readonly Id: string;
  readonly State: { readonly Status: string; readonly Running: boolean; readonly Paused: boolean; readonly Restarting: boolean; readonly Pid: number };
  readonly Config: { readonly Hostname: string; readonly Cmd?: readonly string[] | null; readonly Labels: Readonly<Record<string, string>> };
  readonly NetworkSettings: { readonly Networks?: Readonly<Record<string, { readonly IPAddress?: string }>> };
}

const REQUEST_TIMEOUT_MS = 30_000;

/** The engine's socket: DOCKER_HOST when it names a unix socket, else Docker's default. */
export function dockerSocket(env: NodeJS.ProcessEnv = process.env): string {
  const host = env['DOCKER_HOST'];
  if (host === undefined || host === '') return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new Error(`DOCKER_HOST=${host}: the compose target needs the engine on this machine (a unix:// socket): it reads containers' /proc and enters their namespaces`);
}

export class DockerEngine {
  constructor(private readonly socketPath: string = dockerSocket()) {}

  /** The containers (running or not) carrying every one of `labels` (`key=value`). */
  async list(labels: readonly string[]): Promise<ListedContainer[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: labels }));
    return (await this.call('GET', `/containers/json?all=true&filters=${filters}`)) as ListedContainer[];
  }

  async inspect(id: string): Promise<InspectedContainer> {
    return (await this.call('GET', `/containers/${id}/json`)) as InspectedContainer;
  }

  /** As `docker kill -s SIGNAL`. */
  async kill(id: string, signal: string): Promise<void> {
    await this.call('POST', `/containers/${id}/kill?signal=${encodeURIComponent(signal)}`);
  }

  /** As `docker start` (a running container is left as it is). */
  async start(id: string): Promise<void> {
    await this.call('POST', `/containers/${id}/start`);
  }

  async pause(id: string): Promise<void> {
    await this.call('POST', `/containers/${id}/pause`);
  }

  async unpause(id: string): Promise<void> {
    await this.call('POST', `/containers/${id}/unpause`);
  }

  /** One request; the parsed JSON answer (undefined for none); throws with the engine's message on 4xx/5xx. */
  private call(method: 'GET' | 'POST', path: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, method, path, timeout: REQUEST_TIMEOUT_MS, headers: { host: 'docker' } }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 400) {
            let message = body.trim();
            try {
              message = (JSON.parse(body) as { message?: string }).message ?? message;
            } catch {
              // not JSON: the raw text
            }
            reject(new Error(`docker engine: ${method} ${path.split('?')[0]}: ${status} ${message}`));
            return;
          }
          try {
            resolve(body === '' ? undefined : JSON.parse(body));
          } catch (error) {
            reject(new Error(`docker engine: ${method} ${path.split('?')[0]}: unreadable answer: ${(error as Error).message}`));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`docker engine: ${method} ${path.split('?')[0]}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end();
    });
  }
}
