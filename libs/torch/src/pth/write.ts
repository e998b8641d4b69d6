import * as fs from 'fs';
import { pickleValue } from './pickle-write';
import { PthError, PthValue } from './types';
import { ZipRecord, writeZip } from './zip-write';

/** torch.save's top folder name since PyTorch 2; any name is accepted by torch.load. */
const ARCHIVE = 'archive';

/**
 * Serialises `value` as torch.save does with its zip format: data.pkl first, storages aligned
 * to 64 bytes, then the version record. See pickleValue for how JS values map to Python.
 */
export function writePth(value: PthValue): Buffer {
  const { pickle, storages } = pickleValue(value);
  const records: ZipRecord[] = [
    { name: `${ARCHIVE}/data.pkl`, data: pickle },
    { name: `${ARCHIVE}/byteorder`, data: Buffer.from('little') },
    ...storages.map((data, key) => ({ name: `${ARCHIVE}/data/${key}`, data })),
    { name: `${ARCHIVE}/version`, data: Buffer.from('3\n') },
  ];
  return writeZip(records);
}

/** writePth to a path, through a temporary file so a crash never leaves half a checkpoint. */
export function writePthFile(path: string, value: PthValue): void {
  const bytes = writePth(value);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, path);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new PthError(path, `cannot write file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
