import type { ChaosReport } from './report.js';
import type { RunRecord } from './timeline.js';

/**
 * The report as one self-contained HTML page: the timeline drawn as an inline SVG (faults as bars;
 * per second, whether Service requests, store writes and store reads all succeeded; ready replicas
 * against desired), then the tables of the text report.
 */

const WIDTH = 1000;
const LEFT = 150;
const LANE = 28;
const LANES = ['faults', 'Service: node port', 'Service: cluster IP', 'store writes', 'store reads', 'ready replicas'] as const;

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

type Bucket = 'ok' | 'failed' | 'none';

function buckets(endMs: number, events: readonly { atMs: number; ok: boolean }[]): Bucket[] {
  const count = Math.max(1, Math.ceil(endMs / 1000));
  const result: Bucket[] = Array.from({ length: count }, () => 'none');
  for (const event of events) {
    const index = Math.min(count - 1, Math.max(0, Math.floor(event.atMs / 1000)));
    if (!event.ok) result[index] = 'failed';
    else if (result[index] === 'none') result[index] = 'ok';
  }
  return result;
}

export function timelineSvg(run: RunRecord): string {
  const endMs = Math.max(run.endMs, 1);
  const x = (atMs: number): number => LEFT + ((WIDTH - LEFT - 10) * Math.min(Math.max(atMs, 0), endMs)) / endMs;
  const height = LANE * (LANES.length + 1);
  const parts: string[] = [];
  LANES.forEach((lane, index) => parts.push(`<text x="4" y="${index * LANE + 18}" font-size="12">${lane}</text>`));
  for (const fault of run.faults) {
    const end = fault.healedAtMs ?? run.endMs;
    const colour = fault.error !== undefined ? '#999' : fault.kind.startsWith('kill') ? '#c0392b' : fault.kind === 'pause' ? '#e67e22' : '#8e44ad';
    parts.push(
      `<rect x="${x(fault.injectedAtMs).toFixed(1)}" y="4" width="${Math.max(2, x(end) - x(fault.injectedAtMs)).toFixed(1)}" height="${LANE - 8}" fill="${colour}"><title>${escape(`${fault.kind} ${fault.part ?? fault.target} ${(fault.injectedAtMs / 1000).toFixed(1)}–${(end / 1000).toFixed(1)} s${fault.error === undefined ? '' : `: ${fault.error}`}`)}</title></rect>`,
    );
  }
  const lanes: [number, readonly { atMs: number; ok: boolean }[]][] = [
    [1, run.probes.filter((probe) => probe.via !== 'cluster-ip')],
    [2, run.probes.filter((probe) => probe.via === 'cluster-ip')],
    [3, run.history.filter((op) => op.kind === 'write').map((op) => ({ atMs: op.invokedAt, ok: op.outcome === 'ok' }))],
    [4, run.history.filter((op) => op.kind === 'read').map((op) => ({ atMs: op.invokedAt, ok: op.outcome === 'ok' }))],
  ];
  for (const [lane, events] of lanes) {
    buckets(endMs, events).forEach((bucket, second) => {
      if (bucket === 'none') return;
      const colour = bucket === 'ok' ? '#27ae60' : '#c0392b';
      parts.push(`<rect x="${x(second * 1000).toFixed(1)}" y="${lane * LANE + 4}" width="${Math.max(1, x((second + 1) * 1000) - x(second * 1000) - 0.5).toFixed(1)}" height="${LANE - 8}" fill="${colour}"/>`);
    });
  }
  const replicaSamples = run.samples.filter((sample) => sample.desired !== undefined && sample.ready !== undefined);
  const most = Math.max(1, ...replicaSamples.map((sample) => Math.max(sample.desired ?? 0, sample.ready ?? 0)));
  const y = (value: number): number => 5 * LANE + LANE - 4 - ((LANE - 8) * value) / most;
  const line = (pick: (sample: (typeof replicaSamples)[number]) => number): string => replicaSamples.map((sample) => `${x(sample.atMs).toFixed(1)},${y(pick(sample)).toFixed(1)}`).join(' ');
  parts.push(`<polyline fill="none" stroke="#2c3e50" stroke-dasharray="4 2" points="${line((sample) => sample.desired ?? 0)}"/>`);
  parts.push(`<polyline fill="none" stroke="#2980b9" stroke-width="2" points="${line((sample) => sample.ready ?? 0)}"/>`);
  // Scales and rollouts of the Deployment as ticks on the replicas lane.
  for (const scale of run.scales) parts.push(`<line x1="${x(scale.atMs).toFixed(1)}" x2="${x(scale.atMs).toFixed(1)}" y1="${5 * LANE + 2}" y2="${5 * LANE + 8}" stroke="#2c3e50"><title>scaled to ${scale.replicas} at ${(scale.atMs / 1000).toFixed(1)} s</title></line>`);
  for (const rollout of run.rollouts ?? []) parts.push(`<circle cx="${x(rollout.atMs).toFixed(1)}" cy="${5 * LANE + 5}" r="3" fill="#16a085"><title>rolled at ${(rollout.atMs / 1000).toFixed(1)} s</title></circle>`);
  const step = endMs > 120_000 ? 30_000 : 10_000;
  for (let atMs = 0; atMs <= endMs; atMs += step) {
    parts.push(`<line x1="${x(atMs).toFixed(1)}" x2="${x(atMs).toFixed(1)}" y1="0" y2="${LANES.length * LANE}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(atMs).toFixed(1)}" y="${height - 6}" font-size="11" text-anchor="middle">${atMs / 1000} s</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">${parts.join('')}</svg>`;
}

export function renderHtml(run: RunRecord, report: ChaosReport): string {
  const seconds = (ms: number | undefined): string => (ms === undefined ? '—' : (ms / 1000).toFixed(2));
  const faultRows = report.faults
    .map(
      (fault) =>
        `<tr><td>${(fault.injectedAtMs / 1000).toFixed(1)}</td><td>${escape(fault.kind)}</td><td>${escape(fault.part ?? fault.target)}</td><td>${seconds(fault.detectionMs)}</td><td>${fault.error === undefined ? seconds(fault.recoveryMs) : 'error'}</td><td>${fault.requestsFailed}/${fault.requestsTotal}</td><td>${escape(fault.error ?? fault.detectedBy ?? '')}${fault.notRecoveredBecause === undefined ? '' : ` (not whole: ${escape(fault.notRecoveredBecause)})`}</td></tr>`,
    )
    .join('\n');
  const kindRows = report.byKind
    .map((kind) => `<tr><td>${escape(kind.kind)}</td><td>${kind.faults}</td><td>${kind.recovered}</td><td>${seconds(kind.detectionP50Ms)} / ${seconds(kind.detectionP99Ms)}</td><td>${seconds(kind.recoveryP50Ms)} / ${seconds(kind.recoveryP99Ms)}</td><td>${kind.requestsFailed}</td></tr>`)
    .join('\n');
  const checkRows = report.checks.map((check) => `<tr><td class="${check.ok ? 'pass' : 'fail'}">${check.ok ? 'PASS' : 'FAIL'}</td><td>${escape(check.name)}</td><td><pre>${escape(check.detail)}</pre></td></tr>`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>k8ts chaos — seed ${report.seed}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.pass{color:#27ae60;font-weight:bold}.fail{color:#c0392b;font-weight:bold}pre{margin:0;white-space:pre-wrap}</style>
</head><body>
<h1>k8ts chaos: <span class="${report.ok ? 'pass' : 'fail'}">${report.ok ? 'PASS' : 'FAIL'}</span></h1>
<p>${escape(report.target)}, seed ${report.seed}, ${report.durationMs / 1000} s of faults. Bars: red kill, orange pause, purple cut (hover for details); per second green when every request succeeded, red when one failed (the Service by node port from this machine, by cluster IP from a pod on each node); replicas: ready (blue) against desired (dashed), scales as ticks and rollouts as green dots.</p>
${timelineSvg(run)}
<h2>Faults</h2>
<table><tr><th>at (s)</th><th>fault</th><th>part</th><th>detected (s)</th><th>recovered (s after heal)</th><th>failed/requests</th><th>first symptom</th></tr>
${faultRows}</table>
<h2>Per kind</h2>
<table><tr><th>kind</th><th>faults</th><th>recovered</th><th>detection p50 / p99 (s)</th><th>recovery p50 / p99 (s)</th><th>requests failed</th></tr>
${kindRows}</table>
<h2>Checks</h2>
<table>${checkRows}</table>
</body></html>
`;
}
