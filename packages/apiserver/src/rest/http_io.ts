import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, apiErrors, decodeKubernetesProtobuf, KUBERNETES_PROTOBUF_CONTENT_TYPE, protobufMessageFor, type Status } from '@k8ts/apimachinery';
import { storeErrorStatus } from '../etcd_client.js';
import { parseDocument as parseYamlDocument } from 'yaml';

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

/** What create and update (and the object subresources) decode, as kube-apiserver lists them in a 415. */
export const OBJECT_MEDIA_TYPES = ['application/json', 'application/yaml', KUBERNETES_PROTOBUF_CONTENT_TYPE] as const;
/** The patch types kube-apiserver accepts for built-in resources, as it lists them in a 415. */
export const PATCH_MEDIA_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'] as const;

/** negotiation.NewUnsupportedMediaTypeError: 415 naming the media types the endpoint accepts. */
export function unsupportedMediaType(accepted: readonly string[]): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    reason: 'UnsupportedMediaType',
    code: 415,
  });
}

/**
 * A create or update body in one of OBJECT_MEDIA_TYPES, as a value; kube's 415 for any other media
 * type. (kubectl's typed clients send built-in objects as protobuf, with no JSON fallback.)
 */
export function decodeObjectBody(body: Buffer, type: string): unknown {
  if (!(OBJECT_MEDIA_TYPES as readonly string[]).includes(type)) throw unsupportedMediaType(OBJECT_MEDIA_TYPES);
  if (type === KUBERNETES_PROTOBUF_CONTENT_TYPE) return decodeProtobuf(body);
  return decodeBody(body, type === 'application/yaml' ? 'yaml' : 'json');
}

/**
 * A JSON or YAML body as a value (undefined when empty); kube's 400 BadRequest when it does not
 * parse, in the shape of the handlers' transformDecodeError: "the object provided is unrecognized
 * (decoding <first 30 bytes>): <the decoder's error>".
 */
export function decodeBody(body: Buffer, syntax: 'json' | 'yaml'): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  if (syntax === 'yaml') {
    const document = parseYamlDocument(text);
    if (document.errors.length > 0) throw unrecognized(body, `error converting YAML to JSON: yaml: ${firstLine(document.errors[0]?.message ?? '')}`);
    return document.toJS() as unknown;
  }
  const tooDeep = exceedsJsonDepth(text);
  if (tooDeep !== undefined) throw unrecognized(body, `couldn't get version/kind; json parse error: ${tooDeep}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw unrecognized(body, `couldn't get version/kind; json parse error: ${goJsonError(error, text)}`);
  }
}

/** Go's encoding/json refuses nesting past 10,000 levels; deeper values would also exhaust our stack later. */
const MAX_JSON_DEPTH = 10_000;

/** Go's scanner error when `text` nests objects and arrays deeper than Go's decoder takes; else undefined. */
export function exceedsJsonDepth(text: string): string | undefined {
  // Each level takes a character: a shorter text (nearly every body) cannot be too deep, unscanned.
  if (text.length <= MAX_JSON_DEPTH) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) return `invalid character '${text[i]}' exceeded max depth`;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return undefined;
}

/**
 * A patch body as a value, refused as kube's patch handler refuses it: a JSON patch or strategic
 * merge patch that does not parse gets encoding/json's error, a merge patch jsonpatch's "Invalid
 * JSON Patch", an apply patch "error decoding YAML: ...". All 400 BadRequest.
 */
export function decodePatchBody(body: Buffer, patchType: 'json' | 'merge' | 'strategic' | 'apply'): unknown {
  const text = body.toString('utf8');
  if (patchType === 'apply') {
    if (text.trim() === '') return undefined;
    const document = parseYamlDocument(text);
    if (document.errors.length > 0) throw apiErrors.badRequest(`error decoding YAML: error converting YAML to JSON: yaml: ${firstLine(document.errors[0]?.message ?? '')}`);
    return document.toJS() as unknown;
  }
  const tooDeep = exceedsJsonDepth(text);
  if (tooDeep !== undefined) throw apiErrors.badRequest(tooDeep);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw apiErrors.badRequest(patchType === 'merge' ? 'Invalid JSON Patch' : goJsonError(error, text));
  }
}

function decodeProtobuf(body: Buffer): unknown {
  let decoded;
  try {
    decoded = decodeKubernetesProtobuf(body);
  } catch (error) {
    throw unrecognized(body, protobufError(body, error));
  }
  if (protobufMessageFor(decoded.apiVersion, decoded.kind) === undefined) throw unsupportedMediaType(OBJECT_MEDIA_TYPES);
  return decoded.object;
}

function unrecognized(body: Buffer, detail: string): ApiError {
  return apiErrors.badRequest(`the object provided is unrecognized (decoding ${summarize(body)}): ${detail}`);
}

/** kube's summarizeData: a JSON object's first 30 characters, anything else's first 30 bytes in hex. */
function summarize(body: Buffer): string {
  if (body.length === 0) return '<empty>';
  const more = body.length > 30 ? ' ...' : '';
  const head = body.subarray(0, 30);
  return body[0] === 0x7b ? `${head.toString('utf8')}${more}` : `${head.toString('hex')}${more}`;
}

/** V8's JSON.parse error in Go's encoding/json words where they have a counterpart. */
function goJsonError(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message)?.[1];
  const atEnd = position !== undefined && Number(position) >= text.trimEnd().length;
  if (atEnd || /Unexpected end of JSON input|Unterminated string/i.test(message)) return 'unexpected end of JSON input';
  return message.charAt(0).toLowerCase() + message.slice(1);
}

/** Go's protobuf decoder: a missing magic is named, a body cut short is "unexpected EOF". */
function protobufError(body: Buffer, error: unknown): string {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') return 'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]';
  const message = error instanceof Error ? error.message : String(error);
  if (/range|EOF|index out of|premature|truncat|invalid wire/i.test(message)) return 'unexpected EOF';
  return message;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
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
  return storeErrorStatus(message) ?? apiErrors.internal(message).status;
}

/** What the client accepts: a Table (kubectl get), or plain JSON. */
export function wantsTable(request: IncomingMessage): boolean {
  const accept = request.headers.accept ?? '';
  return accept.split(',').some((part) => part.includes('as=Table') && part.includes('g=meta.k8s.io') && part.includes('v=v1') && !part.includes('v=v1beta1'));
}
