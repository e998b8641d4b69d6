/**
 * SHA-256 of stored bytes. Local sidecars use `sha256sum`'s line format, so a person can
 * check a checkpoint by hand with `sha256sum -c checkpoint.pth.sha256`.
 */
import { createHash } from 'node:crypto';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function checksumLine(hex: string, fileName: string): string {
  return `${hex}  ${fileName}\n`;
}

const LINE = /^([0-9a-f]{64}) [ *](.+)$/;

/** The hex digest in a sidecar line, or null when the text is not one. */
export function parseChecksumLine(text: string): string | null {
  const m = LINE.exec(text.trim());
  return m ? m[1] : null;
}
