export { DataError } from './errors';
export { indexImageFolder, type DatasetIndex, type IndexEntry } from './image-folder';
export { distributedShard, EpochPlan, type PlanOptions, type Slot } from './epoch-plan';
export { scanDataset, formatScanReport, type ScanReport, type ScanOptions, type SkippedFile, type ConvertedFile } from './scan';
export { synthDataset, className, type SynthOptions, type SynthResult } from './synth';
export { drawPicture, PICTURE_STYLES, SHAPES, type PictureStyle } from './draw';
export { mapLimit } from './pool';
