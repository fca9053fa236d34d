import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server } from 'node:net';

/** A UDP socket and a TCP listener on one port of one address, as a DNS server serves both. */
export interface UdpAndTcp {
  readonly udp: UdpSocket;
  readonly tcp: Server;
  readonly port: number;
}

const PICKS = 10;

/**
 * Binds UDP on `port`, then listens on TCP at the same number. With port 0 the OS picks the UDP
 * port, and its TCP twin may be taken (an outgoing connection's ephemeral port comes from the same
 * range): the pair is given up and another picked. A port asked for fails as is. A failed attempt
 * holds nothing. The caller adds its handlers (no event is delivered before it can).
 */
export async function bindUdpAndTcp(address: string, port: number): Promise<UdpAndTcp> {
  for (let attempt = 1; ; attempt++) {
    const udp = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const bound = udp.address().port;
    const tcp = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(bound, address, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, port: bound };
    } catch (error) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (port !== 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === PICKS) throw error;
    }
  }
}
