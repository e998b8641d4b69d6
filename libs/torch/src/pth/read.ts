import * as fs from 'fs';
import { toPlain } from './plain';
import { GatherAllowance } from './strided';
import { TorchHost } from './torch-globals';
import { PthError, PthValue } from './types';
import { unpickle } from './unpickle';
import { ZipArchive } from './zip-read';

export interface ReadPthOptions {
  /** Check each record's CRC-32 (about 40 ms per 100 MB here). Default true. */
  verifyCrc?: boolean;
}

const LEGACY =
  'legacy (pre-zip) torch.save format is not supported; re-save with torch.save(..., _use_new_zipfile_serialization=True)';

/**
 * Reads a torch.save checkpoint without running any of it. Contiguous tensors come back as views
 * into `file` (copy before mutating); strided ones are gathered into new buffers.
 */
export function readPth(file: Buffer, source = '<buffer>', options: ReadPthOptions = {}): PthValue {
  try {
    return readArchive(file, source, options.verifyCrc ?? true);
  } catch (err) {
    if (err instanceof PthError) throw err;
    // A fault the checks above missed still names the file rather than surfacing a bare stack.
    throw new PthError(source, `unreadable checkpoint (${(err as Error).message})`);
  }
}

function readArchive(file: Buffer, source: string, verifyCrc: boolean): PthValue {
  const fail = (detail: string): never => {
    throw new PthError(source, detail);
  };
  if (file.length >= 2 && file[0] === 0x80 && file[1] <= 5) fail(LEGACY); // bare pickle stream
  if (file.length >= 262 && file.toString('latin1', 257, 262) === 'ustar') fail(LEGACY); // tar, torch < 0.4

  const zip = new ZipArchive(file, source, verifyCrc);
  const names = zip.names();
  const pkl = names.find((n) => /^[^/]*\/data\.pkl$/.test(n)) ?? names.find((n) => n === 'data.pkl');
  if (pkl === undefined) {
    if (names.some((n) => /(^|\/)constants\.pkl$/.test(n))) {
      fail('this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint');
    }
    const listed = names.slice(0, 5).join(', ') + (names.length > 5 ? ', ...' : '');
    return fail(`no data.pkl record (records: ${listed || 'none'}); not a torch.save checkpoint`);
  }
  const prefix = pkl.slice(0, -'data.pkl'.length);
  if (zip.has(`${prefix}byteorder`)) {
    const order = zip.read(`${prefix}byteorder`).toString('latin1').trim();
    if (order !== 'little') fail(`byte order '${order}' is not supported (only little-endian)`);
  }

  const inPickle = (detail: string): never => fail(`${pkl}: ${detail}`);
  const host = new TorchHost((key) => {
    const name = `${prefix}data/${key}`;
    if (!zip.has(name)) fail(`storage record '${name}' is missing`);
    return zip.read(name);
  }, inPickle, { gather: new GatherAllowance(file.length) });
  return toPlain(unpickle(zip.read(pkl), host, inPickle), inPickle);
}

/** readPth on a file path; errors name the path. */
export function readPthFile(path: string, options?: ReadPthOptions): PthValue {
  let file: Buffer;
  try {
    file = fs.readFileSync(path);
  } catch (err) {
    throw new PthError(path, `cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return readPth(file, path, options);
}
