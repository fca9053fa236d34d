import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { Indexer, Lister } from '@k8ts/client';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket, Packet, RecordType } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { informerRecordSource, type EndpointSliceObject, type ServiceObject } from './informer_records.js';
import { ClusterDnsServer } from './server.js';
import { bindUdpAndTcp } from './udp_tcp_port.js';

const WAIT_MS = 5_000;
const rcodeOf = (packet: DecodedPacket): string => (packet as DecodedPacket & { rcode: string }).rcode;

/** A stand-in for the node's resolver: fixed answers over UDP and TCP, counting queries per transport. */
class FakeUpstream {
  readonly seen: { transport: 'udp' | 'tcp'; name: string }[] = [];
  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<FakeUpstream> {
    const { udp, tcp, port } = await bindUdpAndTcp('127.0.0.1', 0);
    const upstream = new FakeUpstream(udp, tcp, port);
    udp.on('message', (message, remote) => {
      const reply = upstream.answer(message, 'udp');
      if (reply) udp.send(reply, remote.port, remote.address);
    });
    tcp.on('connection', (socket) => {
      socket.on('error', () => undefined);
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const reply = upstream.answer(pending.subarray(2, 2 + pending.readUInt16BE(0)), 'tcp');
          pending = pending.subarray(2 + pending.readUInt16BE(0));
          if (reply) socket.write(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply]));
        }
      });
    });
    return upstream;
  }

  /** example.org A; big.example.org TXT too large for UDP (TC over UDP); silent.example.org never answers. */
  private answer(message: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    const query = dnsPacket.decode(message);
    const question = query.questions?.[0];
    if (!question) return undefined;
    this.seen.push({ transport, name: question.name });
    const base: Packet = { type: 'response', id: query.id ?? 0, flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED, questions: [question] };
    if (question.name === 'silent.example.org') return undefined;
    if (question.name === 'example.org' && question.type === 'A') return dnsPacket.encode({ ...base, answers: [{ name: 'example.org', type: 'A', ttl: 60, data: '192.0.2.7' }] });
    if (question.name === 'big.example.org') {
      if (transport === 'udp') return dnsPacket.encode({ ...base, flags: (base.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE });
      const answers = Array.from({ length: 40 }, (_, i) => ({ name: 'big.example.org', type: 'TXT' as const, ttl: 60, data: `record ${i} ${'x'.repeat(40)}` }));
      return dnsPacket.encode({ ...base, answers });
    }
    return dnsPacket.encode({ ...base, flags: (base.flags ?? 0) | 3 });
  }

  async stop(): Promise<void> {
    this.udp.close();
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }
}

let nextId = 1;
function query(name: string, type: RecordType, options: { edns?: number } = {}): Buffer {
  const packet: Packet = { type: 'query', id: nextId++, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] };
  if (options.edns !== undefined) packet.additionals = [{ name: '.', type: 'OPT', udpPayloadSize: options.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }];
  return dnsPacket.encode(packet);
}

/** Sends raw datagrams from one socket; resolves with the first reply (bounded wait). */
function udpExchange(port: number, ...messages: Buffer[]): Promise<{ raw: Buffer; packet: DecodedPacket }> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no UDP reply'));
    }, WAIT_MS);
    socket.on('message', (raw) => {
      clearTimeout(timer);
      socket.close();
      resolve({ raw, packet: dnsPacket.decode(raw) });
    });
    for (const message of messages) socket.send(message, port, '127.0.0.1');
  });
}

/** Sends length-prefixed frames on one connection; resolves with the first `count` replies. */
function tcpExchange(port: number, frames: Buffer[], count = frames.length): Promise<DecodedPacket[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const replies: DecodedPacket[] = [];
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`only ${replies.length} of ${count} TCP replies`));
    }, WAIT_MS);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        replies.push(dnsPacket.decode(pending.subarray(2, 2 + pending.readUInt16BE(0))));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
      }
      if (replies.length >= count) {
        clearTimeout(timer);
        socket.destroy();
        resolve(replies);
      }
    });
    for (const frame of frames) socket.write(Buffer.concat([Buffer.from([frame.length >> 8, frame.length & 0xff]), frame]));
  });
}

describe('ClusterDnsServer over real UDP and TCP sockets', () => {
  let upstream: FakeUpstream;
  let server: ClusterDnsServer;
  let port: number;

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    const services = new Indexer<ServiceObject>();
    const slices = new Indexer<EndpointSliceObject>();
    services.upsert({ metadata: { namespace: 'web', name: 'api' }, spec: { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80 }] } });
    services.upsert({ metadata: { namespace: 'web', name: 'many' }, spec: { clusterIP: 'None' } });
    services.upsert({ metadata: { namespace: 'web', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.org' } });
    slices.upsert({
      metadata: { namespace: 'web', name: 'many-1', labels: { 'kubernetes.io/service-name': 'many' } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: 100 }, (_, i) => ({ addresses: [`10.244.0.${i + 1}`] })),
    });
    const records = informerRecordSource({ services: new Lister(services), endpointSlices: new Lister(slices) });
    server = new ClusterDnsServer({ address: '127.0.0.1', port: 0, zone: 'cluster.local', records, upstream: [`127.0.0.1:${upstream.port}`], ttl: 5, forwardTimeoutMs: 300 });
    port = (await server.start()).port;
  });

  afterAll(async () => {
    await server?.stop();
    await upstream?.stop();
  });

  test('a Service answers over UDP and TCP, authoritative, id echoed, TTL 5', async () => {
    const message = query('api.web.svc.cluster.local', 'A');
    const { packet } = await udpExchange(port, message);
    expect([packet.id, packet.flag_qr, packet.flag_aa, rcodeOf(packet)]).toEqual([message.readUInt16BE(0), true, true, 'NOERROR']);
    expect(packet.answers).toEqual([expect.objectContaining({ name: 'api.web.svc.cluster.local', type: 'A', ttl: 5, data: '10.96.0.20' })]);
    const [overTcp] = await tcpExchange(port, [query('API.web.svc.cluster.local', 'A')]);
    expect(overTcp?.answers?.map((record) => ('data' in record ? record.data : undefined))).toEqual(['10.96.0.20']);
  });

  test('NXDOMAIN with the SOA in authority; NODATA for AAAA', async () => {
    const { packet } = await udpExchange(port, query('missing.web.svc.cluster.local', 'A'));
    expect([rcodeOf(packet), packet.answers, packet.authorities?.map((record) => record.type)]).toEqual(['NXDOMAIN', [], ['SOA']]);
    const nodata = (await udpExchange(port, query('api.web.svc.cluster.local', 'AAAA'))).packet;
    expect([rcodeOf(nodata), nodata.answers, nodata.authorities?.map((record) => record.type)]).toEqual(['NOERROR', [], ['SOA']]);
  });

  test('names outside the zone go to the upstream over the client’s transport', async () => {
    upstream.seen.length = 0;
    const { packet } = await udpExchange(port, query('example.org', 'A'));
    expect([rcodeOf(packet), packet.flag_aa, packet.answers?.map((record) => ('data' in record ? record.data : undefined))]).toEqual(['NOERROR', false, ['192.0.2.7']]);
    const [overTcp] = await tcpExchange(port, [query('nothere.example.org', 'A')]);
    expect(rcodeOf(overTcp as DecodedPacket)).toBe('NXDOMAIN');
    expect(upstream.seen).toEqual([
      { transport: 'udp', name: 'example.org' },
      { transport: 'tcp', name: 'nothere.example.org' },
    ]);
  });

  test('a truncated upstream answer is asked again over TCP; the client gets it whole when it fits its EDNS size, else TC', async () => {
    upstream.seen.length = 0;
    const { packet, raw } = await udpExchange(port, query('big.example.org', 'TXT', { edns: 4096 }));
    expect([packet.flag_tc, packet.answers?.length]).toEqual([false, 40]);
    expect(raw.length).toBeGreaterThan(512);
    expect(upstream.seen.map((seen) => seen.transport)).toEqual(['udp', 'tcp']);
    const classic = (await udpExchange(port, query('big.example.org', 'TXT'))).packet;
    expect([classic.flag_tc, classic.answers, classic.questions?.[0]?.name]).toEqual([true, [], 'big.example.org']);
  });

  test('a zone answer too large for 512 bytes is truncated over UDP and whole over TCP', async () => {
    const udp = (await udpExchange(port, query('many.web.svc.cluster.local', 'A'))).packet;
    expect([udp.flag_tc, udp.flag_aa, udp.answers]).toEqual([true, true, []]);
    const [tcp] = await tcpExchange(port, [query('many.web.svc.cluster.local', 'A')]);
    expect(tcp?.answers).toHaveLength(100);
  });

  test('an upstream that never answers gives SERVFAIL', async () => {
    const { packet } = await udpExchange(port, query('silent.example.org', 'A'));
    expect(rcodeOf(packet)).toBe('SERVFAIL');
  });

  test('ExternalName: the CNAME and its target resolved through the upstream', async () => {
    const { packet } = await udpExchange(port, query('ext.web.svc.cluster.local', 'A'));
    expect(packet.answers?.map((record) => [record.type, 'data' in record ? record.data : undefined])).toEqual([
      ['CNAME', 'example.org'],
      ['A', '192.0.2.7'],
    ]);
  });

  test('malformed packets: FORMERR when the header parses, dropped when it does not, and the server keeps serving', async () => {
    const garbage = Buffer.from([0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78]);
    const formErr = (await udpExchange(port, garbage)).packet;
    expect([formErr.id, formErr.flag_qr, rcodeOf(formErr)]).toEqual([0xbeef, true, 'FORMERR']);
    // Too short for a header: no answer at all, so the first reply is the valid query's.
    const valid = query('api.web.svc.cluster.local', 'A');
    const after = (await udpExchange(port, Buffer.from([1, 2, 3]), valid)).packet;
    expect([after.id, rcodeOf(after)]).toEqual([valid.readUInt16BE(0), 'NOERROR']);
    // Two questions: FORMERR. Over TCP the connection goes on serving after garbage.
    const twoQuestions = dnsPacket.encode({ type: 'query', id: 77, questions: [{ name: 'a.cluster.local', type: 'A' }, { name: 'b.cluster.local', type: 'A' }] });
    const replies = await tcpExchange(port, [garbage, twoQuestions, query('api.web.svc.cluster.local', 'A')]);
    expect(replies.map((reply) => [reply.id, rcodeOf(reply)])).toEqual([
      [0xbeef, 'FORMERR'],
      [77, 'FORMERR'],
      [expect.any(Number), 'NOERROR'],
    ]);
    expect(server.counters.malformed).toBeGreaterThanOrEqual(3);
  });
  test('a port whose TCP side is taken fails EADDRINUSE and holds nothing; free again, it serves', async () => {
    const taken = createServer();
    const held = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)));
    const records = informerRecordSource({ services: new Lister(new Indexer<ServiceObject>()), endpointSlices: new Lister(new Indexer<EndpointSliceObject>()) });
    const options = { address: '127.0.0.1', port: held, zone: 'cluster.local', records, upstream: [] };
    await expect(new ClusterDnsServer(options).start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    // The UDP side of the failed start was released: the same port binds both again.
    const second = new ClusterDnsServer(options);
    expect(await second.start()).toEqual({ port: held });
    await second.stop();
  });
});
