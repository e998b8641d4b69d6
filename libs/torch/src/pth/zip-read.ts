import * as zlib from 'zlib';
import { crc32 } from './crc32';
import { PthError } from './types';

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;

interface CentralEntry {
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/**
 * Random access to the records of a zip held in memory. Sizes come from the central directory
 * only: torch.save sets the data-descriptor flag and leaves sizes in local headers zero.
 * Stored records are returned as views into the file buffer (no copy).
 */
export class ZipArchive {
  private readonly entries = new Map<string, CentralEntry>();

  constructor(
    private readonly file: Buffer,
    private readonly source: string,
    private readonly verifyCrc = true,
  ) {
    const eocd = this.findEndOfCentralDirectory();
    let count = file.readUInt16LE(eocd + 10);
    let cdSize = file.readUInt32LE(eocd + 12);
    let cdOffset = file.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      ({ count, cdSize, cdOffset } = this.readZip64End(eocd));
    }
    if (cdOffset + cdSize > eocd) this.fail('central directory runs past its end record (truncated or corrupt zip)');
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      this.need(p, CENTRAL_SIZE, 'central directory entry');
      if (file.readUInt32LE(p) !== CENTRAL_SIG) this.fail(`bad central directory entry #${i} at byte ${p}`);
      const flags = file.readUInt16LE(p + 8);
      const nameLen = file.readUInt16LE(p + 28);
      const extraLen = file.readUInt16LE(p + 30);
      const commentLen = file.readUInt16LE(p + 32);
      this.need(p + CENTRAL_SIZE, nameLen + extraLen + commentLen, 'central directory entry');
      const nameBytes = file.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
      const name = nameBytes.toString(flags & 0x800 ? 'utf8' : 'latin1');
      const entry: CentralEntry = {
        flags,
        method: file.readUInt16LE(p + 10),
        crc: file.readUInt32LE(p + 16),
        compressedSize: file.readUInt32LE(p + 20),
        size: file.readUInt32LE(p + 24),
        localOffset: file.readUInt32LE(p + 42),
      };
      this.applyZip64Extra(entry, p + CENTRAL_SIZE + nameLen, extraLen, name);
      if (!this.entries.has(name)) this.entries.set(name, entry);
      p += CENTRAL_SIZE + nameLen + extraLen + commentLen;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The record's bytes; for stored records a view into the file buffer. */
  read(name: string): Buffer {
    const e = this.entries.get(name);
    if (!e) this.fail(`record '${name}' is missing`);
    if (e.flags & 1) this.fail(`record '${name}' is encrypted`);
    const f = this.file;
    this.need(e.localOffset, LOCAL_SIZE, `local header of '${name}'`);
    if (f.readUInt32LE(e.localOffset) !== LOCAL_SIG) this.fail(`bad local header for '${name}' at byte ${e.localOffset}`);
    const start = e.localOffset + LOCAL_SIZE + f.readUInt16LE(e.localOffset + 26) + f.readUInt16LE(e.localOffset + 28);
    this.need(start, e.compressedSize, `record '${name}'`);
    const raw = f.subarray(start, start + e.compressedSize);
    let data: Buffer;
    if (e.method === 0) {
      data = raw;
    } else if (e.method === 8) {
      try {
        // Capped at the declared size so a hostile record cannot inflate without bound.
        data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
      } catch (err) {
        this.fail(`record '${name}' does not inflate: ${(err as Error).message}`);
      }
    } else {
      this.fail(`record '${name}' uses compression method ${e.method}; only stored (0) and deflate (8) are read`);
    }
    if (data.length !== e.size) this.fail(`record '${name}' has ${data.length} bytes, its directory entry says ${e.size}`);
    if (this.verifyCrc && crc32(data) !== e.crc) this.fail(`record '${name}' is corrupt (CRC-32 mismatch)`);
    return data;
  }

  private findEndOfCentralDirectory(): number {
    const f = this.file;
    const lowest = Math.max(0, f.length - EOCD_SIZE - 0xffff);
    for (let p = f.length - EOCD_SIZE; p >= lowest; p--) {
      if (f.readUInt32LE(p) === EOCD_SIG && p + EOCD_SIZE + f.readUInt16LE(p + 20) <= f.length) return p;
    }
    this.fail('no zip end-of-central-directory record: not a zip archive, or the file is truncated');
  }

  private readZip64End(eocd: number): { count: number; cdSize: number; cdOffset: number } {
    const f = this.file;
    const loc = eocd - 20;
    if (loc < 0 || f.readUInt32LE(loc) !== ZIP64_LOCATOR_SIG) this.fail('zip64 end locator missing (corrupt zip)');
    const end = this.u64(loc + 8);
    this.need(end, 56, 'zip64 end record');
    if (f.readUInt32LE(end) !== ZIP64_EOCD_SIG) this.fail('bad zip64 end record (corrupt zip)');
    return { count: this.u64(end + 32), cdSize: this.u64(end + 40), cdOffset: this.u64(end + 48) };
  }

  private applyZip64Extra(e: CentralEntry, start: number, length: number, name: string): void {
    const wants = [e.size === 0xffffffff, e.compressedSize === 0xffffffff, e.localOffset === 0xffffffff];
    if (!wants.some(Boolean)) return;
    const f = this.file;
    for (let p = start; p + 4 <= start + length; ) {
      const id = f.readUInt16LE(p);
      const size = f.readUInt16LE(p + 2);
      if (id === 0x0001) {
        let q = p + 4;
        const next = (): number => {
          if (q + 8 > p + 4 + size) this.fail(`zip64 field of '${name}' is too short`);
          const v = this.u64(q);
          q += 8;
          return v;
        };
        if (wants[0]) e.size = next();
        if (wants[1]) e.compressedSize = next();
        if (wants[2]) e.localOffset = next();
        return;
      }
      p += 4 + size;
    }
    this.fail(`directory entry of '${name}' lacks its zip64 sizes`);
  }

  private u64(p: number): number {
    this.need(p, 8, 'zip64 field');
    const v = this.file.readBigUInt64LE(p);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`zip64 value ${v} out of range`);
    return Number(v);
  }

  private need(start: number, length: number, what: string): void {
    if (start < 0 || start + length > this.file.length) {
      this.fail(`${what} at byte ${start} runs past the end of the file (${this.file.length} bytes): truncated`);
    }
  }

  private fail(detail: string): never {
    throw new PthError(this.source, detail);
  }
}
