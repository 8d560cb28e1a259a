// Builds the addon with node-gyp against the headers of the node that runs the install, so no header download
// is needed (offline machines): node's prefix holds include/node (distribution packages and official tarballs).
// Without libpcap's headers or a compiler the build fails and npm leaves this optional package out: everything
// but `teardown live` works without it.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const args = ['rebuild'];
if (!process.env.npm_config_nodedir) {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
}
// npm puts its bundled node-gyp on PATH for install scripts; fall back to the one next to npm.
const candidates = [process.env.npm_config_node_gyp, require.resolve.paths('node-gyp') && safeResolve('node-gyp/bin/node-gyp.js'),
  path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')]
  .filter((p) => typeof p === 'string' && existsSync(p));
const r = candidates.length > 0
  ? spawnSync(process.execPath, [candidates[0], ...args], { stdio: 'inherit' })
  : spawnSync('node-gyp', args, { stdio: 'inherit', shell: process.platform === 'win32' });
if (r.error) console.error(`teardown-pcap: ${r.error.message}`);
process.exit(r.status ?? 1);

function safeResolve(id) {
  try {
    return require.resolve(id);
  } catch {
    return undefined;
  }
}
