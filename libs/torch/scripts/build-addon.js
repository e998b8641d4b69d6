#!/usr/bin/env node
// Builds the N-API addon (libs/torch/build/sere_torch.node) with the system C++ compiler.
// We drive g++ directly rather than through node-gyp: node-gyp would fetch Node's headers
// from the internet unless pointed at a local copy, and the only non-trivial part of the
// build — finding libtorch and its flags (Debian's 1.13 or a PyTorch 2.x install with
// CUDA) — is ours either way (torch-config.js). Objects are rebuilt only when a source,
// header or flag changed, and compiled in parallel (SERE_BUILD_JOBS, default up to 4). The
// addon is linked under a temporary name and renamed into place, so a process loading it
// meanwhile sees the old file or the new one, never half of one.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn } = require('child_process');
const { torchConfig } = require('./torch-config');

const root = path.resolve(__dirname, '..');
const nativeDir = path.join(root, 'native');
const buildDir = path.join(root, 'build');
const output = path.join(buildDir, 'sere_torch.node');
const force = process.argv.includes('--force');

function nodeIncludeDir() {
  if (process.env.SERE_NODE_INCLUDE) return process.env.SERE_NODE_INCLUDE;
  return path.join(path.dirname(process.execPath), '..', 'include', 'node');
}

function addonApiDir() {
  if (process.env.SERE_NODE_ADDON_API) return process.env.SERE_NODE_ADDON_API;
  return path.dirname(require.resolve('node-addon-api/package.json', { paths: [root, process.cwd()] }));
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

async function pool(jobs, width) {
  const queue = jobs.slice();
  const workers = Array.from({ length: Math.max(1, width) }, async () => {
    while (queue.length) await queue.shift()();
  });
  await Promise.all(workers);
}

async function main() {
  const cfg = torchConfig();
  if (!cfg) {
    const msg =
      'libtorch not found: install Debian\'s libtorch-dev (with libopenblas0-pthread) or set SERE_TORCH_DIR to a libtorch / PyTorch install. ' +
      'The tensor binding (@sere/torch) will be unavailable; the data service does not need it.';
    if (process.env.SERE_REQUIRE_TORCH === '1') throw new Error(msg);
    console.warn(`[sere/torch] ${msg}`);
    return;
  }
  const cxx = process.env.CXX || 'g++';
  const flags = [
    `-std=${cfg.std}`, '-O2', '-fPIC', '-fvisibility=hidden', '-Wno-deprecated-declarations', '-Wno-unused-parameter',
    '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    ...cfg.defines.map((d) => `-D${d}`),
    `-I${nodeIncludeDir()}`, `-I${addonApiDir()}`,
    ...cfg.includes.map((i) => `-I${i}`),
    // Stand-ins for headers a libtorch install may lack (see native/compat), searched last.
    '-idirafter', path.join(nativeDir, 'compat'),
  ];
  const sources = fs.readdirSync(nativeDir).filter((f) => f.endsWith('.cc')).sort();
  const headers = fs.readdirSync(nativeDir, { recursive: true }).filter((f) => f.endsWith('.h'));
  const headerHash = crypto.createHash('sha1');
  for (const h of headers) headerHash.update(fs.readFileSync(path.join(nativeDir, h)));
  const flagHash = crypto.createHash('sha1').update(cxx + flags.join(' ')).update(headerHash.digest()).digest('hex').slice(0, 12);
  const objDir = path.join(buildDir, `obj-${flagHash}`);
  fs.mkdirSync(objDir, { recursive: true });

  console.log(`[sere/torch] libtorch ${cfg.version.major}.${cfg.version.minor}.${cfg.version.patch} from ${cfg.origin}${cfg.hasCuda ? ' (CUDA)' : ' (CPU)'}`);
  const objects = [];
  const jobs = [];
  for (const src of sources) {
    const srcPath = path.join(nativeDir, src);
    const obj = path.join(objDir, src.replace(/\.cc$/, '.o'));
    objects.push(obj);
    const fresh = !force && fs.existsSync(obj) && fs.statSync(obj).mtimeMs >= fs.statSync(srcPath).mtimeMs;
    if (fresh) continue;
    jobs.push(async () => {
      console.log(`[sere/torch] compiling ${src}`);
      await run(cxx, [...flags, '-c', srcPath, '-o', obj]);
    });
  }
  const width = Number(process.env.SERE_BUILD_JOBS) || Math.min(os.cpus().length, 4);
  await pool(jobs, width);
  const linkFresh = !force && jobs.length === 0 && fs.existsSync(output);
  if (linkFresh) {
    console.log('[sere/torch] addon up to date');
    return;
  }
  const linking = `${output}.tmp-${process.pid}`;
  const linkArgs = [
    '-shared', '-o', linking, ...objects,
    `-L${cfg.libDir}`, `-Wl,-rpath,${cfg.libDir}`,
    // CUDA kernels register themselves from libtorch_cuda's static initialisers, so it must
    // stay linked even though no symbol of it is referenced directly.
    '-Wl,--no-as-needed', ...cfg.libs.map((l) => `-l${l}`), '-Wl,--as-needed',
  ];
  try {
    await run(cxx, linkArgs);
    fs.renameSync(linking, output);
  } finally {
    fs.rmSync(linking, { force: true });
  }
  fs.writeFileSync(path.join(buildDir, 'config.json'), JSON.stringify(cfg, null, 2));
  console.log(`[sere/torch] built ${path.relative(process.cwd(), output)}`);
}

main().catch((e) => {
  console.error(`[sere/torch] build failed: ${e.message}`);
  process.exit(1);
});
