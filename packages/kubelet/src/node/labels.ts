/**
 * The labels and taints a kubelet registers its Node with: the well-known labels it sets itself
 * (hostname, os, arch and their beta twins) and what --node-labels / --register-with-taints add,
 * parsed and checked as upstream's kubelet does.
 */
import type { Taint } from 'kubernetes-types/core/v1.js';

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_OS = 'kubernetes.io/os';
export const LABEL_ARCH = 'kubernetes.io/arch';
export const LABEL_BETA_OS = 'beta.kubernetes.io/os';
export const LABEL_BETA_ARCH = 'beta.kubernetes.io/arch';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';

/** Node.js' process.arch in Go's GOARCH words, as the kubernetes.io/arch label carries them. */
export function goArch(nodeArch: string): string {
  const table: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips: 'mips', mipsel: 'mipsle' };
  return table[nodeArch] ?? nodeArch;
}

/** Node.js' process.platform in GOOS words (kubernetes.io/os). */
export function goOs(platform: string): string {
  return platform === 'win32' ? 'windows' : platform;
}

/** The labels the kubelet owns (upstream's updateDefaultLabels set): hostname, os, arch, beta os/arch. */
export function defaultNodeLabels(hostname: string, os: string, arch: string): Record<string, string> {
  return { [LABEL_ARCH]: arch, [LABEL_BETA_ARCH]: arch, [LABEL_HOSTNAME]: hostname, [LABEL_OS]: os, [LABEL_BETA_OS]: os };
}

// --node-labels may set these kubernetes.io labels, or any under an allowed prefix (upstream's kubeletapis).
const ALLOWED_KUBERNETES_LABELS = new Set([
  LABEL_HOSTNAME,
  LABEL_ZONE,
  LABEL_REGION,
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  LABEL_OS,
  LABEL_ARCH,
  LABEL_BETA_OS,
  LABEL_BETA_ARCH,
]);
const ALLOWED_KUBERNETES_PREFIXES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

function isKubernetesNamespace(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const domain = key.slice(0, slash);
  return domain === 'kubernetes.io' || domain === 'k8s.io' || domain.endsWith('.kubernetes.io') || domain.endsWith('.k8s.io');
}

function labelAllowed(key: string): boolean {
  if (!isKubernetesNamespace(key) || ALLOWED_KUBERNETES_LABELS.has(key)) return true;
  const domain = key.slice(0, key.indexOf('/'));
  return ALLOWED_KUBERNETES_PREFIXES.some((prefix) => domain === prefix || domain.endsWith(`.${prefix}`));
}

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A label or taint key: an optional DNS-subdomain prefix and a name of at most 63 characters. */
export function validQualifiedName(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1] as string;
  if (!NAME_PART.test(name)) return false;
  if (parts.length === 2) {
    const prefix = parts[0] as string;
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return false;
  }
  return true;
}

export function validLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/** Parses --node-labels ("k=v,k2=v2"), refusing bad syntax and kubernetes.io labels the kubelet may not set. */
export function parseNodeLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const at = item.indexOf('=');
    if (at < 0) throw new Error(`invalid label "${item}": takes key=value`);
    const key = item.slice(0, at);
    const value = item.slice(at + 1);
    if (!validQualifiedName(key)) throw new Error(`invalid label key "${key}"`);
    if (!validLabelValue(value)) throw new Error(`invalid label value "${value}" for key "${key}"`);
    labels[key] = value;
  }
  const refused = Object.keys(labels).filter((key) => !labelAllowed(key));
  if (refused.length > 0)
    throw new Error(
      `unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [${refused.join(' ')}]; ` +
        `--node-labels in the 'kubernetes.io' namespace must begin with an allowed prefix (${ALLOWED_KUBERNETES_PREFIXES.join(', ')}) ` +
        `or be in the specifically allowed set (${[...ALLOWED_KUBERNETES_LABELS].sort().join(', ')})`,
    );
  return labels;
}

const TAINT_EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/** Parses --register-with-taints ("key=value:Effect,key:Effect"), as kubectl taint's syntax. */
export function parseTaints(text: string): Taint[] {
  const taints: Taint[] = [];
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const colon = item.lastIndexOf(':');
    if (colon < 0) throw new Error(`invalid taint spec: ${item}`);
    const effect = item.slice(colon + 1);
    const keyValue = item.slice(0, colon);
    if (!TAINT_EFFECTS.has(effect)) throw new Error(`invalid taint effect: ${effect}, unsupported taint effect`);
    const at = keyValue.indexOf('=');
    const key = at < 0 ? keyValue : keyValue.slice(0, at);
    const value = at < 0 ? undefined : keyValue.slice(at + 1);
    if (!validQualifiedName(key)) throw new Error(`invalid taint spec: ${item}, invalid key "${key}"`);
    if (value !== undefined && !validLabelValue(value)) throw new Error(`invalid taint spec: ${item}, invalid value "${value}"`);
    if (taints.some((taint) => taint.key === key && taint.effect === effect)) throw new Error(`duplicated taints with the same key and effect: ${key}:${effect}`);
    taints.push({ key, effect, ...(value === undefined || value === '' ? {} : { value }) });
  }
  return taints;
}
