/**
 * Checkpoints move both ways between SERE.ts and PyTorch: a backbone saved here loads with
 * torch.load + load_state_dict(strict=True) into an independent PyTorch ViT (the benchmark
 * reference, bench/reference/sere_model.py) and computes the same tokens; a state dict saved
 * by torch.save loads into ours and computes the same tokens. Needs Debian's python3-torch.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as T from '@sere/torch';
import { vitConfig } from '../model/arch';
import { loadInto, loadStateDictFile, saveStateDict } from './checkpoint';
import { VisionTransformer } from '../model/vit';

const PY = process.env.SERE_TEST_PYTHON ?? '/usr/bin/python3';
const repo = path.resolve(__dirname, '../../../..');

const script = `
import sys, torch
sys.path.insert(0, ${JSON.stringify(path.join(repo, 'bench', 'reference'))})
from sere_model import VisionTransformer
d = sys.argv[1]
torch.manual_seed(0)
dims = (24, 2, 2)
x = torch.load(d + '/input.pth')['x']
# ours -> PyTorch
m = VisionTransformer(dims=dims, patch_size=8, img_size=32, use_mask=False, local_heads=True)
state = torch.load(d + '/ours.pth')
assert isinstance(state, dict), type(state)
m.load_state_dict(state, strict=True)
with torch.no_grad():
    ours_in_torch, _ = m(x)
# PyTorch -> ours
p = VisionTransformer(dims=dims, patch_size=8, img_size=32, use_mask=False, local_heads=True)
torch.save(p.state_dict(), d + '/torch_state.pth')
with torch.no_grad():
    torch_tokens, _ = p(x)
torch.save({'ours_in_torch': ours_in_torch, 'torch_tokens': torch_tokens}, d + '/out.pth')
`;

function runPython(dir: string): void {
  const r = spawnSync(PY, ['-c', script, dir], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${PY} with torch is required for this test (apt-get install python3-torch): ${r.error?.message ?? r.stderr}`);
  }
}

describe('PyTorch checkpoint interoperability', () => {
  const cfg = vitConfig({ name: 'mini', embedDim: 24, depth: 2, numHeads: 2, mlpRatio: 4 }, 8, { imgSize: 32, localHeads: true });

  it('round-trips a backbone through torch.load/torch.save with identical outputs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-ckpt-'));
    const before = T.liveTensors();
    T.scope(() => {
      T.manualSeed(3);
      const vit = VisionTransformer.create(cfg);
      const x = T.randn([2, 3, 32, 32]);
      T.writePthFile(path.join(dir, 'input.pth'), { x: T.toPthTensor(x) });
      saveStateDict(path.join(dir, 'ours.pth'), vit.params.stateDict());
      const ours = T.noGrad(() => vit.forward(x).tokens);

      runPython(dir);
      const out = loadStateDictFile(path.join(dir, 'out.pth'));
      const diff1 = out.get('ours_in_torch')!.sub(ours).abs().max().item();
      expect(diff1).toBeLessThan(1e-4);

      const theirs = VisionTransformer.create(cfg);
      loadInto(theirs.params, path.join(dir, 'torch_state.pth'), { strict: true });
      const tokens = T.noGrad(() => theirs.forward(x).tokens);
      const diff2 = out.get('torch_tokens')!.sub(tokens).abs().max().item();
      expect(diff2).toBeLessThan(1e-4);
      vit.dispose();
      theirs.dispose();
    });
    expect(T.liveTensors()).toBe(before);
  });

  it('names the file and the problem for truncated, foreign and mismatched files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-ckpt-'));
    T.scope(() => {
      const vit = VisionTransformer.create(cfg);
      const file = path.join(dir, 'good.pth');
      saveStateDict(file, vit.params.stateDict());
      const bytes = fs.readFileSync(file);
      fs.writeFileSync(path.join(dir, 'cut.pth'), bytes.subarray(0, bytes.length >> 1));
      expect(() => loadInto(vit.params, path.join(dir, 'cut.pth'))).toThrow(/cut\.pth/);
      fs.writeFileSync(path.join(dir, 'text.pth'), 'not a checkpoint');
      expect(() => loadInto(vit.params, path.join(dir, 'text.pth'))).toThrow(/text\.pth/);
      const other = VisionTransformer.create(vitConfig({ name: 'wide', embedDim: 32, depth: 2, numHeads: 2, mlpRatio: 4 }, 8, { imgSize: 32 }));
      expect(() => loadInto(vit.params, path.join(dir, 'good.pth'))).not.toThrow();
      const wide = path.join(dir, 'wide.pth');
      saveStateDict(wide, other.params.stateDict());
      expect(() => loadInto(vit.params, wide)).toThrow(/wide\.pth: 'cls_token' has shape \[1,1,32\] but the model expects \[1,1,24\]/);
      vit.dispose();
      other.dispose();
    });
  });
});
