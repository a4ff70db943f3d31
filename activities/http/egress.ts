/**
 * The one path every outbound request from a node takes. Response bodies are read with a size cap so a
 * huge answer fails the node instead of the worker. (SSRF rules are added here, and only here.)
 */

export interface EgressRequest {
  url: URL;
  method: string;
  headers: Headers;
  body?: string;
  signal: AbortSignal;
  maxResponseBytes: number;
}

export interface EgressResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response body is larger than ${limit} bytes`);
    this.name = "ResponseTooLargeError";
  }
}

export async function egressFetch(req: EgressRequest): Promise<EgressResponse> {
  const response = await fetch(req.url, {
    method: req.method,
    headers: req.headers,
    body: req.body,
    signal: req.signal,
    redirect: "follow",
  });
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > req.maxResponseBytes) {
    await response.body?.cancel();
    throw new ResponseTooLargeError(req.maxResponseBytes);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > req.maxResponseBytes) {
        await response.body.cancel().catch(() => {});
        throw new ResponseTooLargeError(req.maxResponseBytes);
      }
      chunks.push(chunk);
    }
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { status: response.status, headers: response.headers, body };
}
