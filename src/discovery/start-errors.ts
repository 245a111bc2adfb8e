import { DiscoveryStartError, optionAsSet, type ValidatedOptions } from './multicast-options.js';

/** The socket set-up step that failed; each one is governed by a different option. */
export type SetupStep = 'bind' | 'setInterface' | 'join';

/** A network interface discovery could be pinned to. */
export interface LanInterface {
  readonly name: string;
  readonly address: string;
}

const INTERFACE_OPTION = `set the ${optionAsSet('interfaceAddress')} to the IPv4 address of a local, multicast-capable interface`;
const PORT_OPTION = optionAsSet('port');

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Turns an OS error into a message that says what to change, rather than a bare errno. */
export function describeSetupError(
  step: SetupStep,
  error: unknown,
  options: ValidatedOptions,
  /** This host's interfaces other than loopback, to name the choices. */
  lans: readonly LanInterface[] = [],
): DiscoveryStartError {
  const code = errorCode(error);
  const cause = code ?? errorText(error);
  const where = options.interfaceAddress ? `interface ${options.interfaceAddress}` : 'the default interface';
  switch (step) {
    case 'bind':
      if (code === 'EADDRINUSE') {
        return new DiscoveryStartError(
          'port',
          `discovery UDP port ${options.port} is held by a socket that does not allow sharing (EADDRINUSE); ` +
            `stop that program or choose another ${PORT_OPTION}`,
          code,
        );
      }
      if (code === 'EACCES') {
        return new DiscoveryStartError(
          'port',
          `not allowed to bind discovery UDP port ${options.port} (EACCES); choose a ${PORT_OPTION} above 1023`,
          code,
        );
      }
      return new DiscoveryStartError(
        'port',
        `cannot bind discovery UDP port ${options.port} for group ${options.group} (${cause}); ` +
          `check the ${PORT_OPTION} and the ${optionAsSet('group')}`,
        code,
      );
    case 'setInterface':
      return new DiscoveryStartError(
        'interfaceAddress',
        `cannot send multicast on ${where} (${cause}); ${INTERFACE_OPTION}`,
        code,
      );
    case 'join': {
      // Without a pinned interface the OS picks one by its routes, and with neither a multicast nor
      // a default route it has none: a host with several LAN interfaces must be told which.
      const choices =
        options.interfaceAddress === undefined && lans.length > 0
          ? `; this host has ${lans.map((lan) => `${lan.address} (${lan.name})`).join(', ')}`
          : '';
      return new DiscoveryStartError(
        'interfaceAddress',
        `cannot join multicast group ${options.group} on ${where} (${cause}); ${INTERFACE_OPTION} ` +
          `(without it the OS needs a multicast or default route)${choices}`,
        code,
      );
    }
  }
}
