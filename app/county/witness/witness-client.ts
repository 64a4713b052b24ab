import { openNote, type NoteSignature, type Verifier } from '../tlog/note';
import { TlogError } from '../tlog/stored-hashes';

/**
 * The log's side of tlog-witness: ask one witness to cosign a checkpoint. The log remembers the size each
 * witness last cosigned; a 409 tells it the witness's real size, and it asks once more with a proof from
 * there. Only cosignatures by the witness's configured key are taken from the answer.
 */

export interface WitnessEndpoint {
  readonly url: string;
  readonly key: Verifier;
}

export type CosignOutcome =
  | { readonly ok: true; readonly cosignature: NoteSignature }
  | { readonly ok: false; readonly reason: string };

export interface CosignRequest {
  /** the signed checkpoint note */
  readonly note: string;
  readonly size: number;
  /** consistency proof from an older size, by the log */
  readonly proofFrom: (oldSize: number) => Uint8Array[];
}

export class WitnessClient {
  private known = 0;

  constructor(
    readonly endpoint: WitnessEndpoint,
    private readonly timeoutMs = 5000,
  ) {}

  async cosign(req: CosignRequest): Promise<CosignOutcome> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const old = Math.min(this.known, req.size);
      const body = `old ${old}\n${req.proofFrom(old).map((h) => `${Buffer.from(h).toString('base64')}\n`).join('')}\n${req.note}`;
      let res: Response;
      try {
        res = await fetch(`${this.endpoint.url}/add-checkpoint`, { method: 'POST', body, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (e) {
        return { ok: false, reason: `${this.endpoint.key.name} did not answer: ${(e as Error).message}` };
      }
      const text = await res.text();
      if (res.status === 409 && res.headers.get('content-type') === 'text/x.tlog.size' && /^(0|[1-9]\d{0,15})\n$/.test(text)) {
        const size = Number(text.trim());
        if (size > req.size) return { ok: false, reason: `${this.endpoint.key.name} has cosigned a larger tree (${size}) than this log has (${req.size})` };
        this.known = size;
        continue;
      }
      if (res.status !== 200) return { ok: false, reason: `${this.endpoint.key.name} refused (${res.status}): ${text.trim().slice(0, 200)}` };
      const opened = openNote(`${req.note}${text}`, [this.endpoint.key]);
      if (opened instanceof TlogError) return { ok: false, reason: `${this.endpoint.key.name}'s answer: ${opened.message}` };
      const cosignature = opened.verified[0];
      if (cosignature === undefined) return { ok: false, reason: `${this.endpoint.key.name} sent no cosignature by its key` };
      this.known = req.size;
      return { ok: true, cosignature };
    }
    return { ok: false, reason: `${this.endpoint.key.name} kept changing its size` };
  }
}
