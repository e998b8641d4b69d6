/**
 * The flags of the reference training script (spec §7), with its names, defaults and
 * value syntax. Help texts are ours: each says what the flag does and when to change it.
 */
import type { FlagSpec } from './flag-spec';
import { ARCHS, HEAD_ACTS, HEAD_NORMS, OPTIMIZERS, PRED_SHAPES } from './types';

// The positional table is built for 224-px crops; a patch size must tile it.
const tiles224 = (p: number) => (224 % p === 0 ? undefined : `${p} does not divide the 224-px crop`);

export const REFERENCE_FLAGS: readonly FlagSpec[] = [
  // ---------------------------------------------------------------- model
  {
    key: 'arch', group: 'Model', origin: 'reference', type: 'choice', choices: ARCHS,
    help: 'Backbone size. vit_small (ViT-S/16, 21M parameters) and vit_base (ViT-B/16, 85M) have published recipes; vit_tiny is for CPU demos and smoke tests; vit_large has no published SERE recipe and needs several times the memory of vit_base.',
  },
  {
    key: 'patch_size', group: 'Model', origin: 'reference', type: 'int', min: 1, check: tiles224, rule: 'must divide 224',
    metavar: 'PX',
    help: 'Side of a ViT patch in pixels. Keep 16: both recipes, the golden fixtures and the fixed SERE divisors (14 for global, 6 for local relations) assume it. Smaller patches multiply the tokens, and the memory, by (16/p)².',
  },
  {
    key: 'window_size', group: 'Model', origin: 'reference', type: 'int', min: 1,
    help: 'Accepted so that reference command lines run unchanged. It only configured Swin backbones, which SERE.ts does not have; it has no effect.',
  },
  {
    key: 'out_dim', group: 'Model', origin: 'reference', type: 'int', min: 1, metavar: 'K',
    help: 'Width K of the projection head output (the number of prototypes the CLS token is matched against). Both recipes use 8192. A small demo can use 1024-4096 to save memory and time; on real data a much smaller K usually costs feature quality.',
  },
  {
    key: 'patch_out_dim', group: 'Model', origin: 'reference', type: 'int', min: 1, metavar: 'K',
    help: 'Width of the separate patch head, used only when the heads are not shared (the loss uses --out_dim for patches as soon as the student or the teacher shares its head). Keep it equal to --out_dim.',
  },
  {
    key: 'shared_head', group: 'Model', origin: 'reference', type: 'bool',
    help: "On: the student's CLS and patch tokens go through the same last layer. Both recipes turn it on; the reference default is off, which is fragile because the teacher shares by default (spec §9.13), so turn it on unless you reproduce that default on purpose.",
  },
  {
    key: 'shared_head_teacher', group: 'Model', origin: 'reference', type: 'bool',
    help: "Same as --shared_head for the teacher. Keep it on, as in both recipes.",
  },
  {
    key: 'norm_last_layer', group: 'Model', origin: 'reference', type: 'bool',
    help: "On: the weight-norm gain of the head's last layer stays fixed at 1, which keeps the early epochs stable. Off lets the head learn the gain and gave better features for ViT-S (that recipe turns it off); keep it on for ViT-B and larger, or when the loss spikes in the first epochs.",
  },
  {
    key: 'norm_in_head', group: 'Model', origin: 'reference', type: 'choice', choices: HEAD_NORMS, nullable: true,
    help: "Normalisation layer between the layers of the head's MLP. Neither recipe uses one; leave it at None.",
  },
  {
    key: 'act_in_head', group: 'Model', origin: 'reference', type: 'choice', choices: HEAD_ACTS,
    help: "Activation between the layers of the head's MLP. Keep gelu, as in both recipes.",
  },
  {
    key: 'drop_path', group: 'Model', origin: 'reference', type: 'float', min: 0, below: 1, metavar: 'RATE',
    help: "Stochastic-depth rate of the student's last block; earlier blocks get proportionally less and the teacher none. 0.1 suits ViT-S/B on ImageNet-1k. Lower it (0-0.05) for vit_tiny or small data sets, raise it (e.g. 0.2-0.4) for vit_large.",
  },

  // ---------------------------------------------------------------- teacher
  {
    key: 'momentum_teacher', group: 'Teacher and temperatures', origin: 'reference', type: 'float', min: 0, max: 1,
    help: 'Starting EMA momentum of the teacher; it rises to 1 along a cosine over the run. 0.996 suits a total batch of 1024. With total batches of a few hundred or less, use 0.999-0.9995 so the teacher averages over enough steps.',
  },
  {
    key: 'warmup_teacher_temp', group: 'Teacher and temperatures', origin: 'reference', type: 'float', above: 0,
    help: "Teacher CLS temperature at epoch 0, ramping linearly to --teacher_temp over --warmup_teacher_temp_epochs. A low start (sharp targets) helps the first epochs; there is rarely a reason to change 0.04.",
  },
  {
    key: 'teacher_temp', group: 'Teacher and temperatures', origin: 'reference', type: 'float', above: 0,
    help: "Teacher CLS temperature after the ramp. Both recipes use 0.07 (the default 0.04 makes the ramp flat). Above about 0.07 the targets get too flat and training can stall or collapse; if that happens, lower it or lengthen the ramp.",
  },
  {
    key: 'warmup_teacher_patch_temp', group: 'Teacher and temperatures', origin: 'reference', type: 'float', above: 0,
    help: 'Teacher patch temperature at the start of its ramp (held there until --pred_start_epoch). 0.04 in both recipes.',
  },
  {
    key: 'teacher_patch_temp', group: 'Teacher and temperatures', origin: 'reference', type: 'float', above: 0,
    help: 'Teacher patch temperature after the ramp. 0.07 in both recipes; the same stability advice as --teacher_temp applies.',
  },
  {
    key: 'warmup_teacher_temp_epochs', group: 'Teacher and temperatures', origin: 'reference', type: 'int', min: 0, metavar: 'EPOCHS',
    help: 'Length of both temperature ramps. 30 (ViT-S) or 50 (ViT-B) in the 100-epoch recipes; shorten it in proportion for shorter runs. It must fit in the run: ramp + --pred_start_epoch <= --epochs.',
  },

  // ---------------------------------------------------------------- masked image modelling
  {
    key: 'use_masked_im_modeling', group: 'Masked image modelling', origin: 'reference', type: 'bool',
    help: "Masked patch prediction (iBOT's patch loss). Off removes the masking and the patch loss, leaving CLS distillation plus SERE; useful for ablations only.",
  },
  {
    key: 'pred_ratio', group: 'Masked image modelling', origin: 'reference', type: 'float_list', minLength: 1, maxLength: 16, min: 0, max: 1,
    metavar: 'R',
    help: 'Fraction of the patches of a global crop to mask. With several values each crop picks one at random. The recipes use "0 0.3" with --pred_ratio_var "0 0.2": half of the crops stay unmasked, the others mask 10-50 % of their patches.',
  },
  {
    key: 'pred_ratio_var', group: 'Masked image modelling', origin: 'reference', type: 'float_list', minLength: 1, maxLength: 16, min: 0, max: 1,
    metavar: 'V',
    help: 'Half-width of a uniform range around each --pred_ratio value: one value per ratio, or one for all. A value may not exceed its ratio, and ratio + value may not exceed 1.',
  },
  {
    key: 'pred_shape', group: 'Masked image modelling', origin: 'reference', type: 'choice', choices: PRED_SHAPES,
    help: 'Shape of the masked areas: block masks random rectangles of patches (both recipes); rand masks patches independently, which tends to make the prediction easier; it is mostly for ablations.',
  },
  {
    key: 'pred_start_epoch', group: 'Masked image modelling', origin: 'reference', type: 'int', min: 0, metavar: 'EPOCH',
    help: 'First epoch with masking; before it no patch is masked and the patch temperature waits at its warm-up value. Keep 0 unless you study delayed masking.',
  },
  {
    key: 'lambda1', group: 'Masked image modelling', origin: 'reference', type: 'float', min: 0,
    help: 'Weight of the CLS (image-level) distillation term inside the iBOT loss. Both recipes keep 1.',
  },
  {
    key: 'lambda2', group: 'Masked image modelling', origin: 'reference', type: 'float', min: 0,
    help: 'Weight of the masked-patch term inside the iBOT loss. Both recipes keep 1; 0 is not the same as --use_masked_im_modeling off (the crops are still masked).',
  },

  // ---------------------------------------------------------------- optimisation
  {
    key: 'use_fp16', group: 'Optimisation', origin: 'reference', type: 'bool',
    help: 'Mixed precision on GPUs (fp16 with dynamic loss scaling): about twice the speed and less memory. Turn it off only if the loss becomes NaN. Ignored on CPU and when --precision is given.',
  },
  {
    key: 'weight_decay', group: 'Optimisation', origin: 'reference', type: 'float', min: 0,
    help: 'Weight decay at the start of the run; it follows a cosine to --weight_decay_end. Unlike iBOT, SERE decays biases too (only normalisation scales are exempt). 0.04 in both recipes.',
  },
  {
    key: 'weight_decay_end', group: 'Optimisation', origin: 'reference', type: 'float', min: 0,
    help: 'Weight decay at the end of the run. A decay that grows over training suits ViTs; both recipes go from 0.04 to 0.4.',
  },
  {
    key: 'clip_grad', group: 'Optimisation', origin: 'reference', type: 'float', min: 0, metavar: 'NORM',
    help: "Largest L2 norm of each parameter tensor's gradient (clipped tensor by tensor, not globally); 0 turns clipping off. Both recipes use 0.3. Lower it if the loss spikes; raising it rarely helps.",
  },
  {
    key: 'batch_size_per_gpu', group: 'Optimisation', origin: 'reference', type: 'int', min: 1, metavar: 'B',
    help: 'Images per GPU per step (128 in both recipes, 8 GPUs). The peak learning rate follows the total batch (see --lr), so halving it also halves the lr. If memory runs out, lower it and raise --accum_iter to keep the total batch.',
  },
  {
    key: 'epochs', group: 'Optimisation', origin: 'reference', type: 'int', min: 1,
    help: 'Length of the run; every schedule (lr, weight decay, teacher momentum and temperatures) stretches over it. The recipes use 100; longer runs usually give better features.',
  },
  {
    key: 'freeze_last_layer', group: 'Optimisation', origin: 'reference', type: 'int', min: 0, metavar: 'EPOCHS',
    help: "Number of first epochs in which the head's last layer does not learn. 1 for ViT-S, 3 for ViT-B; raise it if the loss climbs in the first epochs.",
  },
  {
    key: 'lr', group: 'Optimisation', origin: 'reference', type: 'float', min: 0,
    help: 'Peak learning rate per 256 images. The real peak is lr x batch_size_per_gpu x accum_iter x GPUs / 256, reached after --warmup_epochs of linear warm-up: 5e-4 (ViT-S) and 7.5e-4 (ViT-B) at a total batch of 1024. Lower it if the loss diverges early.',
  },
  {
    key: 'warmup_epochs', group: 'Optimisation', origin: 'reference', type: 'int', min: 0,
    help: 'Epochs of linear learning-rate warm-up from 0. 10 in both recipes; shorten it in proportion for short runs, but a ViT without warm-up tends to diverge.',
  },
  {
    key: 'min_lr', group: 'Optimisation', origin: 'reference', type: 'float', min: 0,
    help: 'Learning rate the cosine decay approaches at the end: 1e-6 (ViT-S), 2e-6 (ViT-B).',
  },
  {
    key: 'optimizer', group: 'Optimisation', origin: 'reference', type: 'choice', choices: OPTIMIZERS,
    help: 'AdamW is what both recipes use and what ViTs need; sgd (momentum 0.9) and lars exist for comparisons.',
  },
  {
    key: 'load_from', group: 'Optimisation', origin: 'reference', type: 'string', nullable: true, metavar: 'FILE',
    help: 'Checkpoint to resume from: a file name inside --output_dir (or --store), such as checkpoint.pth. None starts from scratch.',
  },
  {
    key: 'accum_iter', group: 'Optimisation', origin: 'reference', type: 'int', min: 1, metavar: 'N',
    help: "Number of steps whose gradients are summed before one optimiser step. It multiplies the total batch (and the scaled lr) without more memory: use it to reach the recipes' 1024 images on fewer or smaller GPUs.",
  },

  // ---------------------------------------------------------------- multi-crop
  {
    key: 'global_crops_number', group: 'Multi-crop views', origin: 'reference', type: 'int', min: 2, max: 2,
    help: 'Number of 224-px global crops. SERE pairs exactly two global crops, so only 2 is accepted.',
  },
  {
    key: 'global_crops_scale', group: 'Multi-crop views', origin: 'reference', type: 'float_list', minLength: 2, maxLength: 2, above: 0, max: 1,
    metavar: 'MIN MAX',
    help: 'Range of the fraction of the image area a global crop covers. With local crops the recipes raise the lower bound (0.4 1 for ViT-S, 0.32 1 for ViT-B) so that global and local crops see different scales; without local crops keep a low bound such as 0.14.',
  },
  {
    key: 'local_crops_number', group: 'Multi-crop views', origin: 'reference', type: 'int', min: 0, metavar: 'L',
    help: 'Number of 96-px local crops per image. Both recipes use 10, which roughly doubles the compute of a step and usually pays off in feature quality; 0 turns them off together with the local SERE terms. With 1 or 2 see --compat_local_heads.',
  },
  {
    key: 'local_crops_scale', group: 'Multi-crop views', origin: 'reference', type: 'float_list', minLength: 2, maxLength: 2, above: 0, max: 1,
    metavar: 'MIN MAX',
    help: "Range of the fraction of the image area a local crop covers. Its upper bound should meet the global crops' lower bound: 0.05 0.4 (ViT-S), 0.05 0.32 (ViT-B).",
  },

  // ---------------------------------------------------------------- SERE
  {
    key: 'overlap_size', group: 'SERE self-relation', origin: 'reference', type: 'int_list', minLength: 1, maxLength: 2, min: 2,
    metavar: 'S1 [S2]',
    help: "Sample points per side of the grids that align the two global crops' spatial relations (S1 for query rows, S2 for key columns; one value sets both). 13 13, just under the 14x14 token grid, in both recipes; smaller is cheaper and coarser.",
  },
  {
    key: 'alpha', group: 'SERE self-relation', origin: 'reference', type: 'float', min: 0,
    help: 'Weight of the spatial self-relation loss. The total is iBOT x (4 - alpha - beta)/2 + alpha x spatial + beta x channel, so alpha + beta may not exceed 4. Both recipes use 0.2.',
  },
  {
    key: 'beta', group: 'SERE self-relation', origin: 'reference', type: 'float', min: 0,
    help: 'Weight of the channel self-relation loss (see --alpha). Both recipes use 0.5.',
  },
  {
    key: 'temperature_pixel', group: 'SERE self-relation', origin: 'reference', type: 'float', above: 0,
    help: "Teacher temperature of the spatial-relation targets (the student's is 1). Lower gives sharper targets. Both recipes keep 0.5.",
  },
  {
    key: 'temperature_channel', group: 'SERE self-relation', origin: 'reference', type: 'float', above: 0,
    help: "Teacher temperature of the channel-relation targets (the student's is 1). Both recipes keep 0.1.",
  },

  // ---------------------------------------------------------------- data, output, launch
  {
    key: 'data_path', group: 'Data, output and launch', origin: 'reference', type: 'string', metavar: 'DIR',
    help: 'Folder of training images in ImageNet layout (one sub-folder per class). --data takes precedence and also accepts a Kafka topic.',
  },
  {
    key: 'output_dir', group: 'Data, output and launch', origin: 'reference', type: 'string', metavar: 'DIR',
    help: 'Folder for checkpoints and log.txt (one JSON line per epoch). --store takes precedence and also accepts an s3:// URL.',
  },
  {
    key: 'saveckp_freq', group: 'Data, output and launch', origin: 'reference', type: 'int', min: 0, metavar: 'EPOCHS',
    help: 'Keep a numbered checkpoint every this many epochs (0: none); checkpoint.pth is rewritten after every epoch anyway. 10 in the recipes; lower it when you want to evaluate intermediate epochs.',
  },
  {
    key: 'seed', group: 'Data, output and launch', origin: 'reference', type: 'int', min: 0,
    help: 'Seed of every random draw (initial weights, crops, masks, stochastic depth). Change it for an independent repeat of a run.',
  },
  {
    key: 'num_workers', group: 'Data, output and launch', origin: 'reference', type: 'int', min: 0,
    help: 'Image-decoding workers per GPU process when reading a local folder (not used with a Kafka source). Raise it until the GPU no longer waits for data; the recipes use 6.',
  },
  {
    key: 'dist_url', group: 'Data, output and launch', origin: 'reference', type: 'string', metavar: 'URL',
    help: 'How the processes of a multi-GPU run find each other. env:// reads MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE from the environment, as set by a launcher or the Kubernetes StatefulSet; change it only for a fixed tcp://host:port rendezvous.',
  },
  {
    key: 'local_rank', group: 'Data, output and launch', origin: 'reference', type: 'int', min: 0, metavar: 'N',
    help: 'Index of this process among the processes on its machine. Set by launchers; do not set it by hand.',
  },
];
