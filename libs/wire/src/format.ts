/**
 * Layout of a batch message (all integers little-endian):
 *
 *   offset  size  field
 *   0       4     magic "SERB"
 *   4       2     format version (readers refuse newer versions)
 *   6       1     view codec (0 raw, 1 deflate, 2 jpeg)
 *   7       1     flags (bit 0: grids section deflated)
 *   8       4     total length in bytes, checksum included
 *   12      4     epoch
 *   16      2     rank (trainer rank the batch is for)
 *   18      2     replica (producer replica that made it)
 *   20      4     seq: slot number within this rank's stream of this epoch
 *   24      4     slots of this rank in this epoch
 *   28      4     images of this rank in this epoch
 *   32      4     position of the first sample in this rank's stream of this epoch
 *   36      2     sample count n
 *   38      2     views per sample V
 *   40      2     mask grid side g
 *   42      1     S1 (global-global grid side)    43  1  S2
 *   44      1     local-global grid side (6)      45  1  reserved (0)
 *   46      2     trainer ranks the producer plans for (0: not stated, by producers before it was)
 *   48      2·V   view sizes, then zero padding to a multiple of 4
 *   then three sections, each a u32 byte length followed by its bytes:
 *     meta   n·u32 indices, n·u32 labels, n·V·4·f64 rects (x0,y0,w,h), n·V·u8 flips,
 *            n·2·ceil(g²/8) bit-packed masks (bit k of byte k>>3 is cell k, LSB first)
 *     grids  per sample: gridsGlobal1[0..1], gridsGlobal2[0..1], gridsLocal[0..2L),
 *            gridsGlobalSide[0..2L) as float32 (deflated when flag bit 0 is set)
 *     views  codec-specific (see codecs.ts)
 *   last 4  CRC-32 (zlib's polynomial) of every byte before it
 *
 * Rects are float64 so nothing the crop sampler produces is rounded on the way.
 */
export const MAGIC = 0x42524553; // "SERB" read as a little-endian u32
export const WIRE_VERSION = 1;
export const FIXED_HEADER_BYTES = 48;
export const CHECKSUM_BYTES = 4;

export const enum Flag {
  GridsDeflated = 1,
}

export type ViewCodecName = 'raw' | 'deflate' | 'jpeg';
export const CODEC_IDS: Record<ViewCodecName, number> = { raw: 0, deflate: 1, jpeg: 2 };
export const CODEC_NAMES: ViewCodecName[] = ['raw', 'deflate', 'jpeg'];

/** Where a batch sits in the stream of one trainer rank; written by the producer, checked by the consumer. */
export interface BatchHeader {
  epoch: number;
  rank: number;
  replica: number;
  seq: number;
  slotsInEpoch: number;
  rankEpochSize: number;
  firstPosition: number;
  /**
   * Trainer ranks the producer's epoch plan shares the images between: a trainer of another
   * world size would train on the wrong share. Optional on write (0 is written), 0 on read
   * where a producer did not state it.
   */
  ranks?: number;
}

/** Everything the fixed header says, read without touching the sections. */
export interface MessageInfo extends BatchHeader {
  ranks: number;
  version: number;
  codec: ViewCodecName;
  gridsDeflated: boolean;
  totalLength: number;
  count: number;
  viewSizes: number[];
  maskGrid: number;
  overlap: [number, number];
  localGrid: number;
}

export function viewSizesBytes(nViews: number): number {
  return Math.ceil((nViews * 2) / 4) * 4;
}

export function maskBytes(grid: number): number {
  return Math.ceil((grid * grid) / 8);
}
