#!/usr/bin/env bash
# Vendor YASGUI's built assets into the package (docs/server.md, "The query page").
# Usage: tools/vendor-yasgui.sh [VERSION]   (needs node and npm; reaches only the npm registry)
# Installs @zazuko/yasgui from the npm registry into a scratch directory, copies its two
# built files (yasgui.min.js, yasgui.min.css) to src/khalis_kg/static/yasgui/, and writes
# LICENSE there: YASGUI's MIT licence and the licence of every package in its production
# dependency tree, which the bundle is built from. Prints the tarball's integrity and the
# files' SHA-256 for docs/server.md.
set -euo pipefail
VERSION="${1:-4.6.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/src/khalis_kg/static/yasgui"
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
cd "$SCRATCH"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "@zazuko/yasgui@$VERSION" >/dev/null
BUILD=node_modules/@zazuko/yasgui/build
mkdir -p "$DEST"
cp "$BUILD/yasgui.min.js" "$BUILD/yasgui.min.css" "$DEST/"
{
  echo "YASGUI $VERSION (npm: @zazuko/yasgui, https://github.com/rdfjs/Yasgui)"
  echo "Copyright (c) Triply B.V. and Zazuko GmbH (package authors and contributors)"
  echo
  # The npm package carries no LICENSE file; its package.json says MIT. This is the
  # MIT text of the repository's LICENSE.
  cat <<'MIT'
The MIT License (MIT)

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.
MIT
  echo
  echo "Packages bundled in yasgui.min.js and yasgui.min.css (npm ls --all --omit=dev),"
  echo "each with the licence its package.json declares and the licence file it ships:"
  npm ls --all --omit=dev --parseable | tail -n +2 | sort -u | while read -r dir; do
    node -e 'const p = require(process.argv[1] + "/package.json");
      const l = typeof p.license === "string" ? p.license : JSON.stringify(p.license || p.licenses || "see below");
      console.log(`\n======== ${p.name}@${p.version}: ${l} ========`);' "$dir"
    file="$(find "$dir" -maxdepth 1 -type f -iregex '.*/\(licen[cs]e\|copying\)\(\.[a-z]*\)?' | sort | head -1)"
    if [ -n "$file" ]; then cat "$file"; else echo "(no licence file in the package)"; fi
  done
} > "$DEST/LICENSE"
echo "tarball: $(npm view "@zazuko/yasgui@$VERSION" dist.integrity)"
cd "$DEST" && sha256sum yasgui.min.js yasgui.min.css && du -ch yasgui.min.js yasgui.min.css LICENSE | tail -1
