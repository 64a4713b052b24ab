// Writes app/renderer/static/js/api-routes.mjs from the call table (app/station/api-routes-module.ts says why).
// Run: node scripts/run-ts.js scripts/write-api-routes.ts
import { replaceFileAtomically } from '../lib/durable-fs';
import { API_ROUTES_MODULE, apiRoutesModuleText } from '../app/station/api-routes-module';

replaceFileAtomically(API_ROUTES_MODULE, apiRoutesModuleText());
process.stdout.write(`wrote ${API_ROUTES_MODULE}\n`);
