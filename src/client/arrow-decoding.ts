import { tableFromIPC, type Table } from 'apache-arrow';

/**
 * Decodes an Arrow IPC stream while it arrives. apache-arrow 21 given a web ReadableStream
 * swallows the stream's error and returns the rows decoded so far, so a result the server or the
 * network broke off would look complete; given an async iterable it rethrows. Hence the body is
 * handed over as an async generator, and any read error is rethrown here as well in case a future
 * version swallows it again.
 */
export async function tableFromArrowStream(body: ReadableStream<Uint8Array>): Promise<Table> {
  let failure: { readonly error: unknown } | undefined;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const reader = body.getReader();
    let finished = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          finished = true;
          return;
        }
        yield value;
      }
    } catch (error) {
      failure = { error };
      throw error;
    } finally {
      // The decoder stopped early (end-of-stream marker) or failed: release the connection.
      if (!finished && failure === undefined) await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
  }
  const table = await tableFromIPC(chunks());
  if (failure !== undefined) throw failure.error;
  return table;
}
