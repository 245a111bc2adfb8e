/**
 * What chat peers put in a broadcast's payload: a small JSON object. It is the chat's own format,
 * on top of meshcast; the mesh itself carries opaque bytes.
 */
export type ChatPayload =
  | { readonly kind: 'line'; readonly name: string; readonly text: string }
  | { readonly kind: 'joined'; readonly name: string }
  | { readonly kind: 'left'; readonly name: string };

/** Longest line a user may send; longer ones are refused with a message rather than cut silently. */
export const MAX_LINE_CHARS = 4096;
const MAX_NAME_CHARS = 32;

export function encodeChat(payload: ChatPayload): Buffer {
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** Decodes a chat payload; anything else (another application, a malformed peer) gives undefined. */
export function decodeChat(data: Uint8Array): ChatPayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { kind, name, text } = value as Record<string, unknown>;
  if (typeof name !== 'string' || name.length > MAX_NAME_CHARS) return undefined;
  // Checked once stripped: a name of control characters alone would show as nothing.
  const safeName = stripControl(name);
  if (safeName.length === 0) return undefined;
  if (kind === 'line' && typeof text === 'string' && text.length <= MAX_LINE_CHARS) {
    return { kind, name: safeName, text: stripControl(text) };
  }
  if (kind === 'joined' || kind === 'left') return { kind, name: safeName };
  return undefined;
}

/**
 * A peer must not be able to move our cursor or clear our screen with escape sequences (control
 * characters, C0 and C1), nor make its text read otherwise than it is: bidirectional overrides and
 * other invisible format characters (Unicode category Cf) and line or paragraph separators go too.
 */
function stripControl(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '');
}

export function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_CHARS && stripControl(name) === name;
}
