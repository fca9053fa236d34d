import net from 'node:net';
import { failure, goNetError, joinHostPort, success, type ProbeOutcome } from './probe_result.js';

/** A tcpSocket probe: passes when a connection opens within the timeout, as upstream's DoTCPProbe. */
export function tcpProbe(host: string, port: number, timeoutSeconds: number): Promise<ProbeOutcome> {
  const address = joinHostPort(host, port);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(failure(`dial tcp ${address}: i/o timeout`));
    }, timeoutSeconds * 1000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(success());
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(failure(goNetError(error, address)));
    });
  });
}
