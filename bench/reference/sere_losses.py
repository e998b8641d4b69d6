# Copyright the SERE.ts authors. Licensed under the Apache License, Version 2.0.
"""iBOT loss with centring (§3) and the SERE spatial/channel self-relation losses (§4.3-4.5)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from sere_model import resample_relation


def teacher_temp_schedule(warmup_temp, temp, warmup_epochs, nepochs, start_epoch=0):
    """Per-epoch teacher temperature (§3.3): flat, then a linspace ramp, then constant."""
    if start_epoch > 0:
        return np.concatenate((np.ones(start_epoch) * warmup_temp,
                               np.linspace(warmup_temp, temp, warmup_epochs),
                               np.ones(nepochs - warmup_epochs - start_epoch) * temp))
    return np.concatenate((np.linspace(warmup_temp, temp, warmup_epochs),
                           np.ones(nepochs - warmup_epochs) * temp))


def soft_cross_entropy(target_probs, student_logits):
    return torch.sum(-target_probs * F.log_softmax(student_logits, dim=-1), dim=-1)


class IBOTLoss(nn.Module):
    def __init__(self, out_dim, patch_out_dim, local_crops_number, warmup_teacher_temp=0.04,
                 teacher_temp=0.07, warmup_teacher_patch_temp=0.04, teacher_patch_temp=0.07,
                 warmup_teacher_temp_epochs=30, nepochs=100, student_temp=0.1,
                 center_momentum=0.9, center_momentum2=0.9, lambda1=1.0, lambda2=1.0,
                 mim_start_epoch=0):
        super().__init__()
        self.ncrops = 2 + local_crops_number
        self.student_temp = student_temp
        self.center_momentum, self.center_momentum2 = center_momentum, center_momentum2
        self.lambda1, self.lambda2 = lambda1, lambda2
        self.register_buffer('center', torch.zeros(1, out_dim))
        self.register_buffer('center2', torch.zeros(1, 1, patch_out_dim))
        self.teacher_temps = teacher_temp_schedule(warmup_teacher_temp, teacher_temp,
                                                   warmup_teacher_temp_epochs, nepochs)
        self.teacher_patch_temps = teacher_temp_schedule(warmup_teacher_patch_temp, teacher_patch_temp,
                                                         warmup_teacher_temp_epochs, nepochs,
                                                         mim_start_epoch)

    def forward(self, student_cls, student_patch, student_local_cls, teacher_cls, teacher_patch,
                masks, epoch):
        if student_local_cls is not None:
            student_cls = torch.cat([student_cls, student_local_cls])
        s_cls = (student_cls / self.student_temp).chunk(self.ncrops)
        s_patch = (student_patch / self.student_temp).chunk(2)
        temp, patch_temp = float(self.teacher_temps[epoch]), float(self.teacher_patch_temps[epoch])
        t_cls = F.softmax((teacher_cls - self.center) / temp, dim=-1).detach().chunk(2)
        t_patch = F.softmax((teacher_patch - self.center2) / patch_temp, dim=-1).detach().chunk(2)
        loss_cls, n_cls, loss_patch, n_patch = 0.0, 0, 0.0, 0
        for q in range(2):
            for v in range(len(s_cls)):
                if v == q:
                    m = masks[v].flatten(1).float()
                    per_token = soft_cross_entropy(t_patch[q], s_patch[v])
                    # Unmasked samples add 0 but still count in the batch mean (§3.1).
                    loss_patch = loss_patch + ((per_token * m).sum(-1) / m.sum(-1).clamp(min=1.0)).mean()
                    n_patch += 1
                else:
                    loss_cls = loss_cls + soft_cross_entropy(t_cls[q], s_cls[v]).mean()
                    n_cls += 1
        loss_cls = loss_cls / n_cls * self.lambda1
        loss_patch = loss_patch / n_patch * self.lambda2
        self.update_center(teacher_cls, teacher_patch)
        return {'cls': loss_cls, 'patch': loss_patch, 'loss': loss_cls + loss_patch}

    @torch.no_grad()
    def update_center(self, teacher_cls, teacher_patch):
        # World size 1: the reference's all-reduce over GPUs is the identity here.
        cls_mean = teacher_cls.float().mean(dim=0, keepdim=True)
        patch_mean = teacher_patch.float().mean(dim=1).mean(dim=0, keepdim=True).unsqueeze(1)
        self.center.mul_(self.center_momentum).add_(cls_mean * (1 - self.center_momentum))
        self.center2.mul_(self.center_momentum2).add_(patch_mean * (1 - self.center_momentum2))


class SERELoss(nn.Module):
    """Spatial (pixel) and channel self-relation distillation between views (§4.3, §4.4)."""

    def __init__(self, local_crops_number, temperature_pixel=0.5, temperature_channel=0.1):
        super().__init__()
        self.local_crops_number = local_crops_number
        self.temperature_pixel = temperature_pixel
        self.temperature_channel = temperature_channel

    def forward(self, teacher, student, student_local, grid_local, grid_global):
        """teacher/student: wrapper outputs of the 2 global crops; student_local: of the L local
        crops or None; grid_local/grid_global: 2L grids each, index q*L + v."""
        n_local = self.local_crops_number if student_local is not None else 0
        t_aligned = (teacher['pixel_aligned'] / self.temperature_pixel).softmax(-1).chunk(2)
        s_aligned = student['pixel_aligned'].chunk(2)
        t_raw = teacher['pixel_raw'].float().chunk(2)
        t_channel = (teacher['channel'].float() / self.temperature_channel).softmax(-1).chunk(2)
        s_channel = student['channel'].float().chunk(2)
        if n_local:
            s_local_px = student_local['pixel_raw'].float().chunk(n_local)
            s_local_ch = student_local['channel'].float().chunk(n_local)
        pixel_terms, channel_terms = [], []
        for q in range(2):
            v = 1 - q
            pixel_terms.append(soft_cross_entropy(t_aligned[q], s_aligned[v]).mean())
            channel_terms.append(soft_cross_entropy(t_channel[q], s_channel[v]).mean())
            for v in range(n_local):
                k = q * n_local + v
                target = resample_relation(t_raw[q] / self.temperature_pixel, grid_global[k], grid_global[k])
                pred = resample_relation(s_local_px[v], grid_local[k], grid_local[k])
                pixel_terms.append(soft_cross_entropy(target.softmax(-1), pred).mean())
                channel_terms.append(soft_cross_entropy(t_channel[q], s_local_ch[v]).mean())
        return {'pixel': sum(pixel_terms) / len(pixel_terms),
                'channel': sum(channel_terms) / len(channel_terms)}


def total_loss(ibot_loss, sere_pixel, sere_channel, alpha, beta):
    return ibot_loss * (4 - alpha - beta) / 2 + alpha * sere_pixel + beta * sere_channel
