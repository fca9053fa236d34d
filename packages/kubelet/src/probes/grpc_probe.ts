import * as grpc from '@grpc/grpc-js';
import { failure, goDuration, joinHostPort, success, type ProbeOutcome } from './probe_result.js';
import { PROBE_USER_AGENT } from './http_probe.js';

/**
 * A grpc probe: grpc.health.v1.Health/Check on the pod's port (plaintext), as upstream's grpc prober:
 * SERVING passes, any other status fails with `service unhealthy (responded with "NOT_SERVING")`;
 * the messages for a server that cannot be reached, does not implement the protocol or is too slow
 * are upstream's.
 */

const HEALTH_CHECK = '/grpc.health.v1.Health/Check';
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

export async function grpcProbe(host: string, port: number, service: string, timeoutSeconds: number): Promise<ProbeOutcome> {
  const address = joinHostPort(host, port);
  const timeout = goDuration(timeoutSeconds);
  const deadline = Date.now() + timeoutSeconds * 1000;
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.primary_user_agent': PROBE_USER_AGENT });
  try {
    const connected = await new Promise<Error | undefined>((resolve) => client.waitForReady(deadline, (error) => resolve(error ?? undefined)));
    if (connected !== undefined) return failure(`timeout: failed to connect service ${JSON.stringify(address)} within ${timeout}: context deadline exceeded`);
    const response = await new Promise<{ status: number } | grpc.ServiceError>((resolve) =>
      client.makeUnaryRequest(HEALTH_CHECK, encodeRequest, decodeResponse, service, new grpc.Metadata(), { deadline }, (error, value) =>
        resolve(error ?? value ?? { status: 0 }),
      ),
    );
    if ('code' in response) {
      if (response.code === grpc.status.UNIMPLEMENTED) {
        return failure(`error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${response.details}`);
      }
      if (response.code === grpc.status.DEADLINE_EXCEEDED) return failure(`timeout: health rpc did not complete within ${timeout}`);
      return failure(`error: health rpc probe failed: rpc error: code = ${goCodeName(response.code)} desc = ${response.details}`);
    }
    if (response.status !== 1) return failure(`service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[response.status] ?? String(response.status))})`);
    return success('service healthy');
  } finally {
    client.close();
  }
}

/** HealthCheckRequest { string service = 1; } */
function encodeRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const bytes = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]);
}

/** HealthCheckResponse { ServingStatus status = 1; } (other fields skipped). */
function decodeResponse(buffer: Buffer): { status: number } {
  let status = 0;
  let offset = 0;
  const readVarint = (): number => {
    let value = 0;
    for (let shift = 0; offset < buffer.length; shift += 7) {
      const byte = buffer[offset++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
    }
    return value;
  };
  while (offset < buffer.length) {
    const tag = readVarint();
    const wireType = tag & 7;
    if (tag >>> 3 === 1 && wireType === 0) status = readVarint();
    else if (wireType === 0) readVarint();
    else if (wireType === 2) offset += readVarint();
    else if (wireType === 1) offset += 8;
    else if (wireType === 5) offset += 4;
    else break;
  }
  return { status };
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

/** grpc-js's NOT_FOUND → Go's NotFound. */
function goCodeName(code: number): string {
  const name = Object.entries(grpc.status).find(([, value]) => value === code)?.[0] ?? String(code);
  return name === 'OK' ? 'OK' : name.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
}
