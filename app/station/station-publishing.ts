import { loadChainsConfig } from '../chain/chains-config';
import { publishBatches } from '../chain/publish';
import { unlockStationWallet } from '../chain/station-wallet';
import type { AuditEventType } from '../ledger/events';
import type { DataLayout } from '../ledger/layout';
import type { ApiResult, CommandOutcome, Role } from './api';

/** What the captain's 'publish' needs from the station. */
export interface PublishDeps {
  readonly layout: DataLayout;
  /** chains.json; without it publishing is refused with the CLI to use */
  readonly chains: string | undefined;
  readonly stationPassphrase: string;
  /** sign only: the signed transactions are written for broadcast from another machine */
  readonly offline: boolean;
  event(type: AuditEventType, role: Role, detail: Record<string, string | number | boolean>): void;
  /** moves the polls to 'published' (once every batch is out) */
  moveToPublished(role: Role): Promise<ApiResult<CommandOutcome>>;
}

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
const refused = <T>(code: string, message: string): ApiResult<T> => ({ ok: false, error: { code, message } });

/**
 * Publishes the official ledger's closed batches (app/chain/publish.ts): the polls move to 'published' only
 * when every batch is out; a publication under way says so and is given again later.
 */
export async function publishOfficial(d: PublishDeps, role: Role): Promise<ApiResult<CommandOutcome>> {
  if (d.chains === undefined) {
    return refused('publish-not-configured', 'this station has no chains.json: publish from the data directory with `tallyproof publish --data <dir> --chains chains.json`');
  }
  try {
    const chains = loadChainsConfig(d.chains);
    const wallet = unlockStationWallet(d.layout.stationKey, d.stationPassphrase);
    const report = await publishBatches({ dataDir: d.layout.root, mode: 'official', chains, wallet, offline: d.offline });
    if (!report.done) d.event('publish', role, { batches: report.batches.length, done: false, errors: report.errors.length });
    if (report.errors.length > 0) return refused('publish-failed', report.errors.map((e) => `${e.role}${e.batch === null ? '' : ` batch ${e.batch}`}: ${e.message}`).join('; '));
    if (!report.done) return ok({ message: `Publishing is under way: ${report.waiting.map((w) => w.message).join('; ') || 'waiting for the chain'}. Publish again later.`, file: report.outbox });
    const moved = await d.moveToPublished(role);
    if (!moved.ok) return moved;
    return ok({ message: `Published ${report.batches.length} batch(es)${report.offline ? ' (signed offline: broadcast the signed files)' : ''}.`, file: report.publications[0] ?? report.outbox });
  } catch (e) {
    return refused('publish-failed', (e as Error).message);
  }
}
