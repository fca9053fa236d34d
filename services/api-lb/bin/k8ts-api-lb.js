#!/usr/bin/env node
// Committed shim so pnpm can link the command before the first build; the code lives in dist/.
await import('../dist/main.js');
