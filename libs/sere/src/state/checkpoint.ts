/**
 * State dicts in PyTorch's own file format, under the reference's names, so a backbone
 * trained here loads with torch.load into the reference ViT and the other way round.
 */
import * as T from '@sere/torch';
import { ParamStore } from '../model/params';

export function stateDictToPth(state: Map<string, T.Tensor>): Map<string, T.PthTensor> {
  const out = new Map<string, T.PthTensor>();
  for (const [k, v] of state) out.set(k, T.toPthTensor(v));
  return out;
}

/** Writes a plain state dict (an OrderedDict of tensors in torch.load's eyes). */
export function saveStateDict(file: string, state: Map<string, T.Tensor>): void {
  T.writePthFile(file, stateDictToPth(state));
}

/** Reads a state dict file (or one entry of a training checkpoint, e.g. "teacher") onto a device. */
export function loadStateDictFile(file: string, device = 'cpu', key?: string, stripPrefix = ''): Map<string, T.Tensor> {
  return stateDictOf(T.readPthFile(file), file, device, key, stripPrefix);
}

/** The same, from a file already parsed; `source` names it in errors. */
export function stateDictOf(value: T.PthValue, source: string, device = 'cpu', key?: string, stripPrefix = ''): Map<string, T.Tensor> {
  const plain = T.stateDictFromPth(value, source, key);
  const out = new Map<string, T.Tensor>();
  for (const [k, v] of plain) {
    if (stripPrefix && !k.startsWith(stripPrefix)) continue;
    out.set(k.slice(stripPrefix.length), T.fromPthTensor(v, device));
  }
  return out;
}

/** Loads a state dict file into a parameter store, checking names and shapes. */
export function loadInto(store: ParamStore, file: string, opts: { strict?: boolean; key?: string; stripPrefix?: string } = {}): void {
  T.scope(() => {
    const device = store.named()[0]?.[1].device ?? 'cpu';
    store.load(loadStateDictFile(file, device, opts.key, opts.stripPrefix), { strict: opts.strict, source: file });
  });
}
