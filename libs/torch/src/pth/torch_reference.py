"""PyTorch side of the pth interop specs (run with Debian's /usr/bin/python3 and its torch).

    torch_reference.py DIR

Reads what the TypeScript side left in DIR (ts_values.pth, ts_state_dict.pth), writes
checkpoints made by torch.save plus a JSON description of every file it loaded or saved, so the
spec compares exact bytes on the TypeScript side. Each job records its own error instead of
aborting, so one failure does not hide the others. Exit status 0 unless torch is unusable.
"""
import argparse
import base64
import json
import os
import struct
import sys
import traceback
import zipfile

import torch

DTYPE_NAMES = {
    torch.float32: 'float32', torch.float64: 'float64', torch.float16: 'float16',
    torch.bfloat16: 'bfloat16', torch.int64: 'int64', torch.int32: 'int32',
    torch.int16: 'int16', torch.int8: 'int8', torch.uint8: 'uint8', torch.bool: 'bool',
}


def describe(v):
    """Type-erased JSON form that the TypeScript side can build from a PthValue too."""
    if isinstance(v, torch.Tensor):
        t = v.detach().contiguous()
        raw = t.view(torch.int16) if t.dtype == torch.bfloat16 else t  # numpy has no bfloat16
        return {'tensor': DTYPE_NAMES[t.dtype], 'shape': list(t.shape),
                'b64': base64.b64encode(raw.numpy().tobytes()).decode(),
                'requires_grad': v.requires_grad}
    if isinstance(v, torch.device):
        return str(v)
    if isinstance(v, torch.dtype):
        return DTYPE_NAMES[v]
    if isinstance(v, argparse.Namespace):
        v = vars(v)
    if isinstance(v, dict):
        return {'dict': [[describe(k), describe(x)] for k, x in v.items()]}
    if isinstance(v, (list, tuple, set, frozenset)):
        return {'list': [describe(x) for x in v]}
    if isinstance(v, bytes):
        return {'bytes': base64.b64encode(v).decode()}
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return {'int': str(v)}
    if isinstance(v, float):
        if v.is_integer() and abs(v) <= 2 ** 53:
            return {'int': str(int(v))}  # JS numbers do not keep int and float apart
        return {'float': struct.pack('<d', v).hex()}
    raise TypeError(f'cannot describe {type(v)}')


class Tiny(torch.nn.Module):
    """The module the TypeScript state dict must load into with strict=True."""

    def __init__(self):
        super().__init__()
        self.pos_embed = torch.nn.Parameter(torch.zeros(1, 3, 4))
        self.proj = torch.nn.Linear(4, 5)
        self.norm = torch.nn.LayerNorm(5)
        self.register_buffer('centre', torch.zeros(1, 5))


def reference_values():
    """Everything the Python-saved checkpoints hold; seeded, so every run is identical."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    student, teacher = Tiny(), Tiny()
    teacher.load_state_dict(student.state_dict())
    opt = torch.optim.AdamW(student.parameters(), lr=1e-3)
    loss = student.proj(torch.randn(2, 4, generator=g)).sum() + student.pos_embed.sum()
    loss.backward()
    opt.step()
    args = argparse.Namespace(
        arch='vit_small', patch_size=16, out_dim=8192, norm_last_layer=False,
        momentum_teacher=0.996, use_fp16=True, lr=0.0005, weight_decay=0.04,
        global_crops_scale=(0.14, 1.0), local_crops_number=10, pred_ratio=[0.0, 0.3],
        data_path='/data/imagenet/train', seed=0, saveckp_freq=None, teacher_temp=0.07)
    ibot_loss = torch.nn.Module()
    ibot_loss.register_buffer('center', torch.randn(1, 8, generator=g))
    ibot_loss.register_buffer('center2', torch.randn(1, 1, 8, generator=g))
    checkpoint = {
        'student': student.state_dict(), 'teacher': teacher.state_dict(),
        'optimizer': opt.state_dict(), 'epoch': 7, 'args': args,
        'ibot_loss': ibot_loss.state_dict(),
        'fp16_scaler': {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5,
                        'growth_interval': 2000, '_growth_tracker': 0},
    }
    misc = {
        'ints': [0, 1, -1, 255, 256, 65535, 65536, -2 ** 31, 2 ** 31, 2 ** 53, -2 ** 63, 2 ** 100],
        'floats': [0.5, -0.0, 1e-300, 3.14159, float('inf'), float('-inf'), 2.0],
        'strings': ['', 'ascii', 'ünïcødé ✓', 'x' * 300],
        'none': None, 'bools': (True, False), 'nested': {'a': [1, (2, 3)], 'b': {}},
        'int_keys': {3: 'three', 1: 'one'}, 'index_like_keys': {'10': 'ten', '2': 'two'},
        'bytes': b'\x00\xffraw', 'set': {7}, 'size': torch.Size([2, 3]),
        'device': torch.device('cpu'), 'dtype': torch.bfloat16,
    }
    x = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    views = {
        'x': x, 'transposed': x.t(), 'tail': x[1:], 'columns': x[:, 1::2],
        'expanded': torch.arange(3.).expand(4, 3), 'permuted': torch.arange(120).reshape(2, 3, 4, 5).permute(3, 1, 0, 2),
        'scalar_view': x[2, 3], 'empty_view': x[4:], 'row': x[2],
        'half_t': torch.randn(3, 5, generator=g).half().t(),
        'bf16_tail': torch.randn(6, generator=g).bfloat16()[2:],
    }
    floats16 = {
        'half': torch.tensor([1.0, -2.5, 65504.0, 6e-8, float('inf'), float('nan')], dtype=torch.float16),
        'bf16': torch.tensor([1.0, -2.5, 3e38, 1e-38, float('-inf')], dtype=torch.bfloat16),
        'param': torch.nn.Parameter(torch.randn(2, 2, generator=g)),
    }
    return {
        'state_dict': student.state_dict(), 'checkpoint': checkpoint, 'misc': misc,
        'views': views, 'floats16': floats16,
    }


class Evil:
    """Pickles as a call to os.system; torch.load would run it, readPth must not."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def run(out_dir):
    report = {'errors': {}}

    def job(name, fn):
        try:
            fn()
        except Exception:  # recorded for the spec to show
            report['errors'][name] = traceback.format_exc()

    def dump(name, value):
        with open(os.path.join(out_dir, name), 'w') as f:
            json.dump(describe(value), f)

    def read_ts_values():
        dump('py_view_of_ts_values.json', torch.load(os.path.join(out_dir, 'ts_values.pth')))
        loaded = torch.load(os.path.join(out_dir, 'ts_values.pth'))
        report['ts_values_types'] = {k: type(v).__name__ for k, v in loaded.items()}
        tied = loaded['tied']
        report['ts_tied_shares_storage'] = tied['a'].storage().data_ptr() == tied['b'].storage().data_ptr()
        # Re-saved by torch for the TS -> Python -> TS round trip.
        torch.save(torch.load(os.path.join(out_dir, 'ts_values.pth')), os.path.join(out_dir, 'py_resaved.pth'))

    def load_ts_state_dict():
        path = os.path.join(out_dir, 'ts_state_dict.pth')
        sd = torch.load(path)
        report['ts_state_dict_type'] = type(sd).__module__ + '.' + type(sd).__name__
        model = Tiny()
        model.load_state_dict(sd, strict=True)
        dump('py_view_of_ts_state_dict.json', model.state_dict())
        torch.load(path, weights_only=True)  # only safe globals: rebuild, storages, OrderedDict
        report['ts_state_dict_weights_only'] = True

    def save_references():
        values = reference_values()
        for name, value in values.items():
            torch.save(value, os.path.join(out_dir, f'py_{name}.pth'))
            dump(f'py_{name}.json', value)
        torch.save(values['checkpoint'], os.path.join(out_dir, 'py_checkpoint_proto4.pth'), pickle_protocol=4)
        torch.save(values['misc'], os.path.join(out_dir, 'py_misc_proto5.pth'), pickle_protocol=5)
        with zipfile.ZipFile(os.path.join(out_dir, 'py_state_dict.pth')) as src, \
                zipfile.ZipFile(os.path.join(out_dir, 'py_state_dict_deflated.pth'), 'w', zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info.filename))

    def save_bad_files():
        marker = os.path.join(out_dir, 'executed.marker')
        torch.save({'weights': torch.ones(2), 'payload': Evil(marker)}, os.path.join(out_dir, 'bad_system.pth'))
        torch.save({'w': torch.ones(2)}, os.path.join(out_dir, 'bad_legacy.pth'), _use_new_zipfile_serialization=False)
        torch.save(torch.nn.Linear(2, 2), os.path.join(out_dir, 'bad_module.pth'))
        with zipfile.ZipFile(os.path.join(out_dir, 'bad_no_pkl.pth'), 'w') as z:
            z.writestr('archive/version', '3\n')
            z.writestr('archive/data/0', b'\0' * 8)

    job('read_ts_values', read_ts_values)
    job('load_ts_state_dict', load_ts_state_dict)
    job('save_references', save_references)
    job('save_bad_files', save_bad_files)
    report['torch_version'] = torch.__version__
    with open(os.path.join(out_dir, 'report.json'), 'w') as f:
        json.dump(report, f, indent=1)


if __name__ == '__main__':
    run(sys.argv[1])
