/**
 * The contract between the view pipeline (libs/augment), the wire format (libs/wire) and
 * the trainer. Everything here is plain data: no tensors, so the data service can run
 * without libtorch.
 */

/** A crop's rectangle in original-image pixels, recorded so overlap grids can be built (spec §4.2). */
export interface CropRect {
  x0: number; // left column
  y0: number; // top row
  w: number; // width before resizing
  h: number; // height before resizing
  flip: boolean; // horizontally flipped after resizing
}

/** One view (crop) as interleaved RGB uint8, HWC, size x size. Normalisation happens on the trainer's device. */
export interface View {
  size: number;
  rgb: Uint8Array; // length size*size*3
  rect: CropRect;
}

/**
 * All views of one image, in the reference's order: global crop 1, global crop 2, then the
 * L local crops. Masks are the iBOT masks of the two global crops on the (globalSize/patch)^2
 * token grid, row-major, true = masked. Grids are float32 [S,S,2] row-major ((x,y) pairs in
 * [-1,1], -2 where the crops do not overlap), laid out as in spec §5.1:
 *   gridsGlobal1 = [crop-1 grid, crop-2 grid] of grid(g1, g2, S1)
 *   gridsGlobal2 = same with S2
 *   gridsLocal[q*L+v]  = local-side grid of the pair (local v, global q), 6x6
 *   gridsGlobalSide[q*L+v] = global-side grid of that pair, 6x6
 */
export interface MultiCropSample {
  index: number; // position of the image in the dataset index
  label: number;
  views: View[];
  masks: [Uint8Array, Uint8Array];
  maskGrid: number; // side of the mask grid (14 for 224 px / patch 16)
  gridsGlobal1: [Float32Array, Float32Array];
  gridsGlobal2: [Float32Array, Float32Array];
  gridsLocal: Float32Array[];
  gridsGlobalSide: Float32Array[];
}
