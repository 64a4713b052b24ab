/** `tallyproof` as a child process from the sources (node scripts/run-ts.js test/kiosk/support/cli-child.ts station …). */
import { main } from '../../../app/cli/main';

main();
