import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { checkMessage, messageRules, type MessageRule } from './strict_decode.js';

/**
 * What a server handler receives instead of a request whose bytes etcd would not unmarshal: the
 * status etcd (grpc-go) answers with, INTERNAL "grpc: error unmarshalling request: <gogo's error>"
 * for a unary method, "grpc: failed to unmarshal the received message <gogo's error>" for a
 * streaming one (grpc-go's RecvMsg). Handlers refuse it before doing anything (see
 * @k8ts/etcdserver's `unary` and Watch).
 *
 * Why a value and not a throw: grpc-js answers a throwing deserializer with its own fixed text
 * ("Error deserializing request"), and etcd's clients and our differential tests compare etcd's.
 */
export class MalformedRequest {
  readonly code = 13; // grpc.status.INTERNAL
  readonly details: string;
  constructor(
    readonly reason: string,
    streaming: boolean,
  ) {
    this.details = streaming ? `grpc: failed to unmarshal the received message ${reason}` : `grpc: error unmarshalling request: ${reason}`;
  }
}

export function isMalformedRequest(request: unknown): request is MalformedRequest {
  return request instanceof MalformedRequest;
}

/**
 * Replaces, in place, the request deserializer of every method of `packageName`'s services in
 * `definition` with one that first checks the bytes as gogo/protobuf would (strict_decode.ts).
 */
export function makeRequestsStrict(definition: protoLoader.PackageDefinition, packageName: string): void {
  const rules = messageRules(definition);
  for (const [fullName, entry] of Object.entries(definition)) {
    if ('format' in entry || !fullName.startsWith(`${packageName}.`)) continue;
    const service = entry as grpc.ServiceDefinition;
    for (const method of Object.values(service) as protoLoader.MethodDefinition<object, object>[]) {
      const rule = requestRule(rules, packageName, method);
      const lenient = method.requestDeserialize;
      const streaming = method.requestStream || method.responseStream;
      (method as { requestDeserialize: (bytes: Buffer) => object }).requestDeserialize = (bytes: Buffer): object => {
        const refusal = checkMessage(rule, bytes);
        return refusal === undefined ? lenient(bytes) : new MalformedRequest(refusal, streaming);
      };
    }
  }
}

function requestRule(rules: Map<string, MessageRule>, packageName: string, method: protoLoader.MethodDefinition<object, object>): MessageRule {
  const name = (method.requestType.type as { name: string }).name;
  const rule = rules.get(`${packageName}.${name}`);
  if (rule === undefined) throw new Error(`@k8ts/proto: request type ${name} of ${method.path} not found`);
  return rule;
}
