# Copyright the SERE.ts authors. Licensed under the Apache License, Version 2.0.
"""Checks that the benchmark's step computes what the reference computes.

Loads the golden full-step fixture, puts its weights into the modules of sere_step.py, runs the
forward pass, losses and backward in float32 with drop-path 0, and compares losses, outputs,
centres, every parameter gradient, the grids rebuilt from the crop rectangles, and the
clipping / AdamW / EMA entries, with the fixture README's tolerances. Exit status 1 on failure.

  /usr/bin/python3 bench/reference/check_fixture.py [--fixture PATH] [--device cuda]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

from sere_inputs import overlap_grids
from sere_losses import IBOTLoss, SERELoss
from sere_step import (build_networks, cancel_gradients_last_layer, clip_gradients, ema_pairs,
                       ema_update, forward_losses, param_groups)

DEFAULT_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               '..', '..', 'test', 'fixtures', 'reference', 'full_step.json')
DTYPES = {'float32': torch.float32, 'float64': torch.float64, 'bool': torch.bool, 'int64': torch.int64}


def to_tensor(obj):
    if obj is None:
        return None
    if isinstance(obj, list):
        return [to_tensor(o) for o in obj]
    if isinstance(obj, dict) and 'dtype' in obj:
        t = torch.tensor(obj['data'], dtype=DTYPES[obj['dtype']])
        if list(t.shape) != obj['shape']:
            raise ValueError('fixture tensor has shape %s, header says %s' % (list(t.shape), obj['shape']))
        return t
    return torch.tensor(obj, dtype=torch.float32)


class Report:
    """Collects checks; each records the largest deviation against its bound."""

    def __init__(self):
        self.rows, self.failed = [], []

    def add(self, name, deviation, bound):
        ok = bool(deviation <= bound)
        self.rows.append((name, deviation, bound, ok))
        if not ok:
            self.failed.append(name)

    def scalar(self, name, got, want):
        got, want = float(got), float(want)
        self.add(name, abs(got - want), max(1e-5 * abs(want), 1e-4))

    def elementwise(self, name, got, want, atol=1e-4, rtol=1e-4):
        """|a-b| <= atol + rtol*|b|, reported as the worst ratio of deviation to its bound."""
        got, want = got.detach().cpu().double(), want.double()
        ratio = ((got - want).abs() / (atol + rtol * want.abs())).max().item()
        self.add(name + ' (dev/bound)', ratio, 1.0)

    def absolute(self, name, got, want, atol):
        self.add(name, (got.detach().cpu().double() - want.double()).abs().max().item(), atol)

    def per_tensor(self, name, got, want):
        """Gradients span five orders of magnitude: bound by the tensor's own scale."""
        got, want = got.detach().cpu().double(), want.double()
        self.add(name, (got - want).abs().max().item(), 1e-4 * want.abs().max().item() + 1e-7)


def build(cfg):
    vit, head = cfg['vit'], cfg['head']
    if (vit['channel_sere_size_global'], vit['channel_sere_size_local']) != (14, 6):
        raise SystemExit('check_fixture: channel divisors %s/%s differ from the hard-coded 14/6'
                         % (vit['channel_sere_size_global'], vit['channel_sere_size_local']))
    dims = (vit['embed_dim'], vit['depth'], vit['num_heads'])
    student, teacher = build_networks(
        dims, vit['patch_size'], vit['img_size'], cfg['local_crops_number'], head['out_dim'],
        hidden_dim=head['hidden_dim'], bottleneck_dim=head['bottleneck_dim'],
        shared_head=head['shared_head'], norm_last_layer=head['student_norm_last_layer'], drop_path=0.0)
    return student, teacher


def load_weights(module, weights, what):
    state = {k: to_tensor(v) for k, v in weights.items()}
    missing, unexpected = module.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith('num_batches_tracked')]
    if missing or unexpected:
        raise SystemExit('check_fixture: %s weights do not fit the model: missing %s, unexpected %s'
                         % (what, missing, unexpected))


def check_grids(report, inputs, overlap_size, n_local, grid_size):
    worst = 0.0
    rects = inputs['crop_rects']
    expected = {'grid1': to_tensor(inputs['grid1']), 'grid2': to_tensor(inputs['grid2']),
                'grid_local': to_tensor(inputs['grid_local']), 'grid_global': to_tensor(inputs['grid_global'])}
    for b, r in enumerate(rects):
        glob = [r['global1'], r['global2']]
        for key, size in (('grid1', overlap_size[0]), ('grid2', overlap_size[1])):
            pair = overlap_grids(glob[0], glob[1], size)
            for q in range(2):
                worst = max(worst, np.abs(pair[q] - expected[key][q][b].numpy()).max())
        for q in range(2):
            for v in range(n_local):
                loc, glo = overlap_grids(r['locals'][v], glob[q], grid_size)
                k = q * n_local + v
                worst = max(worst, np.abs(loc - expected['grid_local'][k][b].numpy()).max(),
                            np.abs(glo - expected['grid_global'][k][b].numpy()).max())
    report.add('grids from crop rectangles', float(worst), 1e-6)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--fixture', default=DEFAULT_FIXTURE, help='path of full_step.json')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:n]; float32 either way')
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise SystemExit('check_fixture: --device %s requested but CUDA is not available' % args.device)
        # TF32 would round float32 products to 10-bit mantissas, far outside the fixture's bounds.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    try:
        with open(args.fixture) as f:
            fx = json.load(f)
    except (OSError, ValueError) as err:
        raise SystemExit('check_fixture: cannot read --fixture %s: %s' % (args.fixture, err))
    torch.manual_seed(0)
    cfg, inputs, outputs = fx['config'], fx['inputs'], fx['outputs']
    n_local, ib, sere, opt = cfg['local_crops_number'], cfg['ibot'], cfg['sere'], cfg['optimizer']
    report = Report()

    student, teacher = build(cfg)
    load_weights(student, fx['student_weights'], 'student')
    load_weights(teacher, fx['teacher_weights'], 'teacher')
    student.to(device)
    teacher.to(device)
    ibot_loss = IBOTLoss(cfg['head']['out_dim'], cfg['head']['patch_out_dim'], n_local,
                         ib['warmup_teacher_temp'], ib['teacher_temp'], ib['warmup_teacher_patch_temp'],
                         ib['teacher_patch_temp'], ib['warmup_teacher_temp_epochs'], ib['nepochs'],
                         ib['student_temp'], ib['center_momentum'], ib['center_momentum2'],
                         ib['lambda1'], ib['lambda2'], ib['mim_start_epoch']).to(device)
    ibot_loss.center.copy_(to_tensor(inputs['center_before']).to(device))
    ibot_loss.center2.copy_(to_tensor(inputs['center2_before']).to(device))
    sere_loss = SERELoss(n_local, sere['temperature_pixel'], sere['temperature_channel'])
    check_grids(report, inputs, cfg['overlap_size'], n_local, cfg['local_global_grid_size'])

    # ---- forward + losses ----
    batch = {key: [t.to(device) for t in to_tensor(inputs[key]) or []] for key in
             ('global_crops', 'local_crops', 'masks', 'grid1', 'grid2', 'grid_local', 'grid_global')}
    out = forward_losses(student, teacher, ibot_loss, sere_loss, batch, cfg['epoch'],
                         sere['alpha'], sere['beta'])
    for mine, theirs in (('total', 'total_loss'), ('ibot', 'ibot_loss'), ('ibot_cls', 'ibot_cls'),
                         ('ibot_patch', 'ibot_patch'), ('sere_pixel', 'sere_pixel'),
                         ('sere_channel', 'sere_channel')):
        report.scalar('loss ' + theirs, out[mine].item(), outputs[theirs])
    for key in ('teacher_cls', 'student_cls', 'student_local_cls'):
        if outputs.get(key) is not None:
            report.elementwise(key, out[key], to_tensor(outputs[key]))
    report.elementwise('center_after', ibot_loss.center, to_tensor(outputs['center_after']))
    report.elementwise('center2_after', ibot_loss.center2, to_tensor(outputs['center2_after']))

    # ---- gradients of every trainable student parameter ----
    out['total'].backward()
    params = dict(student.named_parameters())
    trainable = {n for n, p in params.items() if p.requires_grad}
    if trainable != set(fx['grads']):
        report.add('gradient name set (symmetric difference size)', len(trainable ^ set(fx['grads'])), 0)
    worst_rel, worst_name = 0.0, ''
    for name, want in fx['grads'].items():
        want = to_tensor(want)
        got = params[name].grad if name in params else None
        if got is None:
            report.add('grad ' + name + ' (missing)', 1.0, 0.0)
            continue
        report.per_tensor('grad ' + name, got, want)
        rel = ((got.cpu().double() - want.double()).abs().max() / want.abs().max().clamp(min=1e-30)).item()
        if rel >= worst_rel:
            worst_rel, worst_name = rel, name
    grad_before_clip = {n: p.grad.clone() for n, p in params.items() if p.grad is not None}

    # ---- clipping, last-layer freeze, AdamW, EMA (the step's real functions) ----
    clip_gradients(student, opt['clip_grad'])
    cancel_gradients_last_layer(cfg['epoch'], student, opt['freeze_last_layer'])
    optimizer = torch.optim.AdamW(param_groups(student), lr=opt['lr'], betas=tuple(opt['betas']),
                                  eps=opt['eps'])
    optimizer.param_groups[0]['weight_decay'] = opt['weight_decay_group0']
    optimizer.param_groups[1]['weight_decay'] = opt['weight_decay_group1']
    groups = {id(p): g for g, group in zip(('regularized', 'not_regularized'), optimizer.param_groups)
              for p in group['params']}
    for name in fx['param_groups']['regularized'] + fx['param_groups']['not_regularized']:
        want_group = 'regularized' if name in fx['param_groups']['regularized'] else 'not_regularized'
        if groups.get(id(params[name])) != want_group:
            report.add('param group of ' + name, 1.0, 0.0)
    for name, st in fx['step'].items():
        p = params[name]
        report.absolute('step %s param_before' % name, p, to_tensor(st['param_before']), 0.0)
        if not st.get('requires_grad', st.get('grad_before_clip') is not None):
            # Frozen (norm_last_layer's weight_g): no gradient, no group, no optimiser state.
            report.add('step %s frozen' % name, 0.0 if not p.requires_grad and p.grad is None else 1.0, 0.0)
            continue
        report.per_tensor('step %s grad_before_clip' % name, grad_before_clip[name],
                          to_tensor(st['grad_before_clip']))
        report.scalar('step %s grad_norm_before_clip' % name, grad_before_clip[name].norm(2),
                      st['grad_norm_before_clip'])
        if st['grad_cancelled']:
            report.add('step %s grad cancelled' % name, 0.0 if p.grad is None else 1.0, 0.0)
        else:
            report.per_tensor('step %s grad_after_clip' % name, p.grad, to_tensor(st['grad_after_clip']))
        adam = st['adam_state_before']
        optimizer.state[p] = {'step': torch.tensor(float(adam['step'])),
                              'exp_avg': to_tensor(adam['exp_avg']).to(device),
                              'exp_avg_sq': to_tensor(adam['exp_avg_sq']).to(device)}
    optimizer.step()
    ema_update(ema_pairs(student, teacher), cfg['teacher_momentum'])
    teacher_params = dict(teacher.named_parameters())
    for name, st in fx['step'].items():
        report.absolute('step %s param_after' % name, params[name], to_tensor(st['param_after']), 1e-6)
        if 'teacher_after' in st:
            report.absolute('step %s teacher_after' % name, teacher_params[name],
                            to_tensor(st['teacher_after']), 1e-6)

    # ---- report ----
    width = max(len(r[0]) for r in report.rows)
    for name, dev, bound, ok in report.rows:
        if not ok or not name.startswith(('grad ', 'step ')):
            print('%-*s  %.3e  (bound %.1e)  %s' % (width, name, dev, bound, 'ok' if ok else 'FAIL'))
    grad_rows = [r for r in report.rows if r[0].startswith('grad ')]
    step_rows = [r for r in report.rows if r[0].startswith('step ')]
    print('parameter gradients: %d tensors, worst max|a-b|/max|b| = %.2e (%s)'
          % (len(grad_rows), worst_rel, worst_name))
    print('optimiser step: %d checks, worst param_after/teacher_after deviation %.2e'
          % (len(step_rows), max([r[1] for r in step_rows if r[0].endswith('_after')] or [0.0])))
    if report.failed:
        print('FAILED: %d of %d checks: %s' % (len(report.failed), len(report.rows), ', '.join(report.failed)))
        return 1
    print('OK: %d checks against %s on %s (torch %s)'
          % (len(report.rows), os.path.normpath(args.fixture), device, torch.__version__))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
