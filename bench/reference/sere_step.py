# Copyright the SERE.ts authors. Licensed under the Apache License, Version 2.0.
"""One SERE training iteration in plain eager PyTorch, timed: the speed baseline for the trainer.

Written from SERE_SPEC.md (§4.6 order of one iteration). Runs on Debian's torch 1.13 (CPU)
and on PyTorch 2.x (CUDA). Example:

  /usr/bin/python3 bench/reference/sere_step.py --arch vit_tiny --batch_size_per_gpu 8 \
      --local_crops_number 4 --device cpu --precision fp32 --steps 5 --warmup 1 --threads 2 --json
"""
import argparse
import contextlib
import json
import math
import resource
import sys
import time

import numpy as np
import torch

from sere_inputs import synthetic_batch
from sere_losses import IBOTLoss, SERELoss, total_loss
from sere_model import ARCHS, IBOTHead, MultiCropWrapper, VisionTransformer


# ============ networks ============
def build_networks(dims, patch_size, img_size, local_crops_number, out_dim, hidden_dim=2048,
                   bottleneck_dim=256, shared_head=True, norm_last_layer=True, drop_path=0.1):
    """Student (mask token, all SERE heads) and teacher (no mask token, shared head, no drop path)."""
    local_heads = local_crops_number > 0
    student = MultiCropWrapper(
        VisionTransformer(dims=dims, patch_size=patch_size, img_size=img_size, drop_path=drop_path,
                          use_mask=True, local_heads=local_heads),
        IBOTHead(dims[0], out_dim, hidden_dim, bottleneck_dim, shared_head=shared_head,
                 norm_last_layer=norm_last_layer))
    teacher = MultiCropWrapper(
        VisionTransformer(dims=dims, patch_size=patch_size, img_size=img_size, drop_path=0.0,
                          use_mask=False, local_heads=local_heads),
        IBOTHead(dims[0], out_dim, hidden_dim, bottleneck_dim, shared_head=True, norm_last_layer=True))
    teacher_state = teacher.state_dict()
    teacher.load_state_dict({k: v for k, v in student.state_dict().items() if k in teacher_state})
    for p in teacher.parameters():
        p.requires_grad = False
    return student, teacher  # both stay in training mode: BatchNorms use batch statistics (§9.6)


# ============ optimiser, schedules, clipping, EMA ============
def param_groups(model):
    """SERE decays biases too: only 1-D non-bias tensors (norm scales) escape weight decay (§6)."""
    regularized, not_regularized = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.endswith('.bias') or p.ndim >= 2:
            regularized.append(p)
        else:
            not_regularized.append(p)
    return [{'params': regularized}, {'params': not_regularized, 'weight_decay': 0.0}]


def cosine_scheduler(base, final, epochs, niter_per_ep, warmup_epochs=0, start_warmup=0.0):
    warmup = np.linspace(start_warmup, base, warmup_epochs * niter_per_ep) if warmup_epochs else np.array([])
    iters = np.arange(epochs * niter_per_ep - len(warmup))
    cosine = final + 0.5 * (base - final) * (1 + np.cos(np.pi * iters / len(iters)))
    return np.concatenate((warmup, cosine))


def clip_gradients(model, clip):
    """Per-parameter clipping (§6); the factor is clamped to 1 rather than branched on, so the
    device never has to report a norm back to the host."""
    for p in model.parameters():
        if p.grad is not None:
            coef = clip / (p.grad.norm(2) + 1e-6)
            p.grad.mul_(coef.clamp(max=1.0))


def cancel_gradients_last_layer(epoch, model, freeze_last_layer):
    if epoch >= freeze_last_layer:
        return
    for name, p in model.named_parameters():
        if 'last_layer' in name:
            p.grad = None


def ema_pairs(student, teacher):
    teacher_params = dict(teacher.named_parameters())
    return [(teacher_params[n], p) for n, p in student.named_parameters() if n in teacher_params]


@torch.no_grad()
def ema_update(pairs, momentum):
    for t, s in pairs:
        t.mul_(momentum).add_(s.detach(), alpha=1 - momentum)


def make_grad_scaler():
    amp = getattr(torch, 'amp', None)
    if amp is not None and hasattr(amp, 'GradScaler'):  # torch >= 2.3
        return torch.amp.GradScaler('cuda')
    return torch.cuda.amp.GradScaler()


def autocast(device_type, precision):
    if precision == 'fp32':
        return contextlib.nullcontext()
    dtype = torch.float16 if precision == 'fp16' else torch.bfloat16
    return torch.autocast(device_type=device_type, dtype=dtype)


# ============ one iteration ============
def forward_losses(student, teacher, ibot_loss, sere_loss, batch, epoch, alpha, beta):
    """Teacher on the unmasked global crops, student on the masked global crops and on the local
    crops, then iBOT (with centre update) and SERE losses (§4.6 steps 2-5)."""
    globals_ = batch['global_crops']
    with torch.no_grad():
        t = teacher(globals_, grid1=batch['grid1'], grid2=batch['grid2'], branch='z')
    s = student(globals_, masks=batch['masks'], grid1=batch['grid1'], grid2=batch['grid2'], branch='p')
    s_local = student(batch['local_crops'], branch='p') if batch['local_crops'] else None
    ibot = ibot_loss(s['cls'], s['patch'], s_local['cls'] if s_local is not None else None,
                     t['cls'], t['patch'], batch['masks'], epoch)
    sere = sere_loss(t, s, s_local, batch['grid_local'], batch['grid_global'])
    return {'total': total_loss(ibot['loss'], sere['pixel'], sere['channel'], alpha, beta),
            'ibot': ibot['loss'], 'ibot_cls': ibot['cls'], 'ibot_patch': ibot['patch'],
            'sere_pixel': sere['pixel'], 'sere_channel': sere['channel'],
            'teacher_cls': t['cls'], 'student_cls': s['cls'],
            'student_local_cls': s_local['cls'] if s_local is not None else None}


class Trainer:
    def __init__(self, args, device):
        dims = ARCHS[args.arch]
        self.args, self.device = args, device
        self.student, self.teacher = build_networks(
            dims, args.patch_size, 224, args.local_crops_number, args.out_dim,
            shared_head=args.shared_head, norm_last_layer=args.norm_last_layer, drop_path=args.drop_path)
        self.student.to(device)
        self.teacher.to(device)
        self.ibot_loss = IBOTLoss(args.out_dim, args.out_dim, args.local_crops_number,
                                  teacher_temp=0.07, warmup_teacher_temp_epochs=30,
                                  nepochs=args.epochs).to(device)
        self.sere_loss = SERELoss(args.local_crops_number)
        self.optimizer = torch.optim.AdamW(param_groups(self.student))
        self.scaler = make_grad_scaler() if args.precision == 'fp16' else None
        lr = args.lr * args.batch_size_per_gpu / 256.0
        niter = args.niter_per_ep
        self.lr_schedule = cosine_scheduler(lr, args.min_lr, args.epochs, niter, args.warmup_epochs)
        self.wd_schedule = cosine_scheduler(args.weight_decay, args.weight_decay_end, args.epochs, niter)
        self.momentum_schedule = cosine_scheduler(args.momentum_teacher, 1.0, args.epochs, niter)
        self.pairs = ema_pairs(self.student, self.teacher)

    def step(self, batch, it):
        args, epoch = self.args, self.args.epoch
        for i, group in enumerate(self.optimizer.param_groups):
            group['lr'] = float(self.lr_schedule[it])
            if i == 0:
                group['weight_decay'] = float(self.wd_schedule[it])
        with autocast(self.device.type, args.precision):
            out = forward_losses(self.student, self.teacher, self.ibot_loss, self.sere_loss, batch,
                                 epoch, args.alpha, args.beta)
        loss = out['total']
        if not math.isfinite(loss.item()):
            raise SystemExit('sere_step: loss is %s at iteration %d, stopping' % (loss.item(), it))
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        if args.clip_grad > 0:
            clip_gradients(self.student, args.clip_grad)
        cancel_gradients_last_layer(epoch, self.student, args.freeze_last_layer)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        ema_update(self.pairs, float(self.momentum_schedule[it]))
        return loss.item()


# ============ command line ============
def bool_flag(text):
    if text.lower() in ('on', 'true', '1'):
        return True
    if text.lower() in ('off', 'false', '0'):
        return False
    raise argparse.ArgumentTypeError('expected on/true/1 or off/false/0, got %r' % text)


def parse_args(argv):
    p = argparse.ArgumentParser(description='Time one SERE training iteration (PyTorch reference).')
    p.add_argument('--arch', default='vit_small', choices=sorted(ARCHS))
    p.add_argument('--patch_size', type=int, default=16)
    p.add_argument('--batch_size_per_gpu', type=int, default=128, help='images per step (B)')
    p.add_argument('--local_crops_number', type=int, default=10, help='L; the recipes use 10')
    p.add_argument('--global_size', type=int, default=224)
    p.add_argument('--local_size', type=int, default=96)
    p.add_argument('--out_dim', type=int, default=8192)
    p.add_argument('--shared_head', type=bool_flag, default=True, help='true in both recipes')
    p.add_argument('--norm_last_layer', type=bool_flag, default=False, help='ViT-S recipe false, ViT-B true')
    p.add_argument('--clip_grad', type=float, default=0.3, help='per-parameter clip; 0 disables')
    p.add_argument('--alpha', type=float, default=0.2, help='spatial SERE weight')
    p.add_argument('--beta', type=float, default=0.5, help='channel SERE weight')
    p.add_argument('--overlap_size', type=int, nargs=2, default=[13, 13], help='S1 S2 of global-global grids')
    p.add_argument('--drop_path', type=float, default=0.1)
    p.add_argument('--global_crops_scale', type=float, nargs=2, default=[0.4, 1.0])
    p.add_argument('--local_crops_scale', type=float, nargs=2, default=[0.05, 0.4])
    p.add_argument('--lr', type=float, default=0.0005)
    p.add_argument('--min_lr', type=float, default=1e-6)
    p.add_argument('--weight_decay', type=float, default=0.04)
    p.add_argument('--weight_decay_end', type=float, default=0.4)
    p.add_argument('--momentum_teacher', type=float, default=0.996)
    p.add_argument('--epochs', type=int, default=100)
    p.add_argument('--warmup_epochs', type=int, default=10)
    p.add_argument('--freeze_last_layer', type=int, default=1)
    p.add_argument('--niter_per_ep', type=int, default=1251, help='iterations per epoch for the schedules')
    p.add_argument('--epoch', type=int, default=1,
                   help='epoch the timed steps belong to; the default 1 is past the last-layer freeze, '
                        'so every parameter is stepped')
    p.add_argument('--use_fp16', type=bool_flag, default=False, help='alias of --precision fp16')
    p.add_argument('--device', default='cpu', help='cpu or cuda[:n]')
    p.add_argument('--precision', default='fp32', choices=['fp32', 'fp16', 'bf16'],
                   help='fp16: autocast + GradScaler (CUDA only); bf16: autocast, no scaler')
    p.add_argument('--steps', type=int, default=10, help='timed steps')
    p.add_argument('--warmup', type=int, default=2, help='untimed steps first')
    p.add_argument('--threads', type=int, default=0, help='torch.set_num_threads; 0 keeps the default')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', action='store_true', help='print one JSON line instead of text')
    args = p.parse_args(argv)
    if args.use_fp16:
        if args.precision not in ('fp32', 'fp16'):
            p.error('--use_fp16 true conflicts with --precision %s' % args.precision)
        args.precision = 'fp16'
    for flag, size in (('--global_size', args.global_size), ('--local_size', args.local_size)):
        if size % args.patch_size:
            p.error('%s %d is not a multiple of --patch_size %d' % (flag, size, args.patch_size))
    if args.steps < 1 or args.warmup < 0:
        p.error('--steps must be >= 1 and --warmup >= 0')
    if args.epoch >= args.epochs:
        p.error('--epoch %d must be below --epochs %d' % (args.epoch, args.epochs))
    return args


def main(argv):
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('sere_step: --device %s requested but CUDA is not available' % args.device)
    if device.type != 'cuda' and args.precision == 'fp16':
        raise SystemExit('sere_step: --precision fp16 needs --device cuda (use fp32 or bf16 on CPU)')
    torch.manual_seed(args.seed)
    trainer = Trainer(args, device)
    # Two distinct batches, made before timing: the data pipeline is not part of the step.
    batches = [synthetic_batch(args.batch_size_per_gpu, args.local_crops_number, args.global_size,
                               args.local_size, args.patch_size, args.overlap_size,
                               args.global_crops_scale, args.local_crops_scale, args.seed + i, device)
               for i in range(2)]
    cuda = device.type == 'cuda'
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    times, losses = [], []
    for i in range(args.warmup + args.steps):
        it = args.epoch * args.niter_per_ep + i
        start = time.perf_counter()
        losses.append(trainer.step(batches[i % 2], it))  # .item() inside waits for the device
        if cuda:
            torch.cuda.synchronize(device)
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    step_s = sum(times) / len(times)
    peak = (torch.cuda.max_memory_allocated(device) if cuda
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    result = {
        'impl': 'pytorch-reference',
        'images_per_s': args.batch_size_per_gpu / step_s,
        'step_s': step_s,
        'step_s_min': min(times),
        'peak_memory_bytes': int(peak),
        'device': str(device),
        'torch': torch.__version__,
        'gpu': torch.cuda.get_device_name(device) if cuda else None,
        'threads': torch.get_num_threads(),
        'last_loss': losses[-1],
    }
    for key in ('arch', 'patch_size', 'batch_size_per_gpu', 'local_crops_number', 'global_size',
                'local_size', 'out_dim', 'shared_head', 'norm_last_layer', 'clip_grad', 'alpha', 'beta',
                'overlap_size', 'drop_path', 'precision', 'steps', 'warmup', 'epoch'):
        result[key] = getattr(args, key)
    if args.json:
        print(json.dumps(result))
        return
    print('SERE reference step: %s/%d, B=%d, 2x%d + %dx%d crops, K=%d, %s on %s (torch %s, %d threads)' % (
        args.arch, args.patch_size, args.batch_size_per_gpu, args.global_size, args.local_crops_number,
        args.local_size, args.out_dim, args.precision, result['gpu'] or str(device), torch.__version__,
        result['threads']))
    print('images/s: %.2f' % result['images_per_s'])
    print('step time: mean %.4f s, min %.4f s over %d steps (%d warm-up)' % (
        step_s, min(times), args.steps, args.warmup))
    print('peak memory: %.1f MiB (%s)' % (peak / 2 ** 20, 'max_memory_allocated' if cuda else 'ru_maxrss'))
    print('losses: %s' % ', '.join('%.4f' % x for x in losses))


if __name__ == '__main__':
    main(sys.argv[1:])
