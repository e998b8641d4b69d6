/**
 * Read/write speed for a ViT-S/16 student state dict (backbone + iBOT head, ~117 MB).
 * Run: npx tsx libs/torch/src/pth/pth.bench.ts
 */
import { PthDict, PthTensor, readPth, writePth } from './index';

function tensor(shape: number[]): PthTensor {
  const data = Buffer.allocUnsafe(shape.reduce((a, b) => a * b, 1) * 4);
  data.fill(0x3f); // content does not matter for speed
  return { dtype: 'float32', shape, data };
}

function vitSmallStudent(): PthDict {
  const d = 384;
  const sd: PthDict = {
    cls_token: tensor([1, 1, d]),
    pos_embed: tensor([1, 197, d]),
    masked_embed: tensor([1, d]),
    'patch_embed.proj.weight': tensor([d, 3, 16, 16]),
    'patch_embed.proj.bias': tensor([d]),
  };
  for (let b = 0; b < 12; b++) {
    const p = `blocks.${b}`;
    Object.assign(sd, {
      [`${p}.norm1.weight`]: tensor([d]), [`${p}.norm1.bias`]: tensor([d]),
      [`${p}.attn.qkv.weight`]: tensor([3 * d, d]), [`${p}.attn.qkv.bias`]: tensor([3 * d]),
      [`${p}.attn.proj.weight`]: tensor([d, d]), [`${p}.attn.proj.bias`]: tensor([d]),
      [`${p}.norm2.weight`]: tensor([d]), [`${p}.norm2.bias`]: tensor([d]),
      [`${p}.mlp.fc1.weight`]: tensor([4 * d, d]), [`${p}.mlp.fc1.bias`]: tensor([4 * d]),
      [`${p}.mlp.fc2.weight`]: tensor([d, 4 * d]), [`${p}.mlp.fc2.bias`]: tensor([d]),
    });
  }
  Object.assign(sd, {
    'norm.weight': tensor([d]), 'norm.bias': tensor([d]),
    'head.mlp.0.weight': tensor([2048, d]), 'head.mlp.0.bias': tensor([2048]),
    'head.mlp.2.weight': tensor([2048, 2048]), 'head.mlp.2.bias': tensor([2048]),
    'head.mlp.4.weight': tensor([256, 2048]), 'head.mlp.4.bias': tensor([256]),
    'head.last_layer.weight_g': tensor([8192, 1]), 'head.last_layer.weight_v': tensor([8192, 256]),
  });
  return sd;
}

function best(label: string, runs: number, fn: () => unknown): void {
  let ms = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    ms = Math.min(ms, Number(process.hrtime.bigint() - t) / 1e6);
  }
  console.log(`${label.padEnd(28)} ${ms.toFixed(1)} ms (best of ${runs})`);
}

const checkpoint = { student: vitSmallStudent(), epoch: 1 };
const file = writePth(checkpoint);
console.log(`checkpoint: ${(file.length / 1e6).toFixed(1)} MB, ${Object.keys(checkpoint.student).length} tensors`);
best('writePth', 5, () => writePth(checkpoint));
best('readPth (CRC checked)', 5, () => readPth(file));
best('readPth (verifyCrc: false)', 5, () => readPth(file, 'bench', { verifyCrc: false }));
