export { PodProbeSet, type PodProbeSetOptions } from './pod_probes.js';
export { INITIAL_RESULT, ProbeWorker, type ProbeEvent, type ProbeKind, type ProbeResult, type ProbeWorkerOptions } from './probe_worker.js';
export { probeTiming, runProbe, type ProbeTarget, type ProbeTiming } from './run_probe.js';
export { ProbeError, type ProbeOutcome } from './probe_result.js';
export type { ExecSync } from './exec_probe.js';
