/**
 * Typed failures of the publishing side. Each message names what failed so an operator can act on it
 * without a stack trace: the node (profile name and URL, never the password) and the RPC method, the
 * chains.json path, or the batch and transaction.
 */

export type RpcErrorKind = 'unreachable' | 'timeout' | 'auth' | 'http' | 'rpc' | 'bad-response';

export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly kind: RpcErrorKind,
    /** profile name of the node, e.g. "records" or "anchor" */
    readonly node: string,
    /** the endpoint without credentials */
    readonly url: string,
    readonly method: string,
    detail: string,
    /** JSON-RPC error code (kind "rpc") or HTTP status (kind "http", "auth") */
    readonly code?: number,
  ) {
    super(`node "${node}" (${url}) ${method}: ${detail}`);
  }
}

export interface ConfigIssue {
  /** JSON path, e.g. "anchor.rpc.url" */
  readonly path: string;
  readonly message: string;
}

export class ChainConfigError extends Error {
  override readonly name = 'ChainConfigError';
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`${file}: ${issues.map((i) => `${i.path === '' ? '(top level)' : i.path}: ${i.message}`).join('; ')}`);
  }
}

export type PublishErrorKind =
  /** invariant 5: a test-mode ledger and a live chain, or a node on another network than its profile says */
  | 'mode'
  /** not enough coins at the station's address on a chain */
  | 'funds'
  /** the outbox or a batch disagrees with the ledger or with itself */
  | 'conflict'
  /** the ledger does not verify, so nothing of it is published */
  | 'ledger'
  /** a signed transaction the node refused for a reason retrying will not fix */
  | 'rejected'
  /** the outbox file is unreadable, of another schema, or of another mode */
  | 'outbox'
  /** a funding or signed-transaction file is malformed */
  | 'input';

export class PublishError extends Error {
  override readonly name = 'PublishError';
  constructor(
    readonly kind: PublishErrorKind,
    message: string,
  ) {
    super(message);
  }
}
