// vitest: `vitest run test/conformance.vitest.ts`
import { describe, it } from 'vitest';
import { runProviderConformance } from '@payhook/core/testing';
import { acmeConformance } from './fixtures';

runProviderConformance(acmeConformance, { describe, it });
