// The package's entry point: the pure core (src/) and the driver that runs it with time, storage and
// a network (driver/), as go.etcd.io/raft ships Node beside RawNode. The simulator is `@k8ts/raft/sim`.
export * from './src/index.js';
export { RaftNode, type DurableRaftLog, type PeerSender, type RaftNodeOptions, type StateMachineSink } from './driver/raft_node.js';
