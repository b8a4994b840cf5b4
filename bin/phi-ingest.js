#!/usr/bin/env node
// Runs the TypeScript CLI from source through tsx, so a clone works after `npm ci` alone.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../pipeline/cli.ts');
await main(process.argv);
