#!/bin/sh
# The hvmm command line: help, version, unknown commands — readable, non-zero.
. "$(dirname "$0")/lib.inc"
expect_ok      "help"            "$HVMM" help
expect_out     "usage: hvmm"     "$HVMM" --help
expect_out     "hvmm 0"          "$HVMM" version
expect_fail 2  "no command"      "$HVMM"
expect_fail 2  "unknown command" "$HVMM" frobnicate
expect_err     "unknown command" "$HVMM" frobnicate
finish
