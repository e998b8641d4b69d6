/**
 * Parameters and buffers by their reference state-dict names (spec §1.2), so checkpoints
 * map one to one onto PyTorch's and the EMA can pair student and teacher by name.
 */
import * as T from '@sere/torch';

export class ParamStore {
  readonly tensors = new Map<string, T.Tensor>();
  /** Buffers (BatchNorm running statistics): saved, never trained, never averaged. */
  readonly buffers = new Map<string, T.Tensor>();
  /** Names listed twice in the reference state dict because one module has two names. */
  readonly aliases = new Map<string, string>();

  get(name: string): T.Tensor {
    const t = this.tensors.get(name) ?? this.buffers.get(name);
    if (t) return t;
    const target = this.aliases.get(name);
    if (target) return this.get(target);
    throw new Error(`parameter '${name}' does not exist in this model`);
  }

  has(name: string): boolean {
    return this.tensors.has(name) || this.buffers.has(name) || this.aliases.has(name);
  }

  add(name: string, t: T.Tensor, trainable = true): T.Tensor {
    T.keep(t);
    if (trainable) t.setRequiresGrad(true);
    this.tensors.set(name, t);
    return t;
  }

  addBuffer(name: string, t: T.Tensor): T.Tensor {
    T.keep(t);
    this.buffers.set(name, t);
    return t;
  }

  /** Trainable parameters in registration order (the reference's named_parameters order). */
  named(): [string, T.Tensor][] {
    return [...this.tensors.entries()];
  }

  /** Replaces values in place (shapes must match), e.g. from a fixture or checkpoint. */
  load(values: Map<string, T.Tensor>, opts: { strict?: boolean; source?: string } = {}): void {
    const source = opts.source ?? 'state dict';
    T.noGrad(() =>
      T.scope(() => {
        for (const [name, v] of values) {
          // An alias is loaded into the module it names, in state-dict order, so a later
          // entry wins — as load_state_dict does for one module listed under two names.
          const alias = this.aliases.get(name);
          const target = alias ? this.get(alias) : this.tensors.get(name) ?? this.buffers.get(name);
          if (!target) {
            if (opts.strict) throw new Error(`${source}: unexpected key '${name}'`);
            continue;
          }
          if (target.shape.join(',') !== v.shape.join(',')) {
            throw new Error(`${source}: '${name}' has shape [${v.shape}] but the model expects [${target.shape}]`);
          }
          T.call('aten::copy_', '', [target, v]);
        }
        if (opts.strict) {
          for (const name of [...this.tensors.keys(), ...this.buffers.keys(), ...this.aliases.keys()]) {
            if (!values.has(name)) throw new Error(`${source}: missing key '${name}'`);
          }
        }
      }),
    );
  }

  /** name -> tensor for saving, including buffers and aliases, in reference order. */
  stateDict(): Map<string, T.Tensor> {
    const out = new Map<string, T.Tensor>();
    for (const [k, v] of this.tensors) out.set(k, v);
    for (const [k, v] of this.buffers) out.set(k, v);
    for (const [k, v] of this.aliases) out.set(k, this.get(v));
    return out;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    for (const t of this.buffers.values()) t.dispose();
    this.tensors.clear();
    this.buffers.clear();
  }
}
