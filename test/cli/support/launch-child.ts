/** bin/tallyproof from the sources: node scripts/run-ts.js test/cli/support/launch-child.ts station … */
import path from 'node:path';
import { launch } from '../../../app/cli/launch';

launch([path.join(__dirname, '..', '..', '..', 'scripts', 'run-ts.js'), __filename]);
