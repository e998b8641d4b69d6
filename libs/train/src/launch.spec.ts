import { parseFlags, recipes } from '@sere/config';
import { LAUNCH_DEFAULTS, parseLaunchArgs } from './launch';

describe('parseLaunchArgs', () => {
  it("takes torchrun's flags, in either spelling, up to the command", () => {
    const p = parseLaunchArgs(['--nproc_per_node=8', '--nnodes', '2', '--node-rank', '1', '--master_addr', 'h0', '--max_restarts', '3', 'train', '--arch', 'vit_small']);
    expect(p.options).toEqual({ ...LAUNCH_DEFAULTS, nprocPerNode: 8, nnodes: 2, nodeRank: 1, masterAddr: 'h0', maxRestarts: 3 });
    expect(p.command).toBe('train');
    expect(p.args).toEqual(['--arch', 'vit_small']);
  });

  it.each(['vit_small_16', 'vit_base_16'] as const)("runs the published %s command verbatim after 'sere launch --nproc_per_node=8 train'", (name) => {
    // python -m torch.distributed.launch --nproc_per_node=8 main_sere.py <flags>
    const flags = [...recipes[name].argv, '--data_path', '/data/in1k/train', '--output_dir', '/runs/sere'];
    const p = parseLaunchArgs(['--nproc_per_node=8', 'train', ...flags]);
    expect(p.options.nprocPerNode).toBe(8);
    expect(p.command).toBe('train');
    expect(p.args).toEqual(flags);
    expect(parseFlags(p.args)).toEqual(parseFlags(flags));
    expect(parseFlags(p.args).batch_size_per_gpu).toBe(128);
  });

  it.each([
    [['--nproc_per_node', '0', 'train'], /--nproc_per_node 0: expected an integer >= 1/],
    [['--nproc_per_node', 'two', 'train'], /--nproc_per_node two: expected an integer/],
    [['--nprocs', '2', 'train'], /unknown launcher flag --nprocs/],
    [['--node_rank', '2', '--nnodes', '2', 'train'], /--node_rank 2 is not below --nnodes 2/],
    [['--master_port', '70000', 'train'], /--master_port 70000: expected a port/],
    [['--nproc_per_node', '2'], /no command to launch/],
  ])('refuses %j', (argv, msg) => {
    expect(() => parseLaunchArgs(argv)).toThrow(msg);
  });
});
