import { runCommand } from '@k8ts/testkit';

/**
 * Link faults put inside one part's network namespace with the host's own iptables and tc (the
 * part's image needs neither): its traffic to and from chosen peers dropped (isolation, a side of a
 * partition), a random share of its packets dropped (loss), its interface rate-limited (a slow link).
 *
 * What is added, and so all that `removeLinkFaults` takes away:
 * - iptables (filter table): the chain K8TS-CHAOS, jumped to first from INPUT, OUTPUT and FORWARD
 *   (FORWARD: a node host routes its pods' traffic), holding the fault's DROP rules;
 * - tc: a tbf root qdisc with the handle 4b38: on the part's interface.
 * Removal is idempotent and needs no memory of the injection, so it also clears what a crashed run
 * left behind. A new fault on a part replaces the rules of the one before (one at a time per part).
 *
 * The kernel here has no netem: there is no fixed added delay, only a rate limit whose queue
 * delays packets (up to `SLOW_QUEUE_MS`) and drops what does not fit. tbf shapes what the part
 * sends (egress); what it receives is not slowed.
 */

/** Where a part's link faults go. */
export interface LinkEnd {
  /** The argv prefix that runs a command in the part's network namespace (`ip netns exec NS`, `nsenter --net=…`). */
  readonly enter: readonly string[];
  /** The part's address there: its interface to its peers is the one holding it. */
  readonly address: string;
}

export const CHAOS_CHAIN = 'K8TS-CHAOS';
/** The handle of the tbf qdisc this adds, so that removal takes only its own. */
export const SLOW_QDISC_HANDLE = '4b38:';
/** The longest a packet waits in the slow link's queue before tbf drops it. */
export const SLOW_QUEUE_MS = 1_000;
/** tbf's bucket: at least a few full-size packets, so the rate is reachable at all. */
const SLOW_BURST_BYTES = 16 * 1024;
const HOOKS = ['INPUT', 'OUTPUT', 'FORWARD'] as const;
const COMMAND_TIMEOUT_MS = 15_000;

/** Every packet between the part and each of `peers` dropped, both ways; everyone else still reaches it. */
export async function dropPeers(end: LinkEnd, peers: readonly string[]): Promise<void> {
  if (peers.length === 0) throw new Error(`no peers to cut ${end.address} off from`);
  for (const peer of peers) checkIPv4(peer);
  await replaceRules(end, peers.flatMap((peer) => [`-s ${peer} -j DROP`, `-d ${peer} -j DROP`]));
}

/** Each packet in or out of the part's interface dropped with this probability (0 < p < 1), loopback spared. */
export async function dropRandomly(end: LinkEnd, probability: number): Promise<void> {
  if (!(probability > 0 && probability < 1)) throw new Error(`loss probability ${probability}: must be between 0 and 1`);
  const device = await interfaceOf(end);
  const loss = `-m statistic --mode random --probability ${probability.toFixed(4)} -j DROP`;
  await replaceRules(end, [`-i ${device} ${loss}`, `-o ${device} ${loss}`]);
}

/** What the part sends on its interface limited to `rateKbit` kbit/s (tbf). Refuses to replace a root qdisc it did not add. */
export async function limitRate(end: LinkEnd, rateKbit: number): Promise<void> {
  if (!(Number.isInteger(rateKbit) && rateKbit > 0)) throw new Error(`rate ${rateKbit} kbit/s: must be a positive integer`);
  const device = await interfaceOf(end);
  const root = (await qdiscs(end)).find((qdisc) => qdisc.dev === device && qdisc.root === true);
  if (root !== undefined && root.handle !== SLOW_QDISC_HANDLE && !DEFAULT_QDISCS.has(root.kind)) {
    throw new Error(`${device} at ${end.address} has a root qdisc of its own (${root.kind} ${root.handle}): not replaced`);
  }
  await run(end, 'tc', ['qdisc', 'replace', 'dev', device, 'root', 'handle', SLOW_QDISC_HANDLE, 'tbf', 'rate', `${rateKbit}kbit`, 'burst', String(SLOW_BURST_BYTES), 'latency', `${SLOW_QUEUE_MS}ms`]);
}

/** Takes away everything the functions above add (nothing there is fine). */
export async function removeLinkFaults(end: LinkEnd): Promise<void> {
  const script = [
    ...HOOKS.map((hook) => `while iptables -w -D ${hook} -j ${CHAOS_CHAIN} 2>/dev/null; do :; done`),
    `if iptables -w -n -L ${CHAOS_CHAIN} >/dev/null 2>&1; then iptables -w -F ${CHAOS_CHAIN}; iptables -w -X ${CHAOS_CHAIN}; fi`,
  ];
  await run(end, 'sh', ['-e', '-c', script.join('\n')]);
  for (const qdisc of await qdiscs(end)) {
    if (qdisc.root === true && qdisc.handle === SLOW_QDISC_HANDLE && qdisc.dev !== undefined) await run(end, 'tc', ['qdisc', 'del', 'dev', qdisc.dev, 'root']);
  }
}

/** What the part's namespace holds of these faults now (for tests and for a look by hand). */
export async function linkFaultsInPlace(end: LinkEnd): Promise<{ rules: string[]; slowQdisc?: Qdisc }> {
  const listed = await runCommand(end.enter[0] as string, [...end.enter.slice(1), 'iptables', '-w', '-S', CHAOS_CHAIN], { timeoutMs: COMMAND_TIMEOUT_MS });
  const rules = listed.code === 0 ? listed.stdout.split('\n').filter((line) => line.startsWith(`-A ${CHAOS_CHAIN} `)) : [];
  const slowQdisc = (await qdiscs(end, true)).find((qdisc) => qdisc.root === true && qdisc.handle === SLOW_QDISC_HANDLE);
  return slowQdisc === undefined ? { rules } : { rules, slowQdisc };
}

/** A root qdisc as `tc -j qdisc show` prints it (with `-s`: its counters). */
export interface Qdisc {
  readonly kind: string;
  readonly handle: string;
  readonly root?: boolean;
  readonly dev?: string;
  readonly options?: { readonly rate?: number };
  readonly drops?: number;
  readonly overlimits?: number;
}

/** Root qdiscs the kernel gives an interface by itself: replacing one takes nothing away. */
const DEFAULT_QDISCS = new Set(['noqueue', 'pfifo_fast', 'fq_codel', 'mq', 'noop']);

/** The chain made empty (or made), hooked first into INPUT, OUTPUT and FORWARD, then `rules` appended: one script. */
async function replaceRules(end: LinkEnd, rules: readonly string[]): Promise<void> {
  const script = [
    `iptables -w -N ${CHAOS_CHAIN} 2>/dev/null || iptables -w -F ${CHAOS_CHAIN}`,
    ...HOOKS.map((hook) => `iptables -w -C ${hook} -j ${CHAOS_CHAIN} 2>/dev/null || iptables -w -I ${hook} 1 -j ${CHAOS_CHAIN}`),
    ...rules.map((rule) => `iptables -w -A ${CHAOS_CHAIN} ${rule}`),
  ];
  await run(end, 'sh', ['-e', '-c', script.join('\n')]);
}

/** The interface holding the part's address in its namespace. */
async function interfaceOf(end: LinkEnd): Promise<string> {
  checkIPv4(end.address);
  const result = await run(end, 'ip', ['-j', '-4', 'addr', 'show']);
  const links = JSON.parse(result) as { ifname: string; addr_info?: { local?: string }[] }[];
  const link = links.find((candidate) => candidate.addr_info?.some((info) => info.local === end.address));
  if (link === undefined) throw new Error(`no interface holds ${end.address} in the namespace of ${end.enter.join(' ')}`);
  return link.ifname;
}

/** Every device's qdiscs (root and others), with their counters when asked. */
async function qdiscs(end: LinkEnd, counters = false): Promise<Qdisc[]> {
  const shown = await run(end, 'tc', ['-j', ...(counters ? ['-s'] : []), 'qdisc', 'show']);
  return shown.trim() === '' ? [] : (JSON.parse(shown) as Qdisc[]);
}

async function run(end: LinkEnd, file: string, args: readonly string[]): Promise<string> {
  if (end.enter.length === 0) throw new Error(`${end.address}: no network namespace of its own to put link faults in`);
  const [command, ...prefix] = end.enter as [string, ...string[]];
  const result = await runCommand(command, [...prefix, file, ...args], { timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.code !== 0) throw new Error(`link fault at ${end.address}: ${file} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

function checkIPv4(address: string): void {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) throw new Error(`${JSON.stringify(address)}: not an IPv4 address`);
}
