#!/usr/bin/env bash
# The prepared GPU run (issue 31), from the repository root on the GPU machine:
#   bash recipes/campaigns/device.sh MINUTES
# Needs the bundle (`make gpu-bundle`, carried as .gpu). Installs the carried wheels, then runs the
# campaign queue recipes/campaigns/gpu.json for MINUTES from recipes/campaigns/state/. (RAM's training
# throughput against the PyTorch reference was timed once, docs/training.md; it is not repeated.)
# Everything it returns is under $OUT: campaign.json, campaign.tar.NNN.
set -uo pipefail
minutes=${1:?usage: device.sh MINUTES}
out=${OUT:?set OUT to the folder that comes back}
start=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/wheels/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=2
. .gpu/env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
left=$(python3 -c "print(round($minutes - ($(date +%s) - $start) / 60, 2))")
echo "campaign: $left minutes"
python3 -m recipes.campaign recipes/campaigns/gpu.json --minutes "$left" --out "$out" --state recipes/campaigns/state --work /tmp/campaign
