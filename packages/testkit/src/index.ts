export { LinkProxy, STORE_BINARY, TestCluster, freePorts, type ClusterOptions, type MemberHandle, type StoreKind } from './cluster.js';
export { etcdctl, etcdctlOk, waitForLeader, type CommandResult } from './etcdctl.js';
export { seededRandom } from './random.js';
export { ApiServerProcess, APISERVER_BINARY, kubeconfigFor, kubectl, type ApiServerProcessOptions } from './apiserver.js';
export { ComponentProcess, ControllerManagerProcess, CONTROLLER_MANAGER_BINARY, SchedulerProcess, SCHEDULER_BINARY } from './component.js';
export { isRunning, launchProcess, pidAlive, signalAndWait, stopPids, waitForExit, waitHealthy, type LaunchOptions, type LaunchOutput, type WaitHealthyOptions } from './launcher.js';
export { runCommand } from './run.js';
export { NatsServerProcess, NODE_AGENT_BINARY, NodeAgentProcess, tearDownNodeIn, type NodeAgentOptions } from './node_agent.js';
export { NodeHostNetwork, type NodeHost, type NodeHostNetworkOptions } from './node_hosts.js';
