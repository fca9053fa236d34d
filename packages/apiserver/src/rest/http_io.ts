import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, apiErrors, decodeKubernetesProtobuf, KUBERNETES_PROTOBUF_CONTENT_TYPE, protobufMessageFor, type Status } from '@k8ts/apimachinery';
import { parse as parseYaml } from 'yaml';

/** kube-apiserver's default limit on a request body (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw apiErrors.tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The media type of a request body, without parameters ("application/json"). */
export function mediaType(request: IncomingMessage): string {
  return (request.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? 'application/json';
}

/**
 * A JSON, YAML or Kubernetes protobuf body as a value; kube's 400 BadRequest when it does not
 * parse. (kubectl's typed clients send built-in objects as protobuf, with no JSON fallback.)
 */
export function decodeBody(body: Buffer, type: string): unknown {
  if (type === KUBERNETES_PROTOBUF_CONTENT_TYPE) return decodeProtobuf(body);
  if (type !== 'json' && type !== 'yaml' && !type.includes('json') && !type.includes('yaml')) throw apiErrors.unsupportedMediaType(type);
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    if (type.includes('yaml')) return parseYaml(text) as unknown;
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw apiErrors.badRequest(`the object provided is unrecognized or could not be decoded: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function decodeProtobuf(body: Buffer): unknown {
  let decoded;
  try {
    decoded = decodeKubernetesProtobuf(body);
  } catch (error) {
    throw apiErrors.badRequest(`the object provided is unrecognized or could not be decoded: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (protobufMessageFor(decoded.apiVersion, decoded.kind) === undefined) throw apiErrors.unsupportedMediaType(KUBERNETES_PROTOBUF_CONTENT_TYPE);
  return decoded.object;
}

export function sendJson(response: ServerResponse, code: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  response.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

export function sendStatus(response: ServerResponse, status: Status): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  sendJson(response, status.code, status);
}

/** Any thrown error as the Status kube-apiserver would answer with. */
export function statusOf(error: unknown): Status {
  if (error instanceof ApiError) return error.status;
  const message = error instanceof Error ? error.message : String(error);
  if (/etcdserver|UNAVAILABLE|DEADLINE_EXCEEDED|no response/i.test(message)) {
    return apiErrors.timeout(`the server was unable to return a response in the time allotted, but may still be processing the request (store: ${message})`).status;
  }
  return apiErrors.internal(message).status;
}

/** What the client accepts: a Table (kubectl get), or plain JSON. */
export function wantsTable(request: IncomingMessage): boolean {
  const accept = request.headers.accept ?? '';
  return accept.split(',').some((part) => part.includes('as=Table') && part.includes('g=meta.k8s.io') && part.includes('v=v1') && !part.includes('v=v1beta1'));
}
