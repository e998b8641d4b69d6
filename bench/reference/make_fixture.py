# Copyright the SERE.ts authors. Licensed under the Apache License, Version 2.0.
"""Writes a full_step.json fixture (the schema of test/fixtures/reference/full_step.json) with
this harness: one training iteration of a small student/teacher at a configuration of one's
choice, e.g. the ViT-B/16 recipe's head (norm_last_layer true: the weight-norm gain is frozen
at 1, has no gradient, and is still EMA-averaged into the teacher).

  /usr/bin/python3 bench/reference/make_fixture.py --out test/fixtures/norm-last-layer/full_step.json

Values are float32 on the CPU with drop-path 0, modules in training mode. Weights are drawn
from the seed so that each one matters (not the usual initialisation): matrices N(0, 1/fan_in),
biases N(0, 0.1^2), 1-D scales 1 + N(0, 0.2^2), tokens and positions N(0, 0.3^2), weight_g
U(0.6, 1.4) or exactly 1 where norm_last_layer; the teacher is the student plus N(0, 0.05^2).
Re-running with the same flags on the same torch writes the same file.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

from sere_inputs import LOCAL_GLOBAL_GRID, synthetic_batch
from sere_losses import IBOTLoss, SERELoss
from sere_model import CHANNEL_DIVISOR_GLOBAL, CHANNEL_DIVISOR_LOCAL
from sere_step import (bool_flag, build_networks, cancel_gradients_last_layer, clip_gradients,
                       ema_pairs, ema_update, forward_losses, param_groups)

# Parameters whose optimiser step is recorded (present whatever the configuration).
STEP_NAMES = [
    'backbone.patch_embed.proj.weight', 'backbone.pos_embed', 'backbone.cls_token',
    'backbone.masked_embed', 'backbone.blocks.0.attn.qkv.weight', 'backbone.blocks.0.norm2.weight',
    'backbone.blocks.1.mlp.fc2.bias', 'backbone.norm.weight', 'backbone.pixel_sere.projection.0.bias',
    'backbone.channel_sere_local.predictor.0.weight', 'head.mlp.2.weight', 'head.mlp.4.bias',
    'head.last_layer.weight_v', 'head.last_layer.weight_g',
]
PRIOR_ADAM_STEP = 7


def encode(t):
    """A tensor as {dtype, shape, data}; float32 values in their shortest round-trip form."""
    t = t.detach().cpu()
    if t.dtype == torch.bool:
        return {'dtype': 'bool', 'shape': list(t.shape), 'data': t.tolist()}
    if t.dtype == torch.int64:
        return {'dtype': 'int64', 'shape': list(t.shape), 'data': t.tolist()}
    flat = [float(str(v)) for v in t.float().numpy().ravel()]

    def nest(values, shape):
        if not shape:
            return values[0]
        step = len(values) // shape[0] if shape[0] else 0
        return [nest(values[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]
    return {'dtype': 'float32', 'shape': list(t.shape), 'data': nest(flat, list(t.shape))}


def scalar(t):
    return float(str(np.float32(t.item())))


def redraw(student, teacher, norm_last_layer, gen):
    """Seeded weights in which every parameter influences the outputs."""
    def normal(shape, std):
        return torch.randn(shape, generator=gen) * std
    with torch.no_grad():
        for name, p in student.named_parameters():
            if name.endswith('weight_g'):
                value = torch.ones(p.shape) if norm_last_layer else torch.rand(p.shape, generator=gen) * 0.8 + 0.6
            elif name.split('.')[-1] in ('cls_token', 'pos_embed', 'masked_embed'):
                value = normal(p.shape, 0.3)
            elif name.endswith('bias'):
                value = normal(p.shape, 0.1)
            elif p.ndim >= 2:
                value = normal(p.shape, 1.0 / math.sqrt(p[0].numel()))
            else:
                value = 1.0 + normal(p.shape, 0.2)
            p.copy_(value)
        for name, b in student.named_buffers():
            if name.endswith('running_mean'):
                b.copy_(normal(b.shape, 0.1))
            elif name.endswith('running_var'):
                b.copy_(torch.rand(b.shape, generator=gen) + 0.5)
        state = teacher.state_dict()
        teacher.load_state_dict({k: v for k, v in student.state_dict().items() if k in state})
        for p in teacher.parameters():
            p.add_(normal(p.shape, 0.05))  # as after some EMA steps: close to the student, not equal


def state(module):
    return {k: encode(v) for k, v in module.state_dict().items() if not k.endswith('num_batches_tracked')}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', required=True, help='path of the full_step.json to write')
    p.add_argument('--seed', type=int, default=11)
    p.add_argument('--patch_size', type=int, default=4)
    p.add_argument('--embed_dim', type=int, default=16)
    p.add_argument('--depth', type=int, default=2)
    p.add_argument('--num_heads', type=int, default=2)
    p.add_argument('--img_size', type=int, default=16)
    p.add_argument('--local_size', type=int, default=8)
    p.add_argument('--batch_size', type=int, default=3)
    p.add_argument('--local_crops_number', type=int, default=4)
    p.add_argument('--out_dim', type=int, default=24)
    p.add_argument('--hidden_dim', type=int, default=24)
    p.add_argument('--bottleneck_dim', type=int, default=12)
    p.add_argument('--overlap_size', type=int, nargs=2, default=[4, 3])
    p.add_argument('--norm_last_layer', type=bool_flag, default=True, help='ViT-B recipe true')
    p.add_argument('--epoch', type=int, default=3)
    p.add_argument('--freeze_last_layer', type=int, default=3, help='ViT-B recipe 3')
    p.add_argument('--nepochs', type=int, default=100)
    p.add_argument('--warmup_teacher_temp_epochs', type=int, default=50, help='ViT-B recipe 50')
    p.add_argument('--lr', type=float, default=0.002)
    p.add_argument('--weight_decay', type=float, default=0.07)
    p.add_argument('--clip_grad', type=float, default=0.3)
    p.add_argument('--teacher_momentum', type=float, default=0.9971)
    p.add_argument('--alpha', type=float, default=0.2)
    p.add_argument('--beta', type=float, default=0.5)
    args = p.parse_args(argv)
    if args.local_crops_number in (1, 2):
        # The reference then runs the local crops through the global SERE heads (spec §9.1), a
        # quirk SERE.ts reproduces only with --compat_local_heads: such a fixture would not compare.
        p.error('--local_crops_number must be 0 or more than 2')
    return args


def main(argv):
    a = parse_args(argv)
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)  # one summation order, so a re-run writes the same file
    gen = torch.Generator().manual_seed(a.seed)
    L, B = a.local_crops_number, a.batch_size
    ib = {'warmup_teacher_temp': 0.04, 'teacher_temp': 0.07, 'warmup_teacher_patch_temp': 0.04,
          'teacher_patch_temp': 0.07, 'warmup_teacher_temp_epochs': a.warmup_teacher_temp_epochs,
          'nepochs': a.nepochs, 'student_temp': 0.1, 'center_momentum': 0.9, 'center_momentum2': 0.9,
          'lambda1': 1.0, 'lambda2': 1.0, 'mim_start_epoch': 0}
    student, teacher = build_networks(
        (a.embed_dim, a.depth, a.num_heads), a.patch_size, a.img_size, L, a.out_dim,
        hidden_dim=a.hidden_dim, bottleneck_dim=a.bottleneck_dim, shared_head=True,
        norm_last_layer=a.norm_last_layer, drop_path=0.0)
    redraw(student, teacher, a.norm_last_layer, gen)
    student_weights, teacher_weights = state(student), state(teacher)

    batch = synthetic_batch(B, L, a.img_size, a.local_size, a.patch_size, a.overlap_size,
                            (0.32, 1.0), (0.05, 0.32), a.seed, 'cpu')
    ibot_loss = IBOTLoss(a.out_dim, a.out_dim, L, ib['warmup_teacher_temp'], ib['teacher_temp'],
                         ib['warmup_teacher_patch_temp'], ib['teacher_patch_temp'],
                         ib['warmup_teacher_temp_epochs'], ib['nepochs'], ib['student_temp'],
                         ib['center_momentum'], ib['center_momentum2'], ib['lambda1'], ib['lambda2'],
                         ib['mim_start_epoch'])
    with torch.no_grad():
        ibot_loss.center.copy_(torch.randn(ibot_loss.center.shape, generator=gen) * 0.1)
        ibot_loss.center2.copy_(torch.randn(ibot_loss.center2.shape, generator=gen) * 0.1)
    center_before, center2_before = encode(ibot_loss.center), encode(ibot_loss.center2)
    out = forward_losses(student, teacher, ibot_loss, SERELoss(L), batch, a.epoch, a.alpha, a.beta)

    out['total'].backward()
    params = dict(student.named_parameters())
    grads = {n: encode(p.grad) for n, p in params.items() if p.grad is not None}
    names = [n for n in STEP_NAMES if n in params]  # no *_local heads without local crops
    without_grad = [n for n, p in params.items() if p.grad is None]
    # The optimiser's own groups, by name, so that the fixture cannot list other ones.
    name_of = {id(p): n for n, p in params.items()}
    regularized, not_regularized = param_groups(student)
    groups = {'regularized': [name_of[id(p)] for p in regularized['params']],
              'not_regularized': [name_of[id(p)] for p in not_regularized['params']]}

    teacher_params = dict(teacher.named_parameters())
    before = {n: params[n].detach().clone() for n in names}
    teacher_before = {n: teacher_params[n].detach().clone() for n in names if n in teacher_params}
    grad_before = {n: params[n].grad.clone() for n in names if params[n].grad is not None}
    clip_gradients(student, a.clip_grad)
    grad_after = {n: params[n].grad.clone() for n in grad_before}
    had_grad = {n for n, p in params.items() if p.grad is not None}
    cancel_gradients_last_layer(a.epoch, student, a.freeze_last_layer)
    cancelled = [n for n in params if n in had_grad and params[n].grad is None]

    optimizer = torch.optim.AdamW(param_groups(student), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    optimizer.param_groups[0]['weight_decay'] = a.weight_decay
    optimizer.param_groups[1]['weight_decay'] = 0.0
    prior = {}
    for n in names:
        if n in grad_before:
            prior[n] = {'step': PRIOR_ADAM_STEP,
                        'exp_avg': torch.randn(params[n].shape, generator=gen) * 0.01,
                        'exp_avg_sq': (torch.randn(params[n].shape, generator=gen) * 0.01) ** 2}
            optimizer.state[params[n]] = {'step': torch.tensor(float(PRIOR_ADAM_STEP)),
                                          'exp_avg': prior[n]['exp_avg'].clone(),
                                          'exp_avg_sq': prior[n]['exp_avg_sq'].clone()}
    optimizer.step()
    ema_update(ema_pairs(student, teacher), a.teacher_momentum)

    step = {}
    for n in names:
        entry = {'requires_grad': params[n].requires_grad, 'param_before': encode(before[n]),
                 'param_after': encode(params[n])}
        if n in grad_before:  # a frozen parameter has no gradient, group or optimiser state
            g = grad_before[n]
            entry.update({
                'group': 'regularized' if n in groups['regularized'] else 'not_regularized',
                'grad_before_clip': encode(g), 'grad_norm_before_clip': float(g.norm(2)),
                'grad_after_clip': encode(grad_after[n]),
                'grad_cancelled': n in cancelled,
                'adam_state_before': {'step': PRIOR_ADAM_STEP, 'exp_avg': encode(prior[n]['exp_avg']),
                                      'exp_avg_sq': encode(prior[n]['exp_avg_sq'])}})
        if n in teacher_before:
            entry['teacher_before'] = encode(teacher_before[n])
            entry['teacher_after'] = encode(teacher_params[n])
        step[n] = entry

    fx = {
        'description': 'One SERE training iteration of the PyTorch harness in bench/reference '
                       '(make_fixture.py), float32 on the CPU, drop-path 0, world size 1.',
        'generator': 'bench/reference/make_fixture.py ' + ' '.join(argv),
        'torch': torch.__version__,
        'config': {
            'vit': {'patch_size': a.patch_size, 'embed_dim': a.embed_dim, 'depth': a.depth,
                    'num_heads': a.num_heads, 'mlp_ratio': 4.0, 'qkv_bias': True, 'qk_scale': None,
                    'img_size': a.img_size, 'local_size': a.local_size, 'layernorm_eps': 1e-6,
                    'batchnorm_eps': 1e-5, 'batchnorm_mode': 'train (batch statistics, biased variance)',
                    'drop_rate': 0.0, 'attn_drop_rate': 0.0, 'drop_path_rate': 0.0, 'gelu': 'exact (erf)',
                    'channel_sere_size_global': CHANNEL_DIVISOR_GLOBAL,
                    'channel_sere_size_local': CHANNEL_DIVISOR_LOCAL,
                    'grid_global': a.img_size // a.patch_size, 'grid_local': a.local_size // a.patch_size},
            'head': {'out_dim': a.out_dim, 'patch_out_dim': a.out_dim, 'hidden_dim': a.hidden_dim,
                     'bottleneck_dim': a.bottleneck_dim, 'nlayers': 3, 'act': 'gelu', 'norm': None,
                     'shared_head': True, 'shared_head_teacher': True,
                     'student_norm_last_layer': a.norm_last_layer, 'teacher_norm_last_layer': True},
            'batch_size': B, 'global_crops_number': 2, 'local_crops_number': L,
            'overlap_size': a.overlap_size, 'local_global_grid_size': LOCAL_GLOBAL_GRID,
            'epoch': a.epoch, 'it': a.epoch * 1251, 'ibot': ib,
            'sere': {'alpha': a.alpha, 'beta': a.beta, 'temperature_pixel': 0.5, 'temperature_channel': 0.1},
            'mask_generator': {'pred_ratio': [0.0, 0.3], 'pred_ratio_var': [0.0, 0.2], 'pred_shape': 'block',
                               'pred_aspect_ratio': [0.3, 1 / 0.3]},
            'optimizer': {'type': 'AdamW', 'betas': [0.9, 0.999], 'eps': 1e-8, 'lr': a.lr,
                          'weight_decay_group0': a.weight_decay, 'weight_decay_group1': 0.0,
                          'clip_grad': a.clip_grad, 'clip_mode': 'per-parameter L2 norm',
                          'freeze_last_layer': a.freeze_last_layer, 'prior_adam_step': PRIOR_ADAM_STEP},
            'teacher_momentum': a.teacher_momentum,
        },
        'student_weights': student_weights,
        'teacher_weights': teacher_weights,
        'inputs': {
            **{k: [encode(t) for t in batch[k]] for k in
               ('global_crops', 'local_crops', 'masks', 'grid1', 'grid2', 'grid_local', 'grid_global')},
            'crop_rects': batch['crop_rects'], 'center_before': center_before, 'center2_before': center2_before,
        },
        'outputs': {
            'total_loss': scalar(out['total']), 'ibot_loss': scalar(out['ibot']),
            'ibot_cls': scalar(out['ibot_cls']), 'ibot_patch': scalar(out['ibot_patch']),
            'sere_pixel': scalar(out['sere_pixel']), 'sere_channel': scalar(out['sere_channel']),
            'loss_weights': {'ibot': (4 - a.alpha - a.beta) / 2, 'pixel': a.alpha, 'channel': a.beta},
            'teacher_cls': encode(out['teacher_cls']), 'student_cls': encode(out['student_cls']),
            'student_local_cls': encode(out['student_local_cls']) if out['student_local_cls'] is not None else None,
            'center_after': encode(ibot_loss.center), 'center2_after': encode(ibot_loss.center2),
        },
        'grads': grads,
        'params_without_grad': without_grad,
        'param_groups': groups,
        'last_layer_grads_cancelled': cancelled,
        'step': step,
        'fixture_set': 'norm-last-layer' if a.norm_last_layer else 'harness',
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, 'w') as f:
        json.dump(fx, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %s (%d bytes): total loss %.6f, %d gradients, %d step entries, without gradient %s'
          % (a.out, os.path.getsize(a.out), fx['outputs']['total_loss'], len(grads), len(step), without_grad))


if __name__ == '__main__':
    main(sys.argv[1:])
