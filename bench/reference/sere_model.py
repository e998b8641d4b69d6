# Copyright the SERE.ts authors. Licensed under the Apache License, Version 2.0.
"""Student/teacher networks of one SERE step, written from SERE_SPEC.md §1, §2, §4.1-4.2.

A benchmark baseline only: the plain eager PyTorch a practitioner would write for the
reference algorithm (timm-style ViT blocks with the attention written out, BatchNorm +
1x1-conv self-relation heads, a weight-normalised iBOT head, grid_sample alignment).
"""
import math
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

ARCHS = {  # embed dim, depth, heads (spec §1.1); mlp ratio 4 and qkv bias everywhere
    'vit_tiny': (192, 12, 3),
    'vit_small': (384, 12, 6),
    'vit_base': (768, 12, 12),
    'vit_large': (1024, 24, 16),
}

# The reference hard-codes these whatever the patch or crop size (spec §9.2).
CHANNEL_DIVISOR_GLOBAL = 14
CHANNEL_DIVISOR_LOCAL = 6


class DropPath(nn.Module):
    """Per-sample stochastic depth; kept samples are rescaled by 1/(1-rate)."""

    def __init__(self, rate):
        super().__init__()
        self.rate = rate

    def forward(self, x):
        if self.rate == 0.0 or not self.training:
            return x
        keep = 1.0 - self.rate
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        return x * x.new_empty(shape).bernoulli_(keep) / keep


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        # Written out (no fused kernel) as in the reference, so the baseline is like for like.
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio, drop_path):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchEmbed(nn.Module):
    def __init__(self, patch_size, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x)  # [B, D, S/P, S/P]


class SelfRelationHead(nn.Module):
    """Projection branch z = ReLU(BN(F)), predictor branch p = ReLU(BN(conv1x1(z))) (§4.1).

    The state-dict names (`projection.0`, `predictor.0`, `predictor.1`) are the reference's,
    so fixture weights load as they are.
    """

    def __init__(self, dim):
        super().__init__()
        self.projection = nn.Sequential(nn.BatchNorm2d(dim), nn.ReLU(inplace=True))
        self.predictor = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=1, bias=False), nn.BatchNorm2d(dim), nn.ReLU(inplace=True))

    def forward(self, fmap):
        z = self.projection(fmap)
        return z, self.predictor(z)


def channel_relation(x, divisor):
    x = x.flatten(2) / divisor  # [B, D, n]
    return x @ x.transpose(1, 2)  # [B, D, D]


def pixel_relation(x, num_heads):
    b, c = x.shape[:2]
    d = c // num_heads
    x = x.reshape(b, num_heads, d, -1)  # [B, H, d, n]
    return (x.transpose(-2, -1) @ x) * d ** -0.5  # [B, H, n, n]


class VisionTransformer(nn.Module):
    def __init__(self, arch=None, dims=None, patch_size=16, img_size=224, drop_path=0.0,
                 use_mask=True, local_heads=True):
        super().__init__()
        embed_dim, depth, num_heads = dims if dims is not None else ARCHS[arch]
        self.patch_size = patch_size
        self.num_heads = num_heads
        self.grid0 = img_size // patch_size  # the positional table's grid side
        self.patch_embed = PatchEmbed(patch_size, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.grid0 ** 2, embed_dim))
        self.masked_embed = nn.Parameter(torch.zeros(1, embed_dim)) if use_mask else None
        rates = [r.item() for r in torch.linspace(0, drop_path, depth)]
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, 4.0, r) for r in rates])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.channel_sere = SelfRelationHead(embed_dim)
        self.pixel_sere = SelfRelationHead(embed_dim)
        if local_heads:
            self.channel_sere_local = SelfRelationHead(embed_dim)
            self.pixel_sere_local = SelfRelationHead(embed_dim)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for m in self.blocks.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def interpolate_pos_encoding(self, grid):
        if grid == self.grid0:
            return self.pos_embed
        cls_pos, patch_pos = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        dim = patch_pos.shape[-1]
        patch_pos = patch_pos.reshape(1, self.grid0, self.grid0, dim).permute(0, 3, 1, 2)
        # The +0.1 scale factor (not out/in) drives the bicubic coordinate mapping (§1.4).
        scale = (grid + 0.1) / self.grid0
        patch_pos = F.interpolate(patch_pos, scale_factor=(scale, scale), mode='bicubic', align_corners=False)
        patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, -1, dim)
        return torch.cat((cls_pos, patch_pos), dim=1)

    def forward(self, x, mask=None, local=False):
        x = self.patch_embed(x)
        b, dim, grid, _ = x.shape
        if mask is not None:
            x = torch.where(mask.unsqueeze(1), self.masked_embed.to(x.dtype).view(1, dim, 1, 1), x)
        x = torch.cat((self.cls_token.expand(b, -1, -1), x.flatten(2).transpose(1, 2)), dim=1)
        x = x + self.interpolate_pos_encoding(grid)
        for blk in self.blocks:
            x = blk(x)
        # Self-relations read the last block's patch tokens before the final norm (§1.3.6).
        fmap = x[:, 1:].transpose(1, 2).reshape(b, dim, grid, grid)
        if local:
            channel_head, pixel_head = self.channel_sere_local, self.pixel_sere_local
            divisor = CHANNEL_DIVISOR_LOCAL
        else:
            channel_head, pixel_head = self.channel_sere, self.pixel_sere
            divisor = CHANNEL_DIVISOR_GLOBAL
        ch_z, ch_p = channel_head(fmap)
        px_z, px_p = pixel_head(fmap)
        relations = {
            'channel_z': channel_relation(ch_z, divisor), 'channel_p': channel_relation(ch_p, divisor),
            'pixel_z': pixel_relation(px_z, self.num_heads), 'pixel_p': pixel_relation(px_p, self.num_heads),
        }
        return self.norm(x), relations


class _WeightNormLinear(nn.Module):
    """Stand-in for a torch without the hook-based weight_norm; same parameter names."""

    def __init__(self, in_dim, out_dim):
        super().__init__()
        v = nn.Linear(in_dim, out_dim, bias=False).weight.detach()
        self.weight_g = nn.Parameter(v.norm(dim=1, keepdim=True))
        self.weight_v = nn.Parameter(v.clone())

    def forward(self, x):
        return F.linear(x, self.weight_g * self.weight_v / self.weight_v.norm(dim=1, keepdim=True))


def _weight_norm_linear(in_dim, out_dim, norm_last_layer):
    if hasattr(nn.utils, 'weight_norm'):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # torch 2.x deprecates the hook-based weight_norm
            layer = nn.utils.weight_norm(nn.Linear(in_dim, out_dim, bias=False))
    else:
        layer = _WeightNormLinear(in_dim, out_dim)
    layer.weight_g.data.fill_(1.0)
    if norm_last_layer:
        layer.weight_g.requires_grad = False
    return layer


class IBOTHead(nn.Module):
    """MLP -> L2 normalise -> weight-normalised last layer; CLS and patch tokens (§2)."""

    def __init__(self, in_dim, out_dim, hidden_dim=2048, bottleneck_dim=256, shared_head=True,
                 norm_last_layer=True, patch_out_dim=None):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, hidden_dim), nn.GELU(),
            nn.Linear(hidden_dim, hidden_dim), nn.GELU(),
            nn.Linear(hidden_dim, bottleneck_dim))
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        self.last_layer = _weight_norm_linear(bottleneck_dim, out_dim, norm_last_layer)
        if shared_head:
            self.last_layer2 = self.last_layer  # one module under two state-dict names
        else:
            self.last_layer2 = _weight_norm_linear(bottleneck_dim, patch_out_dim or out_dim, norm_last_layer)

    def forward(self, tokens):
        x = F.normalize(self.mlp(tokens), dim=-1, p=2)
        return self.last_layer(x[:, 0]), self.last_layer2(x[:, 1:])


def resample_relation(rel, row_grid, col_grid):
    """Bilinear resampling of relation rows (queries) and columns (keys) on overlap grids (§4.2).

    rel [B, H, Nq, Nk] with square token maps; row_grid [B, Sr, Sr, 2], col_grid [B, Sc, Sc, 2].
    Each axis is treated as an image whose channels are the other axis, then grid-sampled.
    """
    b, h, nq, nk = rel.shape
    gq, gk = math.isqrt(nq), math.isqrt(nk)
    sc, sr = col_grid.shape[1] * col_grid.shape[2], row_grid.shape[1] * row_grid.shape[2]
    x = F.grid_sample(rel.reshape(b, h * nq, gk, gk), col_grid, mode='bilinear',
                      padding_mode='zeros', align_corners=False)
    x = x.reshape(b, h, nq, sc).transpose(2, 3).reshape(b, h * sc, gq, gq)
    x = F.grid_sample(x, row_grid, mode='bilinear', padding_mode='zeros', align_corners=False)
    return x.reshape(b, h, sc, sr).transpose(2, 3)


class MultiCropWrapper(nn.Module):
    """Runs crops of one resolution in a single backbone + head call (crop-major batch)."""

    def __init__(self, backbone, head):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, crops, masks=None, grid1=None, grid2=None, branch='p'):
        if any(c.shape != crops[0].shape for c in crops):
            raise ValueError('MultiCropWrapper: all crops of one call must share a shape, got %s'
                             % [tuple(c.shape) for c in crops])
        x = torch.cat(crops)
        mask = torch.cat(masks) if masks is not None else None
        # The reference calls a group "local" when the running crop count exceeds 2 (spec §9.1);
        # kept so that L <= 2 behaves as it does there.
        tokens, rel = self.backbone(x, mask=mask, local=len(crops) > 2)
        cls, patch = self.head(tokens)
        out = {'cls': cls, 'patch': patch, 'channel': rel['channel_' + branch],
               'pixel_raw': rel['pixel_' + branch]}
        if grid1 is not None:
            # Relations go to float32 before sampling, as the reference does under fp16.
            out['pixel_aligned'] = resample_relation(rel['pixel_' + branch].float(),
                                                     torch.cat(grid1), torch.cat(grid2))
        return out
