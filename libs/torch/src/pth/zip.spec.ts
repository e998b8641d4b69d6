import * as zlib from 'zlib';
import { PthError } from './types';
import { ZipArchive } from './zip-read';
import { ZipRecord, writeZip } from './zip-write';

const records: ZipRecord[] = [
  { name: 'archive/data.pkl', data: Buffer.from('pickle') },
  { name: 'archive/data/0', data: Buffer.alloc(100, 7) },
  { name: 'archive/data/1', data: Buffer.alloc(0) },
  { name: 'archive/ünïcode', data: Buffer.from('x') },
];

/** Offset of each record's data, from its local header. */
function dataOffsets(zip: Buffer): number[] {
  const out: number[] = [];
  for (let p = 0; zip.readUInt32LE(p) === 0x04034b50; ) {
    const start = p + 30 + zip.readUInt16LE(p + 26) + zip.readUInt16LE(p + 28);
    out.push(start);
    p = start + zip.readUInt32LE(p + 18);
  }
  return out;
}

/** Rewrites a zip32 archive the way zip64 writers do: saturated directory fields, zip64 extras and end records. */
function toZip64(zip: Buffer): Buffer {
  const eocd = zip.length - 22;
  const count = zip.readUInt16LE(eocd + 10);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  const entries: Buffer[] = [];
  for (let i = 0, p = cdOffset; i < count; i++) {
    const nameLen = zip.readUInt16LE(p + 28);
    const head = Buffer.from(zip.subarray(p, p + 46 + nameLen));
    const extra = Buffer.alloc(28);
    extra.writeUInt16LE(1, 0);
    extra.writeUInt16LE(24, 2);
    extra.writeBigUInt64LE(BigInt(head.readUInt32LE(24)), 4);
    extra.writeBigUInt64LE(BigInt(head.readUInt32LE(20)), 12);
    extra.writeBigUInt64LE(BigInt(head.readUInt32LE(42)), 20);
    for (const at of [20, 24, 42]) head.writeUInt32LE(0xffffffff, at);
    head.writeUInt16LE(extra.length, 30);
    entries.push(head, extra);
    p += 46 + nameLen;
  }
  const cd = Buffer.concat(entries);
  const end64 = Buffer.alloc(56);
  end64.writeUInt32LE(0x06064b50, 0);
  end64.writeBigUInt64LE(44n, 4);
  end64.writeBigUInt64LE(BigInt(count), 24);
  end64.writeBigUInt64LE(BigInt(count), 32);
  end64.writeBigUInt64LE(BigInt(cd.length), 40);
  end64.writeBigUInt64LE(BigInt(cdOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(cdOffset + cd.length), 8);
  locator.writeUInt32LE(1, 16);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([zip.subarray(0, cdOffset), cd, end64, locator, end]);
}

describe('zip writer and reader', () => {
  it('round-trips records, names and empty data', () => {
    const zip = new ZipArchive(writeZip(records), 'test.zip');
    expect(zip.names()).toEqual(records.map((r) => r.name));
    for (const r of records) expect(zip.read(r.name).equals(r.data)).toBe(true);
  });

  it('starts every record on a 64-byte boundary', () => {
    const offsets = dataOffsets(writeZip(records));
    expect(offsets).toHaveLength(records.length);
    for (const o of offsets) expect(o % 64).toBe(0);
  });

  it('returns stored records as views, not copies', () => {
    const file = writeZip(records);
    const data = new ZipArchive(file, 'test.zip').read('archive/data/0');
    expect(data.buffer).toBe(file.buffer);
  });

  it('reads zip64 directories', () => {
    const zip = new ZipArchive(toZip64(writeZip(records)), 'zip64.zip');
    expect(zip.names()).toEqual(records.map((r) => r.name));
    expect(zip.read('archive/data/0').equals(records[1].data)).toBe(true);
  });

  it('reads deflated records and refuses other methods', () => {
    const deflated = zlib.deflateRawSync(records[1].data);
    const file = writeZip([{ name: 'a', data: deflated }]);
    const [start] = dataOffsets(file);
    const patch = (method: number, size: number): Buffer => {
      const f = Buffer.from(file);
      const cd = f.readUInt32LE(f.length - 6);
      f.writeUInt16LE(method, cd + 10);
      f.writeUInt32LE(zlib.crc32(records[1].data), cd + 16);
      f.writeUInt32LE(size, cd + 24);
      return f;
    };
    expect(new ZipArchive(patch(8, 100), 'd.zip').read('a').equals(records[1].data)).toBe(true);
    expect(() => new ZipArchive(patch(8, 50), 'd.zip').read('a')).toThrow(/does not inflate|directory entry says 50/);
    expect(() => new ZipArchive(patch(12, 100), 'd.zip').read('a')).toThrow("d.zip: record 'a' uses compression method 12");
    expect(start % 64).toBe(0);
  });

  it('detects corrupted data through the CRC, unless told not to check', () => {
    const file = writeZip(records);
    file[dataOffsets(file)[1] + 5] ^= 0xff;
    expect(() => new ZipArchive(file, 'bad.zip').read('archive/data/0')).toThrow("bad.zip: record 'archive/data/0' is corrupt (CRC-32 mismatch)");
    expect(new ZipArchive(file, 'bad.zip', false).read('archive/data/0')).toHaveLength(100);
  });

  it('reports missing records and files that are not zips', () => {
    expect(() => new ZipArchive(writeZip(records), 'a.zip').read('nope')).toThrow("a.zip: record 'nope' is missing");
    expect(() => new ZipArchive(Buffer.from('hello'), 'h.txt')).toThrow(PthError);
    expect(() => new ZipArchive(Buffer.alloc(0), 'empty')).toThrow(/not a zip archive, or the file is truncated/);
  });
});
