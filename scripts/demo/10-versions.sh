#!/usr/bin/env bash
# cube-versions: placeholder until the matrix lands.
set -euo pipefail
say "cube-versions: every tool carries one version line"
run cube-versions --version
