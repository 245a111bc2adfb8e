import { components, cutVertices } from '../core/graph.js';
import type { Millis, NodeId } from '../core/types.js';
import { indexOfAddress } from './ids.js';
import type { Simulator } from './simulator.js';
import { round } from './summary.js';

/** The shape of the overlay of live nodes at one moment. */
export interface OverlaySnapshot {
  readonly label: string;
  readonly time: Millis;
  readonly liveNodes: number;
  /** Active view size → number of live nodes with that size. */
  readonly activeViewHistogram: Record<string, number>;
  readonly activeViewMean: number | null;
  readonly passiveViewMean: number | null;
  /** Whether the active views of live nodes form one connected graph (links taken as undirected). */
  readonly connected: boolean;
  readonly components: number;
  /** Nodes in the largest component. */
  readonly largestComponent: number;
  /** Nodes whose crash alone would split their component (articulation points, core/graph.ts). */
  readonly cutVertices: number;
  /** The most nodes one crash would leave outside the largest remaining piece (0: no cut vertex). */
  readonly largestCutOff: number;
  /** Active-view entries X→Y where Y is alive but does not list X: views should be symmetric. */
  readonly asymmetricEntries: number;
  /** Active-view entries naming a dead node. */
  readonly deadEntries: number;
  /** Per node, active links it dialled (out) and accepted (in). */
  readonly inOut: InOutBalance;
  /** Links open (or dialing) in the simulated network. */
  readonly openLinks: number;
  /** Of those, links between two nodes that are not active neighbours on either side. */
  readonly idleLinks: number;
}

export interface InOutBalance {
  readonly meanOut: number | null;
  readonly meanIn: number | null;
  /** Number of dialled active links → number of nodes. */
  readonly outHistogram: Record<string, number>;
  readonly inHistogram: Record<string, number>;
  /** Active-view entries with no link under them at all. */
  readonly withoutLink: number;
}

export function snapshotOverlay(sim: Simulator, label: string): OverlaySnapshot {
  const live = sim.liveNodes();
  const neighbours = new Map<NodeId, NodeId[]>();
  const activeIndices = new Map<number, number[]>();
  const activeHistogram: Record<string, number> = {};
  const outHistogram: Record<string, number> = {};
  const inHistogram: Record<string, number> = {};
  let activeTotal = 0;
  let passiveTotal = 0;
  let outTotal = 0;
  let inTotal = 0;
  let withoutLink = 0;
  let deadEntries = 0;
  for (const node of live) {
    const protocol = sim.protocol(node);
    if (protocol === undefined) continue;
    const active = protocol.activeView();
    passiveTotal += protocol.passiveView().length;
    activeTotal += active.length;
    bump(activeHistogram, active.length);
    neighbours.set(
      sim.info(node).id,
      active.map((peer) => peer.id),
    );
    const indices = active.map((peer) => indexOfAddress(peer.address));
    activeIndices.set(node, indices);
    let out = 0;
    let inbound = 0;
    for (const peer of indices) {
      if (!sim.isAlive(peer)) deadEntries++;
      const link = sim.network.currentLink(node, peer);
      if (link === undefined) withoutLink++;
      else if (link.dialer === node) out++;
      else inbound++;
    }
    outTotal += out;
    inTotal += inbound;
    bump(outHistogram, out);
    bump(inHistogram, inbound);
  }
  let asymmetricEntries = 0;
  for (const [node, indices] of activeIndices) {
    for (const peer of indices) {
      const back = activeIndices.get(peer);
      if (back !== undefined && !back.includes(node)) asymmetricEntries++;
    }
  }
  let idleLinks = 0;
  for (const link of sim.network.allLinks()) {
    const fromA = activeIndices.get(link.a)?.includes(link.b) ?? false;
    const fromB = activeIndices.get(link.b)?.includes(link.a) ?? false;
    if (!fromA && !fromB) idleLinks++;
  }
  const parts = components(neighbours);
  const cuts = cutVertices(neighbours);
  const count = live.length;
  return {
    label,
    time: round(sim.now) as number,
    liveNodes: count,
    activeViewHistogram: activeHistogram,
    activeViewMean: count === 0 ? null : round(activeTotal / count),
    passiveViewMean: count === 0 ? null : round(passiveTotal / count),
    connected: parts.length <= 1,
    components: parts.length,
    largestComponent: parts.reduce((largest, part) => Math.max(largest, part.length), 0),
    cutVertices: cuts.length,
    largestCutOff: cuts.reduce((largest, cut) => Math.max(largest, cut.cutOff), 0),
    asymmetricEntries,
    deadEntries,
    inOut: {
      meanOut: count === 0 ? null : round(outTotal / count),
      meanIn: count === 0 ? null : round(inTotal / count),
      outHistogram,
      inHistogram,
      withoutLink,
    },
    openLinks: sim.network.linkCount,
    idleLinks,
  };
}

function bump(histogram: Record<string, number>, key: number): void {
  histogram[key] = (histogram[key] ?? 0) + 1;
}

/**
 * The fewest hops in which a message from `origin` reaches the farthest live node it can reach,
 * over the active views as they are now (a node sends to the neighbours it lists). No broadcast
 * delivered everywhere has a smaller last delivery hop. Partitions are not taken into account.
 */
export function eccentricity(sim: Simulator, origin: number): number {
  const hops = new Int32Array(sim.nodeCount).fill(-1);
  const queue = new Int32Array(sim.nodeCount);
  hops[origin] = 0;
  queue[0] = origin;
  let head = 0;
  let tail = 1;
  let farthest = 0;
  while (head < tail) {
    const node = queue[head++] as number;
    const next = (hops[node] as number) + 1;
    for (const peer of sim.protocol(node)?.activeView() ?? []) {
      const index = indexOfAddress(peer.address);
      if (hops[index] !== -1 || !sim.isAlive(index)) continue;
      hops[index] = next;
      farthest = next;
      queue[tail++] = index;
    }
  }
  return farthest;
}
