import { DiscoveryStartError, type ValidatedOptions } from './multicast-options.js';

/** The socket set-up step that failed; each one is governed by a different option. */
export type SetupStep = 'bind' | 'setInterface' | 'join';

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
            'stop that program or choose another "port" option',
          code,
        );
      }
      if (code === 'EACCES') {
        return new DiscoveryStartError(
          'port',
          `not allowed to bind discovery UDP port ${options.port} (EACCES); choose a "port" option above 1023`,
          code,
        );
      }
      return new DiscoveryStartError(
        'port',
        `cannot bind discovery UDP port ${options.port} for group ${options.group} (${cause}); ` +
          'check the "port" and "group" options',
        code,
      );
    case 'setInterface':
      return new DiscoveryStartError(
        'interfaceAddress',
        `cannot send multicast on ${where} (${cause}); ` +
          'set the "interfaceAddress" option to the IPv4 address of a local, multicast-capable interface',
        code,
      );
    case 'join':
      return new DiscoveryStartError(
        'interfaceAddress',
        `cannot join multicast group ${options.group} on ${where} (${cause}); ` +
          'set the "interfaceAddress" option to the IPv4 address of a local, multicast-capable interface ' +
          '(without it the OS needs a multicast or default route)',
        code,
      );
  }
}
