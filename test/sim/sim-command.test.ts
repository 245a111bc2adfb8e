import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { progressReporter, registerSimCommand } from '../../src/cli/sim-command.js';

function program(): Command {
  const root = new Command('meshcast').exitOverride();
  registerSimCommand(root)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  return root;
}

/** Runs `meshcast sim ...args` in-process and returns what it wrote to stdout. */
async function runSim(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await program().parseAsync(['sim', ...args], { from: 'user' });
  } finally {
    write.mockRestore();
  }
  return chunks.join('');
}

/** Runs each set of flags: nothing printed on stdout, the problem on stderr, exit status 1. */
async function expectRefused(cases: readonly (readonly [readonly string[], string])[]): Promise<void> {
  const errors: string[] = [];
  const writeErr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    errors.push(String(chunk));
    return true;
  });
  try {
    for (const [flags, problem] of cases) {
      process.exitCode = undefined;
      errors.length = 0;
      expect(await runSim([...flags, '--broadcasts', '1', '--no-progress'])).toBe('');
      expect(errors.join('')).toContain(problem);
      expect(process.exitCode).toBe(1);
    }
  } finally {
    writeErr.mockRestore();
    process.exitCode = undefined;
  }
}

describe('meshcast sim', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('--json prints exactly one JSON object with the headline figures', async () => {
    const out = await runSim([
      '--nodes',
      '60',
      '--broadcasts',
      '2',
      '--settle',
      '3000',
      '--crash',
      '0.5',
      '--after-crash',
      '2',
      '--json',
      '--no-progress',
    ]);
    expect(out.trim().split('\n')).toHaveLength(1);
    const result = JSON.parse(out);
    expect(result.reliability).toEqual({ mean: expect.any(Number), min: expect.any(Number) });
    for (const field of ['rmr', 'ldh', 'healingTime', 'wallMs']) expect(result).toHaveProperty(field);
    expect(result.nodes).toBe(60);
    expect(result.crash.crashed).toBe(30);
  });

  it('--bandwidth is Mbit/s of each interface and --payload-bytes the size of each broadcast', async () => {
    const args = ['--nodes', '40', '--broadcasts', '2', '--settle', '2000', '--json', '--no-progress'];
    const result = JSON.parse(await runSim([...args, '--bandwidth', '8', '--payload-bytes', '1000']));
    expect(result.parameters).toMatchObject({ bandwidth: 1_000_000, payloadBytes: 1000 });
    expect(result.reliability.min).toBe(1);
    await expect(runSim(['--payload-bytes', '2'])).rejects.toThrow(/whole number/);
    await expect(runSim(['--bandwidth', '0'])).rejects.toThrow(/> 0/);
  });

  it('prints a readable table by default', async () => {
    const out = await runSim(['--nodes', '40', '--broadcasts', '2', '--settle', '2000', '--no-progress']);
    expect(out).toMatch(/^phase\s+broadcasts\s+reliability mean/m);
    expect(out).toMatch(/^stable\s+2\s+100\.00%/m);
    expect(out).toMatch(/connected/);
  });

  it('--help lists every scenario flag', () => {
    const sim = program().commands.find((command) => command.name() === 'sim');
    const help = sim?.helpInformation() ?? '';
    for (const flag of [
      '--nodes',
      '--seed',
      '--broadcasts',
      '--strategy',
      '--crash',
      '--silent-crash',
      '--after-crash',
      '--churn',
      '--join-rate',
      '--leave-rate',
      '--churn-duration',
      '--graceful-leave',
      '--partition',
      '--partition-duration',
      '--after-repair',
      '--latency',
      '--loss',
      '--bandwidth',
      '--payload-bytes',
      '--connect-timeout',
      '--idle-timeout',
      '--discovery-interval',
      '--json',
    ]) {
      expect(help).toContain(flag);
    }
  });

  it('refuses malformed flags before running anything', async () => {
    await expect(runSim(['--nodes', 'many'])).rejects.toThrow(/whole number/);
    await expect(runSim(['--crash', '1.5'])).rejects.toThrow(/fraction/);
    await expect(runSim(['--latency', 'gaussian:3'])).rejects.toThrow(/uniform/);
    // Number('') is 0: these ran with no latency at all.
    for (const latency of ['constant:', 'uniform::', 'exponential:', 'uniform:1:']) {
      await expect(runSim(['--latency', latency])).rejects.toThrow(/non-negative numbers/);
    }
  });

  it('refuses a crash that crashes no node and a partition of one node, instead of reporting them healed', async () => {
    await expectRefused([
      [['--nodes', '1000', '--crash', '0.0005'], 'a crash fraction of 0.0005 crashes none of 1000 nodes'],
      [['--nodes', '3', '--crash', '0.3'], 'a crash fraction of 0.3 crashes none of 3 nodes'],
      [['--nodes', '1', '--partition'], 'a partition needs at least 2 nodes'],
    ]);
    expect(
      await runSim(['--nodes', '4', '--crash', '0.3', '--broadcasts', '1', '--json', '--no-progress']),
    ).toMatch(/"crashed":1\b/);
  });

  it('offers exactly the strategies the core has, and refuses others', async () => {
    const sim = program().commands.find((command) => command.name() === 'sim');
    expect(sim?.helpInformation().replace(/\s+/g, ' ')).toMatch(/choices: "flood", "plumtree"/);
    await expect(runSim(['--strategy', 'no-such-strategy'])).rejects.toThrow(/Allowed choices/);
  });

  it("refuses a scenario's own flags given without the scenario, instead of ignoring them", async () => {
    const withoutTheirScenario: [string[], string][] = [
      [['--silent-crash'], '--silent-crash needs --crash'],
      [['--after-crash', '2'], '--after-crash needs --crash'],
      [['--partition-duration', '1000'], '--partition-duration needs --partition'],
      [['--after-repair', '1'], '--after-repair needs --partition'],
      [['--graceful-leave'], '--graceful-leave needs --churn'],
    ];
    await expectRefused(
      withoutTheirScenario.map(([flags, problem]) => [['--nodes', '10', ...flags], problem]),
    );
  });
});

describe('the progress bar on a terminal', () => {
  it('fits the width of the terminal, so that each redraw overwrites the last', () => {
    const written: string[] = [];
    const terminal = { isTTY: true, columns: 40, write: (text: string) => written.push(text) };
    const progress = progressReporter(terminal as unknown as NodeJS.WriteStream);
    progress.update({ virtualTime: 3_600, endTime: 50_000, liveNodes: 1_779, events: 131_072 });
    expect(written).toHaveLength(1);
    const visible = (written[0] as string).replace('\r', '').replace('\u001b[K', '');
    expect(visible.length).toBeLessThan(40);
    expect(visible).toMatch(/^\[#+-+\]/);
  });
});
