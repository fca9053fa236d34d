import type { Socket as UdpSocket } from 'node:dgram';
import type { Server, Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import { pino, type Logger } from 'pino';
import { forwardQuery, isTruncated, parseUpstream, type Upstream } from './forwarder.js';
import { inZone, normalizeName } from './query_name.js';
import type { DnsRecordSource } from './record_source.js';
import { bindUdpAndTcp } from './udp_tcp_port.js';
import { answerInZone, type ZoneSettings } from './zone_answer.js';

export interface ClusterDnsServerOptions {
  readonly address: string;
  /** 0: any free port (see `start()`'s result). UDP and TCP listen on the same port. */
  readonly port: number;
  readonly zone?: string;
  readonly records: DnsRecordSource;
  /** Nameservers for names outside the zone (the node's resolv.conf): `ip` or `ip:port`, `[v6]:port`. */
  readonly upstream: readonly string[];
  /** Seconds, for every record served from the zone (CoreDNS's kubernetes plugin: 5). */
  readonly ttl?: number;
  readonly logger?: Logger;
  /** Per upstream attempt. */
  readonly forwardTimeoutMs?: number;
  /** Forwarded queries in flight; past it a query gets REFUSED (CoreDNS forward's max_concurrent). */
  readonly maxConcurrentForwards?: number;
  readonly maxTcpConnections?: number;
  /** A TCP connection with no query for this long is closed. */
  readonly tcpIdleTimeoutMs?: number;
}

export interface DnsServerCounters {
  queries: number;
  answeredFromZone: number;
  forwarded: number;
  forwardFailures: number;
  refused: number;
  malformed: number;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type Rcode = keyof typeof RCODE;
const QR = 0x8000;
const CLASSIC_UDP_SIZE = 512;
/** Queries in flight on one TCP connection before it stops reading (RFC 7766 pipelining, bounded). */
const MAX_TCP_PIPELINE = 64;
/** What we advertise in our OPT record (the DNS flag day 2020 size). */
const EDNS_UDP_SIZE = 1232;

/**
 * The cluster DNS server: authoritative for `zone` from a DnsRecordSource, a forwarder for every
 * other name, over UDP and TCP on one address and port.
 *
 * Contract:
 * - Every well-formed query gets one answer: from the zone (AA set, NXDOMAIN/NODATA with the SOA),
 *   forwarded (the upstream's answer as it is), SERVFAIL when no upstream answered, or REFUSED past
 *   `maxConcurrentForwards`. Other opcodes: NOTIMP; not exactly one question: FORMERR.
 * - A packet whose header parses but whose body does not gets FORMERR; one shorter than a header,
 *   or a response, is dropped, as CoreDNS's server does. Nothing a client sends stops the server.
 * - Over UDP an answer larger than the client's limit (512, or its EDNS size) goes out truncated
 *   (TC, question only) so the client asks again over TCP.
 * - ExternalName aliases are followed once for A/AAAA: in the zone, or through the upstreams.
 */
export class ClusterDnsServer {
  readonly counters: DnsServerCounters = { queries: 0, answeredFromZone: 0, forwarded: 0, forwardFailures: 0, refused: 0, malformed: 0 };
  private readonly zone: ZoneSettings;
  private readonly upstreams: Upstream[];
  private readonly logger: Logger;
  private readonly forwardTimeoutMs: number;
  private readonly maxConcurrentForwards: number;
  private forwardsInFlight = 0;
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly tcpConnections = new Set<Socket>();

  constructor(private readonly options: ClusterDnsServerOptions) {
    this.zone = { zone: normalizeName(options.zone ?? 'cluster.local'), ttl: options.ttl ?? 5, serial: Math.floor(Date.now() / 1000) >>> 0 };
    this.upstreams = options.upstream.map(parseUpstream);
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'cluster-dns' });
    this.forwardTimeoutMs = options.forwardTimeoutMs ?? 2000;
    this.maxConcurrentForwards = options.maxConcurrentForwards ?? 1000;
  }

  /** Binds UDP, then TCP on the same port (udp_tcp_port.ts); resolves to that port. */
  async start(): Promise<{ port: number }> {
    if (this.udp) throw new Error('ClusterDnsServer: already started');
    const { udp, tcp, port } = await bindUdpAndTcp(this.options.address, this.options.port);
    this.udp = udp;
    this.tcp = tcp;
    udp.on('message', (message, remote) => this.onUdpMessage(udp, message, remote.address, remote.port));
    udp.on('error', (error) => this.logger.error({ err: error }, 'udp socket error'));
    tcp.on('connection', (socket) => this.onTcpConnection(socket));
    tcp.maxConnections = this.options.maxTcpConnections ?? 1000;
    tcp.on('error', (error) => this.logger.error({ err: error }, 'tcp server error'));
    this.logger.info({ address: this.options.address, port, zone: this.zone.zone, upstream: this.options.upstream }, 'cluster DNS serving');
    return { port };
  }

  async stop(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const socket of this.tcpConnections) socket.destroy();
    this.tcpConnections.clear();
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  /**
   * The answer to one message as received (without TCP's length prefix), or undefined to drop it.
   * Never rejects.
   */
  async handle(message: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    if (message.length < 12) {
      this.counters.malformed++;
      return undefined;
    }
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      this.counters.malformed++;
      return formatError(message);
    }
    if (query.type === 'response') return undefined;
    this.counters.queries++;
    const opcode = (message.readUInt16BE(2) >> 11) & 0xf;
    const questions = query.questions ?? [];
    if (opcode !== 0) return encodeResponse(query, questions, 'NOTIMP', {});
    const question = questions[0];
    if (questions.length !== 1 || question === undefined) return formatError(message);
    let response: Buffer;
    try {
      response = inZone(normalizeName(question.name), this.zone.zone) ? await this.answerFromZone(query, question) : await this.forward(query, message, transport);
    } catch (error) {
      this.logger.error({ err: error, name: question.name, type: question.type }, 'answering failed');
      response = encodeResponse(query, questions, 'SERVFAIL', {});
    }
    return transport === 'udp' ? fitUdp(query, response) : response;
  }

  private async answerFromZone(query: DecodedPacket, question: Question): Promise<Buffer> {
    this.counters.answeredFromZone++;
    const answer = answerInZone(question.name, question.type, this.options.records, this.zone);
    const answers = [...answer.answers];
    const alias = answers.find((record) => record.type === 'CNAME');
    if (alias && 'data' in alias && typeof alias.data === 'string' && (question.type === 'A' || question.type === 'AAAA')) {
      answers.push(...(await this.resolveAlias(alias.data, question)));
    }
    return encodeResponse(query, [question], answer.rcode, { answers, authorities: answer.authorities, additionals: answer.additionals, authoritative: true });
  }

  /** The A/AAAA records of an ExternalName's target, one hop; none when it cannot be resolved. */
  private async resolveAlias(target: string, question: Question): Promise<Answer[]> {
    if (inZone(normalizeName(target), this.zone.zone)) {
      return answerInZone(target, question.type, this.options.records, this.zone).answers.filter((record) => record.type === question.type);
    }
    if (this.upstreams.length === 0 || !this.takeForwardSlot()) return [];
    try {
      const lookup = dnsPacket.encode({ type: 'query', id: (Math.random() * 0x10000) >>> 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: target, type: question.type, class: 'IN' }] });
      const reply = dnsPacket.decode(await forwardQuery(lookup, 'udp', this.upstreams, this.forwardTimeoutMs));
      return (reply.answers ?? []).filter((record) => record.type === 'CNAME' || record.type === question.type);
    } catch (error) {
      this.logger.debug({ err: error, target }, 'ExternalName target did not resolve');
      return [];
    } finally {
      this.forwardsInFlight--;
    }
  }

  private async forward(query: DecodedPacket, message: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    const questions = query.questions ?? [];
    if (this.upstreams.length === 0) return encodeResponse(query, questions, 'SERVFAIL', {});
    if (!this.takeForwardSlot()) {
      this.counters.refused++;
      return encodeResponse(query, questions, 'REFUSED', {});
    }
    this.counters.forwarded++;
    try {
      return await forwardQuery(message, transport, this.upstreams, this.forwardTimeoutMs);
    } catch (error) {
      this.counters.forwardFailures++;
      this.logger.warn({ err: error, name: questions[0]?.name }, 'no upstream answered');
      return encodeResponse(query, questions, 'SERVFAIL', {});
    } finally {
      this.forwardsInFlight--;
    }
  }

  private takeForwardSlot(): boolean {
    if (this.forwardsInFlight >= this.maxConcurrentForwards) return false;
    this.forwardsInFlight++;
    return true;
  }

  private onUdpMessage(udp: UdpSocket, message: Buffer, address: string, port: number): void {
    this.handle(message, 'udp').then(
      (response) => {
        if (response === undefined || this.udp !== udp) return;
        udp.send(response, port, address, (error) => {
          if (error) this.logger.debug({ err: error, address, port }, 'udp send failed');
        });
      },
      (error: unknown) => this.logger.error({ err: error }, 'udp query failed'),
    );
  }

  private onTcpConnection(socket: Socket): void {
    this.tcpConnections.add(socket);
    socket.setTimeout(this.options.tcpIdleTimeoutMs ?? 10_000, () => socket.destroy());
    socket.on('error', (error) => this.logger.debug({ err: error }, 'tcp connection error'));
    socket.on('close', () => this.tcpConnections.delete(socket));
    let pending: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    const drainFrames = (): void => {
      while (pending.length >= 2 && inFlight < MAX_TCP_PIPELINE) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const frame = Buffer.from(pending.subarray(2, 2 + length));
        pending = pending.subarray(2 + length);
        inFlight++;
        this.handle(frame, 'tcp')
          .then((response) => {
            if (response === undefined || socket.destroyed) return;
            const prefix = Buffer.alloc(2);
            prefix.writeUInt16BE(response.length);
            socket.write(Buffer.concat([prefix, response]));
          })
          .catch((error: unknown) => this.logger.error({ err: error }, 'tcp query failed'))
          .finally(() => {
            inFlight--;
            if (socket.isPaused() && !socket.destroyed) socket.resume();
            drainFrames();
          });
      }
      // Bounded: at most one partial frame (≤ 64 KiB) is held while MAX_TCP_PIPELINE queries run.
      if (inFlight >= MAX_TCP_PIPELINE) socket.pause();
    };
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      drainFrames();
    });
  }
}

interface ResponseParts {
  readonly answers?: Answer[];
  readonly authorities?: Answer[];
  readonly additionals?: Answer[];
  readonly authoritative?: boolean;
}

function encodeResponse(query: DecodedPacket, questions: Question[], rcode: Rcode, parts: ResponseParts): Buffer {
  let flags = RCODE[rcode] | dnsPacket.RECURSION_AVAILABLE;
  if (query.flag_rd) flags |= dnsPacket.RECURSION_DESIRED;
  if (parts.authoritative) flags |= dnsPacket.AUTHORITATIVE_ANSWER;
  const additionals = [...(parts.additionals ?? [])];
  if (ednsOf(query) !== undefined) additionals.push({ name: '.', type: 'OPT', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] });
  const packet: Packet = { type: 'response', id: query.id ?? 0, flags, questions, answers: parts.answers ?? [], authorities: parts.authorities ?? [], additionals };
  return dnsPacket.encode(packet);
}

/** The client's EDNS UDP size, when it sent an OPT record. */
function ednsOf(query: DecodedPacket): number | undefined {
  const opt = (query.additionals ?? []).find((record) => record.type === 'OPT');
  return opt && 'udpPayloadSize' in opt ? opt.udpPayloadSize : undefined;
}

/** A response too big for the client's UDP limit becomes the header and question with TC set. */
function fitUdp(query: DecodedPacket, response: Buffer): Buffer {
  const limit = Math.max(CLASSIC_UDP_SIZE, ednsOf(query) ?? CLASSIC_UDP_SIZE);
  if (response.length <= limit || isTruncated(response)) return response;
  const truncated = encodeResponse(query, query.questions ?? [], 'NOERROR', {});
  truncated.writeUInt16BE(truncated.readUInt16BE(2) | dnsPacket.TRUNCATED_RESPONSE | (response.readUInt16BE(2) & 0x040f), 2);
  return truncated;
}

/** FORMERR for a message whose header parsed and whose body did not: the id and opcode echoed, no sections. */
function formatError(message: Buffer): Buffer {
  const response = Buffer.alloc(12);
  response.writeUInt16BE(message.readUInt16BE(0), 0);
  response.writeUInt16BE(QR | (message.readUInt16BE(2) & 0x7900) | RCODE.FORMERR, 2);
  return response;
}
