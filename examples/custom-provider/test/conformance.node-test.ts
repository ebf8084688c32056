// node:test: `node --import tsx --test test/conformance.node-test.ts`
import { describe, it } from 'node:test';
import { runProviderConformance } from '@payhook/core/testing';
import { acmeConformance } from './fixtures';

runProviderConformance(acmeConformance, { describe, it });
