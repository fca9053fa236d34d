#!/usr/bin/env node
// Committed shim so pnpm can link the command before the first build; the code lives in dist/, bundled
// into one file by pnpm build (scripts/bundle-services.mjs: a fraction of the start-up CPU and memory).
// The young generation keeps V8's initial 1 MiB semi-spaces instead of growing them (to 8 MiB each
// in an idle cluster): ~14 MiB less RSS. V8 reads this flag whenever it would grow them, so it can
// be set here at run time (--max-semi-space-size cannot). Not for the store and the apiserver:
// there it cost ~10% more CPU per request under k8ts bench store.
import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--semi-space-growth-factor=1');
await import('../dist/main.bundle.mjs');
