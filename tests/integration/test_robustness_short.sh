#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The CI-sized run of the robustness suite (tests/robustness/README.md): the nftables rule
# self-check, then zpath <-> Linux over net_tap, zpath <-> zpath over net_memif and the Linux
# <-> Linux reference under 5 % loss, 5 % duplication, 1 % corruption, 25 % reordering and all
# faults together (with 20 ms +- 5 ms delay), 8 MiB each way (2 MiB for "all"), each transfer
# verified by SHA-256 and failed if it stalls for 30 s. About 2.5 minutes on 2 cores.
# zpath-it-timeout: 900
# Exit 0 pass, 77 skip (a facility is missing: it says which), anything else fail.
#
#   sudo ZPATH_BUILD=build bash tests/integration/test_robustness_short.sh
exec bash "$(dirname "${BASH_SOURCE[0]}")/../robustness/run.sh" --short "$@"
