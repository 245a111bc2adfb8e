#!/usr/bin/env node
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { createLogger, LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { runChat } from './chat.js';
import { runDemo } from './demo.js';
import { runId, runKeygen } from './key-commands.js';
import {
  addNetworkFlags,
  loggerFromFlags,
  type NetworkFlags,
  nodeOptionsFromFlags,
} from './network-options.js';
import { fractionBelowOne, whole } from './number-flags.js';
import { registerSimCommand } from './sim-command.js';

// A reader that went away (`meshcast demo | head -1`, a closed terminal) must not crash the
// program: what is left to print goes nowhere, and the work under way (a chat's goodbye, the demo)
// ends as it would anyway. Any other failure to write (a full disk) is said once, plainly.
let outputFailed = false;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE' || error.code === 'EIO' || outputFailed) return;
  outputFailed = true;
  process.stderr.write(`meshcast: cannot write output: ${error.message}\n`);
  process.exitCode = 1;
});

const program = new Command()
  .name('meshcast')
  .description(
    'A zero-configuration peer-to-peer mesh for a local network: peers find each other by multicast, form a self-healing overlay over TCP, and every broadcast reaches every peer once.',
  )
  .showHelpAfterError();

addNetworkFlags(
  program
    .command('chat')
    .description('terminal chat: each line you type reaches every peer; /peers, /quit, /help')
    .option(
      '-n, --name <name>',
      'name shown to others',
      `${process.env.USER ?? 'peer'}@${hostname()}`.slice(0, 32),
    ),
  'silent',
).action(async (flags: NetworkFlags & { name: string }) => {
  const logger = loggerFromFlags(flags);
  const { unsentLines } = await runChat({
    name: flags.name,
    node: nodeOptionsFromFlags(flags, logger),
    temporaryIdentityIfTaken: flags.identity === undefined,
    logger,
  });
  // A script that piped lines in must learn that they went nowhere.
  if (unsentLines > 0) process.exitCode = 1;
});

program
  .command('id')
  .description("print this node's id (its public key), creating its identity file on first use")
  .option('--identity <path>', 'identity key file (default: the one meshcast chat uses)')
  .action((flags: { identity?: string }) => runId(flags.identity));

program
  .command('keygen')
  .description(
    'write a new private network key to <file>; nodes started with --network-key <file> admit only each other',
  )
  .argument('<file>', 'where to write the key (must not exist yet)')
  .action((file: string) => runKeygen(file));

program
  .command('demo')
  .description('run a swarm on 127.0.0.1 in this process: discovery, broadcast, a crash, healing, a summary')
  .option('--nodes <n>', 'how many nodes', whole(2, 500), 20)
  .option('--broadcasts <n>', 'broadcasts before the crash and again after it', whole(1, 1000), 5)
  .option('--kill <fraction>', 'fraction of nodes crashed at once', fractionBelowOne, 1 / 3)
  .addOption(new Option('--log-level <level>', 'log detail on stderr').choices(LOG_LEVELS).default('warn'))
  .action(async (flags: { nodes: number; broadcasts: number; kill: number; logLevel: LogLevel }) => {
    const summary = await runDemo({
      nodes: flags.nodes,
      broadcasts: flags.broadcasts,
      killFraction: flags.kill,
      logger: createLogger(flags.logLevel),
    });
    if (!summary.ok) process.exitCode = 1;
  });

registerSimCommand(program);

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`meshcast: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
