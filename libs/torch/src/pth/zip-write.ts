import { crc32 } from './crc32';
import { PthError } from './types';

export interface ZipRecord {
  name: string;
  data: Buffer;
}

const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const EOCD_SIZE = 22;
/** Extra-field id PyTorch uses for its alignment padding ("FB"); readers skip unknown ids. */
const PAD_FIELD_ID = 0x4246;
const DOS_DATE_1980_01_01 = (1 << 5) | 1;

/**
 * A stored (uncompressed) zip whose record data start on `align`-byte boundaries, so a
 * reader can map storages straight from the file. Fixed timestamps keep output reproducible.
 */
export function writeZip(records: readonly ZipRecord[], align = 64): Buffer {
  const names = records.map((r) => Buffer.from(r.name, 'utf8'));
  const layout: { header: number; extra: number; data: number; crc: number }[] = [];
  let pos = 0;
  records.forEach((r, i) => {
    const afterName = pos + LOCAL_SIZE + names[i].length;
    const extra = afterName % align === 0 ? 0 : 4 + ((align - ((afterName + 4) % align)) % align);
    layout.push({ header: pos, extra, data: afterName + extra, crc: crc32(r.data) });
    pos = afterName + extra + r.data.length;
  });
  const cdOffset = pos;
  const cdSize = names.reduce((sum, n) => sum + CENTRAL_SIZE + n.length, 0);
  const total = cdOffset + cdSize + EOCD_SIZE;
  // Node 20 Buffers stop at 4 GiB, so plain (non-zip64) offsets always suffice for one Buffer.
  if (total >= 0xffffffff || records.length >= 0xffff) {
    throw new PthError('writePth', `archive of ${total} bytes in ${records.length} records exceeds the zip32 limits`);
  }

  const out = Buffer.allocUnsafe(total);
  records.forEach((r, i) => {
    const { header, extra, data, crc } = layout[i];
    const name = names[i];
    writeLocalHeader(out, header, name.length, extra, crc, r.data.length);
    name.copy(out, header + LOCAL_SIZE);
    if (extra > 0) {
      const p = header + LOCAL_SIZE + name.length;
      out.writeUInt16LE(PAD_FIELD_ID, p);
      out.writeUInt16LE(extra - 4, p + 2);
      out.fill(0x5a, p + 4, p + extra);
    }
    r.data.copy(out, data);
  });

  let p = cdOffset;
  records.forEach((r, i) => {
    const name = names[i];
    out.writeUInt32LE(0x02014b50, p);
    out.writeUInt16LE(20, p + 4); // made by: MS-DOS attributes, spec 2.0
    writeCommonFields(out, p + 6, layout[i].crc, r.data.length, name.length, 0);
    out.writeUInt16LE(0, p + 32); // comment length
    out.writeUInt16LE(0, p + 34); // disk
    out.writeUInt16LE(0, p + 36); // internal attributes
    out.writeUInt32LE(0, p + 38); // external attributes
    out.writeUInt32LE(layout[i].header, p + 42);
    name.copy(out, p + CENTRAL_SIZE);
    p += CENTRAL_SIZE + name.length;
  });

  out.writeUInt32LE(0x06054b50, p);
  out.writeUInt16LE(0, p + 4);
  out.writeUInt16LE(0, p + 6);
  out.writeUInt16LE(records.length, p + 8);
  out.writeUInt16LE(records.length, p + 10);
  out.writeUInt32LE(cdSize, p + 12);
  out.writeUInt32LE(cdOffset, p + 16);
  out.writeUInt16LE(0, p + 20);
  return out;
}

function writeLocalHeader(out: Buffer, p: number, nameLen: number, extraLen: number, crc: number, size: number): void {
  out.writeUInt32LE(0x04034b50, p);
  writeCommonFields(out, p + 4, crc, size, nameLen, extraLen);
}

/** The run of fields local and central headers share, from "version needed" to "extra length". */
function writeCommonFields(out: Buffer, p: number, crc: number, size: number, nameLen: number, extraLen: number): void {
  out.writeUInt16LE(20, p); // version needed
  out.writeUInt16LE(0x0800, p + 2); // flags: names are UTF-8
  out.writeUInt16LE(0, p + 4); // method: stored
  out.writeUInt16LE(0, p + 6); // time
  out.writeUInt16LE(DOS_DATE_1980_01_01, p + 8);
  out.writeUInt32LE(crc, p + 10);
  out.writeUInt32LE(size, p + 14); // compressed
  out.writeUInt32LE(size, p + 18); // uncompressed
  out.writeUInt16LE(nameLen, p + 22);
  out.writeUInt16LE(extraLen, p + 24);
}
