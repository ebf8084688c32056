// jest: `describe`/`it` are globals, so `runProviderConformance(acmeConformance)` is enough; passing
// them checks that jest's own types fit the harness under strict TypeScript.
import { runProviderConformance } from '@payhook/core/testing';
import { acmeConformance } from './fixtures';

runProviderConformance(acmeConformance, { describe, it });
