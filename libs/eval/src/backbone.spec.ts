import * as path from 'node:path';
import { VisionTransformer, vitConfig, archByName } from '@sere/sere';
import * as T from '@sere/torch';
import { loadTeacherBackbone } from './backbone';
import { tempDir } from './testing/python';

describe('teacher backbone from a checkpoint', () => {
  it('loads the teacher entry and refuses a checkpoint without backbone weights', () => {
    const before = T.liveTensors();
    const { dir, remove } = tempDir('sere-eval-backbone-');
    T.manualSeed(4);
    const source = VisionTransformer.create(vitConfig(archByName('vit_tiny'), 16));
    try {
      const teacher: Record<string, T.PthTensor> = {};
      for (const [name, t] of source.params.stateDict()) teacher[`backbone.${name}`] = T.toPthTensor(t);
      const file = path.join(dir, 'checkpoint.pth');
      T.writePthFile(file, { teacher, student: {} });

      const vit = loadTeacherBackbone(file, { arch: 'vit_tiny', patchSize: 16 });
      try {
        for (const name of ['cls_token', 'pos_embed', 'blocks.11.mlp.fc2.weight', 'norm.bias']) {
          expect(Array.from(vit.params.get(name).toFloat32Array())).toEqual(Array.from(source.params.get(name).toFloat32Array()));
        }
      } finally {
        vit.dispose();
      }
      expect(() => loadTeacherBackbone(file, { arch: 'vit_tiny', patchSize: 16, prefix: 'module.backbone.' })).toThrow(
        /entry 'teacher' with prefix 'module.backbone.' lacks backbone weight 'module.backbone.cls_token' and \d+ more/,
      );
      expect(() => loadTeacherBackbone(file, { arch: 'vit_small', patchSize: 16 })).toThrow(/'cls_token' has shape \[1,1,192\] but the model expects \[1,1,384\]/);
      expect(() => loadTeacherBackbone(file, { arch: 'vit_tiny', patchSize: 16, key: 'ema' })).toThrow(/no 'ema' entry/);
    } finally {
      source.dispose();
      remove();
    }
    expect(T.liveTensors()).toBe(before);
  });
});
