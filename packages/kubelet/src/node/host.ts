/**
 * What the machine the agent runs on has and is, read once at start (the impure edge of node/):
 * cpus, memory, the root dir's filesystem size, the first non-internal IPv4, and the identity files
 * upstream's kubelet reads through cadvisor (machine-id, boot_id, product_uuid), where readable.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { availableParallelism, networkInterfaces, release, totalmem } from 'node:os';
import type { NodeSystemInfo } from 'kubernetes-types/core/v1.js';
import { goArch, goOs } from './labels.js';

export interface HostFacts {
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  /** Size of the filesystem holding the root dir (0 when it cannot be read). */
  readonly ephemeralStorageBytes: number;
  /** The first non-internal IPv4 address; undefined when there is none. */
  readonly ipv4: string | undefined;
  readonly os: string;
  readonly arch: string;
  readonly kernelVersion: string;
  readonly osImage: string;
  readonly machineID: string;
  readonly systemUUID: string;
  readonly bootID: string;
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** PRETTY_NAME of /etc/os-release ("Debian GNU/Linux 12 (bookworm)"), as nodeInfo.osImage. */
function osImage(): string {
  const text = readTrimmed('/etc/os-release');
  const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return match?.[1] ?? 'Unknown';
}

/** The first IPv4 address that is not loopback, as upstream picks the node's address without --node-ip. */
export function firstNonInternalIpv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return undefined;
}

export function readHostFacts(rootDir: string): HostFacts {
  let ephemeralStorageBytes = 0;
  try {
    const stats = statfsSync(rootDir);
    ephemeralStorageBytes = stats.blocks * stats.bsize;
  } catch {
    // not there yet or not readable: 0, and the caller may give --node-capacity
  }
  return {
    cpuMillis: availableParallelism() * 1000,
    memoryBytes: totalmem(),
    ephemeralStorageBytes,
    ipv4: firstNonInternalIpv4(),
    os: goOs(process.platform),
    arch: goArch(process.arch),
    kernelVersion: release(),
    osImage: osImage(),
    machineID: readTrimmed('/etc/machine-id') || readTrimmed('/var/lib/dbus/machine-id'),
    systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid').toLowerCase(),
    bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
  };
}

/** nodeInfo from the host's facts and the agent's versions. */
export function nodeSystemInfo(host: HostFacts, versions: { kubeletVersion: string; containerRuntimeVersion: string }): NodeSystemInfo {
  return {
    machineID: host.machineID,
    systemUUID: host.systemUUID,
    bootID: host.bootID,
    kernelVersion: host.kernelVersion,
    osImage: host.osImage,
    containerRuntimeVersion: versions.containerRuntimeVersion,
    kubeletVersion: versions.kubeletVersion,
    kubeProxyVersion: '',
    operatingSystem: host.os,
    architecture: host.arch,
  };
}
