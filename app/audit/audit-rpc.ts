import { z } from 'zod';

/**
 * The few read-only calls `audit verify --rpc` makes, with nothing of the publisher's client: an auditor's
 * tool should depend on as little of the station's software as it can. Credentials ride in the URL
 * (http://user:password@host:port/) and go out as Basic auth.
 */

export class AuditRpcError extends Error {
  override readonly name = 'AuditRpcError';
}

export interface AuditNode {
  readonly url: string;
  call<T>(method: string, params: readonly unknown[], schema: z.ZodType<T>): Promise<T>;
}

const ResponseSchema = z.object({ result: z.unknown(), error: z.object({ code: z.number(), message: z.string() }).nullable().optional() });

export function auditNode(rawUrl: string, timeoutMs = 15_000): AuditNode {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new AuditRpcError(`--rpc ${rawUrl}: not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AuditRpcError(`--rpc ${rawUrl}: only http and https nodes`);
  const auth = url.username !== '' ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}` : undefined;
  url.username = '';
  url.password = '';
  const shown = url.toString();
  return {
    url: shown,
    async call<T>(method: string, params: readonly unknown[], schema: z.ZodType<T>): Promise<T> {
      let res: Response;
      try {
        res = await fetch(shown, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(auth !== undefined ? { authorization: auth } : {}) },
          body: JSON.stringify({ jsonrpc: '1.0', id: method, method, params }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        throw new AuditRpcError(`node ${shown} ${method}: ${(e as Error).message}`);
      }
      const text = await res.text();
      let body: z.infer<typeof ResponseSchema>;
      try {
        body = ResponseSchema.parse(JSON.parse(text));
      } catch {
        throw new AuditRpcError(`node ${shown} ${method}: HTTP ${res.status} ${text.slice(0, 160)}`);
      }
      if (body.error) throw new AuditRpcError(`node ${shown} ${method}: ${body.error.message} (code ${body.error.code})`);
      const parsed = schema.safeParse(body.result);
      if (!parsed.success) throw new AuditRpcError(`node ${shown} ${method}: unexpected answer ${JSON.stringify(body.result).slice(0, 160)}`);
      return parsed.data;
    },
  };
}
