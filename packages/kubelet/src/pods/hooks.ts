/**
 * Container lifecycle hooks (postStart, preStop) with the three handlers upstream has: exec (in the
 * container, through the runtime), httpGet (against the pod's IP, or `host`), sleep. A hook resolves to
 * undefined when it succeeded and to the failure's message otherwise; it never rejects.
 */
import { sleep, type Clock } from '@k8ts/base';
import type { Container, LifecycleHandler } from 'kubernetes-types/core/v1.js';
import type { Runtime } from '../runtime/runtime.js';

export interface HookContext {
  readonly runtime: Runtime;
  readonly clock: Clock;
  readonly containerId: string;
  readonly container: Container;
  readonly podIP: string;
  /** How long the hook may take at most (preStop: the grace period). */
  readonly timeoutSeconds: number;
  readonly signal?: AbortSignal;
}

export async function runHook(handler: LifecycleHandler, context: HookContext): Promise<string | undefined> {
  try {
    if (handler.exec !== undefined) return await execHook(handler.exec.command ?? [], context);
    if (handler.httpGet !== undefined) return await httpHook(handler.httpGet, context);
    if (handler.sleep !== undefined) {
      await sleep(context.clock, Math.min(handler.sleep.seconds, context.timeoutSeconds) * 1000, context.signal);
      return undefined;
    }
    return 'a lifecycle handler needs exec, httpGet or sleep';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** What kind of handler it is, as upstream names it in events ("Exec", "HTTP", "Sleep"). */
export function hookKind(handler: LifecycleHandler): string {
  if (handler.exec !== undefined) return `Exec lifecycle hook (${JSON.stringify(handler.exec.command ?? [])})`;
  if (handler.httpGet !== undefined) return `HTTP lifecycle hook (${handler.httpGet.path ?? ''})`;
  return 'Sleep lifecycle hook';
}

async function execHook(command: readonly string[], context: HookContext): Promise<string | undefined> {
  const result = await context.runtime.execSync(context.containerId, command, context.timeoutSeconds);
  if (result.exitCode === 0) return undefined;
  const output = Buffer.concat([Buffer.from(result.stdout), Buffer.from(result.stderr)]).toString('utf8');
  return `command '${command.join(' ')}' exited with ${result.exitCode}: ${output}`;
}

async function httpHook(action: NonNullable<LifecycleHandler['httpGet']>, context: HookContext): Promise<string | undefined> {
  const port = resolvePort(action.port, context.container);
  if (port === undefined) return `unable to resolve port ${String(action.port)}`;
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || context.podIP || '127.0.0.1';
  const path = action.path ?? '/';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
  const headers = Object.fromEntries((action.httpHeaders ?? []).map((header) => [header.name, header.value]));
  const timeout = AbortSignal.timeout(Math.max(1, context.timeoutSeconds) * 1000);
  const response = await fetch(url, { headers, signal: context.signal ? AbortSignal.any([timeout, context.signal]) : timeout });
  await response.arrayBuffer().catch(() => undefined);
  if (response.status >= 200 && response.status < 400) return undefined;
  return `HTTP lifecycle hook (${path}) for Container "${context.container.name}" failed - error: received status code ${response.status}`;
}

/** A numeric port, or a named one looked up in the container's ports. */
export function resolvePort(port: number | string, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}
