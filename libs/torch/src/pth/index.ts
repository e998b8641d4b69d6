/**
 * PyTorch checkpoint format (torch.save's zip + pickle) as plain data, in TypeScript only:
 * the tensor binding converts PthTensor <-> tensors; this module never touches libtorch.
 */
export { readPth, readPthFile } from './read';
export type { ReadPthOptions } from './read';
export { writePth, writePthFile } from './write';
export { PthError, isPthTensor, isPthDType, pthItemSize } from './types';
export type { PthDType, PthTensor, PthValue, PthDict, PthKey } from './types';
