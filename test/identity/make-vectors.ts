import fs from 'node:fs';
import path from 'node:path';
import { computeVectors } from './vectors';

// Regenerates vectors.json; run only after an intended change of an encoding (see vectors.ts).
const file = path.join(__dirname, 'vectors.json');
fs.writeFileSync(file, `${JSON.stringify(computeVectors(), null, 2)}\n`);
process.stdout.write(`wrote ${file}\n`);
