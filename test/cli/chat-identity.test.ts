import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runChat } from '../../src/cli/chat.js';
import { loadOrCreateIdentity } from '../../src/identity/identity-file.js';
import { identityHolder, lockIdentityFile } from '../../src/identity/identity-lock.js';
import { silentLogger } from '../../src/log/logger.js';
import { waitUntil } from '../helpers/wait.js';

// Opens a TCP socket on 127.0.0.1 (no discovery): run in the loopback netns.

vi.mock('../../src/identity/identity-lock.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/identity/identity-lock.js')>();
  return { ...actual, identityHolder: vi.fn(actual.identityHolder) };
});

const dir = mkdtempSync(join(tmpdir(), 'meshcast-chat-identity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('meshcast chat on the default identity file', () => {
  it('takes a temporary identity when another chat takes the file between its check and its start', async () => {
    const identityFile = join(dir, 'identity.key');
    loadOrCreateIdentity(identityFile);
    // Two chats started at one moment: both find the file free, and the other one locks it first.
    vi.mocked(identityHolder).mockReturnValue(undefined);
    const release = lockIdentityFile(identityFile);
    const input = new PassThrough();
    const output = new PassThrough();
    let screen = '';
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      screen += chunk;
    });
    try {
      const chat = runChat({
        name: 'second',
        node: { identityFile, host: '127.0.0.1', port: 0, discovery: false, logger: silentLogger() },
        temporaryIdentityIfTaken: true,
        logger: silentLogger(),
        input,
        output,
      });
      // Before, its start failed with IdentityInUseError: the chat refused to run.
      await Promise.race([
        waitUntil('the chat to start', () => /links on port/.test(screen), [[output, 'data']]),
        chat,
      ]);
      expect(screen).toMatch(
        new RegExp(
          `^\\* ${identityFile.replaceAll('.', '\\.')} is in use by another meshcast \\(process ${process.pid}\\): this chat has a temporary identity$`,
          'm',
        ),
      );
      input.end();
      expect(await chat).toEqual({ unsentLines: 0 });
    } finally {
      release();
      vi.mocked(identityHolder).mockRestore();
    }
  });
});
