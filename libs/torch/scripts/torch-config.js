// Finds the libtorch to build against and the flags it needs. Order: $SERE_TORCH_DIR
// (a libtorch folder or an installed `torch` Python package), Debian's libtorch-dev,
// then the `torch` package of a Python interpreter on PATH.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

function exists(p) {
  try {
    fs.accessSync(p);
    return true;
  } catch {
    return false;
  }
}

function pythonTorch(python) {
  const code =
    'import os, torch; print(os.path.dirname(torch.__file__)); print(int(torch._C._GLIBCXX_USE_CXX11_ABI)); print(torch.__version__)';
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const [dir, abi, version] = r.stdout.trim().split('\n');
  return { dir, abi: Number(abi), version };
}

function versionOf(includeDir) {
  const header = path.join(includeDir, 'torch', 'csrc', 'api', 'include', 'torch', 'version.h');
  const text = fs.readFileSync(header, 'utf8');
  const num = (k) => Number((text.match(new RegExp(`#define\\s+TORCH_VERSION_${k}\\s+\\(?(\\d+)`)) || [])[1]);
  return { major: num('MAJOR'), minor: num('MINOR'), patch: num('PATCH') };
}

function layoutFrom(root) {
  // A Python `torch` package and a libtorch zip share this layout.
  const include = path.join(root, 'include');
  const lib = path.join(root, 'lib');
  if (!exists(path.join(include, 'torch', 'csrc', 'api', 'include', 'torch', 'torch.h'))) return null;
  return { include, lib };
}

function findCudaHeaders(torchRoot) {
  const candidates = [];
  if (process.env.CUDA_HOME) candidates.push(path.join(process.env.CUDA_HOME, 'include'));
  candidates.push('/usr/local/cuda/include');
  const nvidia = path.join(torchRoot, '..', 'nvidia');
  if (exists(nvidia)) {
    for (const d of fs.readdirSync(nvidia)) {
      candidates.push(path.join(nvidia, d, 'include'));
    }
  }
  return candidates.filter((c) => exists(path.join(c, 'cuda_runtime_api.h')));
}

function torchConfig() {
  let layout = null;
  let abi = process.env.SERE_TORCH_CXX11_ABI !== undefined ? Number(process.env.SERE_TORCH_CXX11_ABI) : undefined;
  let origin = '';
  if (process.env.SERE_TORCH_DIR) {
    layout = layoutFrom(process.env.SERE_TORCH_DIR);
    if (!layout) throw new Error(`SERE_TORCH_DIR=${process.env.SERE_TORCH_DIR} holds no include/torch/csrc/api/include/torch/torch.h`);
    origin = process.env.SERE_TORCH_DIR;
  } else if (exists('/usr/include/torch/csrc/api/include/torch/torch.h')) {
    layout = { include: '/usr/include', lib: '/usr/lib/x86_64-linux-gnu' };
    origin = 'debian libtorch-dev';
  } else {
    for (const py of ['python3', 'python']) {
      const t = pythonTorch(py);
      if (t && layoutFrom(t.dir)) {
        layout = layoutFrom(t.dir);
        if (abi === undefined) abi = t.abi;
        origin = t.dir;
        break;
      }
    }
  }
  if (!layout) return null;
  if (abi === undefined) {
    const t = pythonTorch('/usr/bin/python3');
    abi = t ? t.abi : 1;
  }
  let version = versionOf(layout.include);
  if (Number.isNaN(version.major)) {
    // Fall back to the Python package's own version string (e.g. "2.11.0+cu130").
    const t = pythonTorch('python3');
    const m = t && /^(\d+)\.(\d+)\.(\d+)/.exec(t.version);
    if (m) version = { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
  }
  const includes = [layout.include, path.join(layout.include, 'torch', 'csrc', 'api', 'include')].filter(
    (p) => p !== '/usr/include',
  );
  includes.push(path.join(layout.include, 'torch', 'csrc', 'api', 'include'));
  const hasCuda = exists(path.join(layout.lib, 'libtorch_cuda.so'));
  const defines = [`_GLIBCXX_USE_CXX11_ABI=${abi}`];
  const libs = ['c10', 'torch_cpu', 'torch'];
  if (hasCuda) {
    defines.push('SERE_WITH_CUDA');
    libs.push('c10_cuda', 'torch_cuda');
    const cudaIncludes = findCudaHeaders(path.dirname(layout.include));
    if (cudaIncludes.length) {
      defines.push('SERE_CUDA_HEADERS');
      includes.push(...cudaIncludes);
    }
  }
  // c10d's collectives (distributed.cc) are built against libtorch 1.x, whose ProcessGroupGloo
  // is a ProcessGroup and whose Gloo headers come from a system package (Debian: libgloo-dev).
  // PyTorch 2.x moved the backends behind c10d::Backend; without a build checked against it,
  // the addon is built with stubs that say so rather than with code that might not compile.
  const glooHeaders = [layout.include, '/usr/include'].some((d) => exists(path.join(d, 'gloo', 'algorithm.h')));
  const c10dHeaders = exists(path.join(layout.include, 'torch', 'csrc', 'distributed', 'c10d', 'ProcessGroupGloo.hpp'));
  const collectives = version.major === 1 && glooHeaders && c10dHeaders;
  if (collectives) defines.push('SERE_HAVE_C10D', 'USE_C10D_GLOO', 'USE_DISTRIBUTED');
  // C++17 builds against Debian's 1.13 and PyTorch 2.11 alike (both checked); SERE_CXX_STD overrides.
  const std = process.env.SERE_CXX_STD || 'c++17';
  return { origin, version, includes: [...new Set(includes)], libDir: layout.lib, libs, defines, std, hasCuda, collectives };
}

module.exports = { torchConfig };
if (require.main === module) console.log(JSON.stringify(torchConfig(), null, 2));
