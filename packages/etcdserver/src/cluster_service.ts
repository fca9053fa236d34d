import * as grpc from '@grpc/grpc-js';
import type { ServiceImplementation } from '@k8ts/proto';
import { ServerError, serverErrors } from './errors.js';
import { idFromWire, idToWire, memberIdOf, parseUrl, type Member } from './members.js';
import type { EtcdServer } from './server.js';
import { unary } from './wire.js';

type Wire = Record<string, unknown>;

export function memberToWire(member: Member): Wire {
  return { ID: idToWire(member.id), name: member.name, peerURLs: member.peerURLs, clientURLs: member.clientURLs, isLearner: member.isLearner };
}

/** etcdserverpb.Cluster: membership changes go through Raft, one member at a time. */
export function clusterService(server: EtcdServer, clusterToken: string): ServiceImplementation {
  const members = (): Wire[] => server.stateMachine.memberList().map(memberToWire);
  const existing = (wire: Wire): Member => {
    const member = server.stateMachine.member(idFromWire(wire['ID']));
    if (member === undefined) throw serverErrors.memberNotFound();
    return member;
  };
  return {
    MemberList: unary(async () => ({ header: server.header(), members: members() })),
    MemberAdd: unary(async (wire: Wire) => {
      const peerURLs = Array.isArray(wire['peerURLs']) ? (wire['peerURLs'] as string[]) : [];
      if (peerURLs.length === 0) throw new ServerError(grpc.status.INVALID_ARGUMENT, 'etcdserver: member peer URLs are not provided');
      for (const url of peerURLs) {
        try {
          parseUrl(url, 'peerURLs');
        } catch (error) {
          throw new ServerError(grpc.status.INVALID_ARGUMENT, String(error instanceof Error ? error.message : error));
        }
      }
      const taken = new Set(server.stateMachine.memberList().flatMap((member) => member.peerURLs));
      if (peerURLs.some((url) => taken.has(url))) throw serverErrors.peerUrlExists();
      const isLearner = wire['isLearner'] === true;
      const member: Member = { id: memberIdOf(peerURLs, clusterToken), name: '', peerURLs, clientURLs: [], isLearner };
      await server.changeMembership({ type: isLearner ? 'addLearner' : 'addVoter', node: member.id }, { member });
      return { header: server.header(), member: memberToWire(member), members: members() };
    }),
    MemberRemove: unary(async (wire: Wire) => {
      const member = existing(wire);
      await server.changeMembership({ type: 'removeNode', node: member.id }, {});
      return { header: server.header(), members: members() };
    }),
    MemberPromote: unary(async (wire: Wire) => {
      const member = existing(wire);
      if (!member.isLearner) throw serverErrors.memberNotLearner();
      await server.changeMembership({ type: 'promoteLearner', node: member.id }, {});
      return { header: server.header(), members: members() };
    }),
    MemberUpdate: unary(async (wire: Wire) => {
      // etcd validates the change against the member list: an unknown id is NOT_FOUND.
      existing(wire);
      throw new ServerError(grpc.status.UNIMPLEMENTED, 'k8ts-store: MemberUpdate is not supported; remove and re-add the member');
    }),
  };
}
