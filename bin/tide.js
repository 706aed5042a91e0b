#!/usr/bin/env node
// The `tide` command. Tide ships as TypeScript and runs through tsx's loader, so no build step
// stands between a checkout and a working CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
