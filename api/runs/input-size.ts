/**
 * The size Temporal sees of a workflow's input: the arguments converted and encoded (encrypted) exactly as the
 * start sends them, counted as payload bytes (data plus metadata), which is what the server's blob size limit
 * (2 MiB by default) measures. A run that would be refused there is refused by the API first, with a reason.
 */
import { defaultPayloadConverter, type PayloadCodec } from "@temporalio/common";
import { ApiError } from "../errors.ts";

export async function encodedInputBytes(args: unknown[], codec?: PayloadCodec): Promise<number> {
  let payloads = args.map((v) => defaultPayloadConverter.toPayload(v));
  if (codec) payloads = await codec.encode(payloads);
  let bytes = 0;
  for (const p of payloads) {
    bytes += p.data?.byteLength ?? 0;
    for (const [key, value] of Object.entries(p.metadata ?? {})) bytes += key.length + (value?.byteLength ?? 0);
  }
  return bytes;
}

/** Throws 413 GRAPH_TOO_LARGE when the encoded input is over the engine's limit. */
export async function assertStartable(args: unknown[], codec: PayloadCodec | undefined, maxBytes: number) {
  const bytes = await encodedInputBytes(args, codec);
  if (bytes > maxBytes) {
    throw new ApiError(
      "GRAPH_TOO_LARGE",
      `the run cannot be started: its graph snapshot, input and reused outputs encode to ${bytes} bytes, and the ` +
        `workflow engine accepts at most ${maxBytes} bytes of workflow input; make node configs or the input smaller ` +
        `(large data belongs in a source a node fetches, not in the graph)`,
      { encoded_bytes: bytes, max_bytes: maxBytes },
    );
  }
}
