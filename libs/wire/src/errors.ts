/**
 * Why a message was refused. Consumers count these by kind (a metric label) and move on:
 * one bad message must never stop a trainer.
 */
export type WireErrorKind = 'truncated' | 'checksum' | 'version' | 'magic' | 'malformed';

export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly kind: WireErrorKind,
    message: string,
  ) {
    super(`wire: ${kind}: ${message}`);
  }
}

export function isWireError(e: unknown): e is WireError {
  return e instanceof WireError;
}
