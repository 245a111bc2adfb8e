import { describe, expect, it } from 'vitest';
import { validateOptions } from '../../src/discovery/multicast-options.js';
import { describeSetupError } from '../../src/discovery/start-errors.js';

const enodev = Object.assign(new Error('addMembership ENODEV'), { code: 'ENODEV' });
const lans = [
  { name: 'eth0', address: '192.168.1.20' },
  { name: 'wlan0', address: '10.0.0.7' },
];

function options(interfaceAddress?: string) {
  const validated = validateOptions({ self: 'a'.repeat(64), listenPort: 50_000, interfaceAddress });
  if (validated instanceof Error) throw validated;
  return validated;
}

describe('describeSetupError', () => {
  it('names the option everywhere users set it, and the interfaces to choose from when none was set', () => {
    const error = describeSetupError('join', enodev, options(), lans);
    expect(error).toMatchObject({ option: 'interfaceAddress', code: 'ENODEV' });
    expect(error.message).toContain('on the default interface (ENODEV)');
    expect(error.message).toContain(`"interface"`);
    expect(error.message).toContain('--interface');
    expect(error.message).toMatch(/this host has 192\.168\.1\.20 \(eth0\), 10\.0\.0\.7 \(wlan0\)$/);
  });

  it.each([
    [
      'EADDRINUSE',
      /choose another "port" option \(createNode's "discoveryPort", meshcast's --discovery-port\)$/,
    ],
    [
      'EACCES',
      /choose a "port" option \(createNode's "discoveryPort", meshcast's --discovery-port\) above 1023$/,
    ],
    [
      'EINVAL',
      /check the "port" option \(createNode's "discoveryPort", .*\) and the "group" option \(.*--group\)$/,
    ],
  ])('names the discovery port as users set it, not as the TCP "port" they also set: %s', (code, wanted) => {
    const error = describeSetupError('bind', Object.assign(new Error(`bind ${code}`), { code }), options());
    expect(error).toMatchObject({ option: 'port', code });
    expect(error.message).toMatch(wanted);
  });

  it('lists no choices for an interface that was set', () => {
    const error = describeSetupError('join', enodev, options('192.168.1.20'), lans);
    expect(error.message).toContain('on interface 192.168.1.20 (ENODEV)');
    expect(error.message).not.toContain('this host has');
  });
});
