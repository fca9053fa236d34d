#!/usr/bin/env node
// Committed shim so pnpm can link the command before the first build; the code lives in dist/, bundled
// into one file by pnpm build (scripts/bundle-services.mjs: a fraction of the start-up CPU and memory).
await import('../dist/main.bundle.mjs');
