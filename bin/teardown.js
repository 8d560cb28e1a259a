#!/usr/bin/env -S node --max-semi-space-size=64
// A larger young generation: per-connection state churns through it (measured ~8% faster on 3.5 M packets).
import '../dist/cli/main.js';
