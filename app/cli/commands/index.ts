import type { RegisterCommand } from '../context';
import { registerAdjudicate } from './adjudicate';
import { registerAudit } from './audit';
import { registerBallots } from './ballots';
import { registerCounty, registerWitness } from './county';
import { registerCountyExport } from './county-export';
import { registerDemo } from './demo';
import { registerElection } from './election';
import { registerImages } from './images';
import { registerInterpret } from './interpret';
import { registerLedger } from './ledger';
import { registerPublish } from './publish';
import { registerStation } from './station';
import { registerTape } from './tape';
import { registerTestdeck } from './testdeck';

/** Every `tallyproof` subcommand, in the order `--help` lists them. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerElection,
  registerBallots,
  registerTestdeck,
  registerDemo,
  registerInterpret,
  registerStation,
  registerLedger,
  registerAdjudicate,
  registerCountyExport,
  registerImages,
  registerTape,
  registerPublish,
  registerAudit,
  registerCounty,
  registerWitness,
];
