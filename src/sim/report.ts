import { BROADCAST_INDEX_BYTES, MESSAGE_TYPES } from './metrics.js';
import { BYTES_PER_SECOND_PER_MBIT } from './network.js';
import type { OverlaySnapshot } from './overlay.js';
import type { SimResult } from './run.js';
import type { PhaseSummary } from './summary.js';

/** A SimResult as a few readable lines: a table of phases, then one line per scenario and figure. */
export function formatSimReport(result: SimResult): string {
  const p = result.parameters;
  const lines: string[] = [];
  lines.push(
    `meshcast sim: ${count(result.nodes)} nodes, seed ${result.seed}, ${p.broadcastStrategy} broadcast, ` +
      `active/passive view ${p.activeViewSize}/${p.passiveViewSize}, latency ${p.latency} ms, loss ${p.loss}` +
      (p.bandwidth > 0
        ? `, ${Number((p.bandwidth / BYTES_PER_SECOND_PER_MBIT).toPrecision(3))} Mbit/s interfaces`
        : '') +
      (p.payloadBytes !== BROADCAST_INDEX_BYTES ? `, ${p.payloadBytes}-byte payloads` : ''),
  );
  lines.push('');
  lines.push(...phaseTable(result.phases));
  lines.push('');
  const crash = result.crash;
  if (crash?.crashed === 0) {
    lines.push(
      `crash: none of the ${count(crash.survivors)} live nodes at ${seconds(crash.time)} ` +
        `(${percent(crash.fraction)} of them is less than one node)`,
    );
  } else if (crash !== null) {
    lines.push(
      `crash: ${count(crash.crashed)} nodes (${percent(crash.fraction)}) ${crash.silent ? 'went silent' : 'crashed'} ` +
        `at ${seconds(crash.time)}; the broadcast sent at once reached ${percent(crash.firstBroadcastReliability)} ` +
        `of ${count(crash.survivors)} survivors; ${healed(crash.healingTime)}` +
        ` (within two shuffle periods: ${crash.healedWithinTwoShufflePeriods ? 'yes' : 'no'})`,
    );
  }
  const partition = result.partition;
  if (partition !== null) {
    lines.push(
      `partition: halves of ${count(partition.sides[0])} and ${count(partition.sides[1])} nodes from ` +
        `${seconds(partition.start)} to ${seconds(partition.repairedAt)}; within a half, reliability ` +
        `${percent(partition.reliabilityWithinSide.mean)} mean, ${percent(partition.reliabilityWithinSide.min)} min; ` +
        `after the repair ${healed(partition.healingTime)}`,
    );
  }
  const churn = result.churn;
  if (churn !== null) {
    lines.push(
      `churn: ${count(churn.joins)} joins and ${count(churn.leaves)} departures ` +
        `from ${seconds(churn.start)} to ${seconds(churn.end)}`,
    );
  }
  lines.push(...overlayLines(result.overlay));
  const sent = MESSAGE_TYPES.filter((type) => result.messagesSent[type] > 0)
    .map((type) => `${type} ${count(result.messagesSent[type])}`)
    .join(', ');
  lines.push(`messages sent: ${sent}`);
  const n = result.network;
  lines.push(
    `network: ${count(n.dials)} dials (${count(n.dialFailures)} failed), ${count(n.linkDowns)} link downs, ` +
      `lost: ${count(n.droppedAtDeadNode)} to dead nodes, ${count(n.droppedOnBrokenLink)} on broken links, ` +
      `${count(n.droppedByPartition)} across the partition`,
  );
  lines.push(
    `simulator: ${count(result.events)} events over ${seconds(result.virtualTime)} of virtual time ` +
      `in ${seconds(result.wallMs)} wall, ${seconds(result.cpuMs)} CPU (${count(result.eventsPerSecond)} events/s), ` +
      `peak RSS ${count(result.memory.maxRssMb)} MB`,
  );
  return `${lines.join('\n')}\n`;
}

function phaseTable(phases: Record<string, PhaseSummary>): string[] {
  const header = [
    'phase',
    'broadcasts',
    'reliability mean',
    'min',
    'complete',
    'RMR',
    'RMR after 1st',
    'LDH max',
    'LDH repeat',
    'latency ms',
    'control/bcast',
  ];
  const rows = Object.entries(phases).map(([name, s]) => [
    name,
    String(s.broadcasts),
    percent(s.reliability.mean),
    percent(s.reliability.min),
    `${s.complete}/${s.broadcasts}`,
    fixed(s.rmr.mean, 3),
    fixed(s.rmr.afterFirst, 3),
    s.ldh.max === null ? '-' : String(s.ldh.max),
    s.ldh.repeated === null ? '-' : String(s.ldh.repeated),
    fixed(s.latency.mean, 1),
    s.controlTotalPerBroadcast === null ? '-' : count(Math.round(s.controlTotalPerBroadcast)),
  ]);
  if (rows.length === 0) return ['(no broadcasts)'];
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const render = (row: string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [render(header), ...rows.map(render)];
}

function overlayLines(overlay: OverlaySnapshot): string[] {
  const sizes = Object.entries(overlay.activeViewHistogram)
    .sort(([a], [b]) => Number(b) - Number(a))
    .map(([size, nodes]) => `${size}:${count(nodes)}`)
    .join(' ');
  const io = overlay.inOut;
  return [
    `overlay at ${seconds(overlay.time)}: ${count(overlay.liveNodes)} live nodes, ` +
      `${overlay.connected ? 'connected' : `NOT connected (${overlay.components} components, largest ${count(overlay.largestComponent)})`}, ` +
      `${overlay.cutVertices === 0 ? 'no single point of failure' : `${count(overlay.cutVertices)} single points of failure (the worst cuts off ${count(overlay.largestCutOff)})`}; ` +
      `active view sizes ${sizes}; mean passive view ${fixed(overlay.passiveViewMean, 1)}`,
    `links: per node ${fixed(io.meanOut, 2)} dialled / ${fixed(io.meanIn, 2)} accepted among active links; ` +
      `${count(overlay.asymmetricEntries)} asymmetric and ${count(overlay.deadEntries)} dead active entries; ` +
      `${count(overlay.openLinks)} open links, ${count(overlay.idleLinks)} idle`,
  ];
}

function healed(time: number | null): string {
  return time === null ? 'NOT healed by the end of the run' : `healed after ${seconds(time)}`;
}

function percent(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(2)}%`;
}

function fixed(value: number | null, digits: number): string {
  return value === null ? '-' : value.toFixed(digits);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}
