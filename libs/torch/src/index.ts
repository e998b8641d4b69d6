export * from './dtype';
export { Tensor, call, hasOp, opId, scope, keep, dispose, liveTensors, tensorCounters } from './tensor';
export * from './ops';
export * from './autograd';
export * from './runtime';
export * from './pth';
export * from './pth-tensors';
export * from './distributed';
export { native } from './native';
