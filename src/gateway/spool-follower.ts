import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Reads a file while another writer (DuckDB's COPY) is still appending to it, and ends once the
 * writer has finished and every byte was read. DuckDB writes CSV strictly sequentially, so the
 * bytes seen so far are always a prefix of the final file.
 */
export async function* followFile(file: string, writer: Promise<unknown>, signal: AbortSignal, chunkSize = 1 << 20): AsyncGenerator<Buffer> {
  let finished = false;
  writer.then(
    () => { finished = true; },
    () => { finished = true; },
  );
  let handle: FileHandle | undefined;
  let wait = 1;
  while (handle === undefined) {
    if (signal.aborted) return;
    const writerWasDone = finished;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (writerWasDone) return; // the writer ended without creating the file (it failed early)
      await sleep(wait);
      wait = Math.min(wait * 2, 20);
    }
  }
  try {
    let position = 0;
    wait = 1;
    for (;;) {
      if (signal.aborted) return;
      // Read the flag before reading: if the writer was done then, this read sees its last byte.
      const writerWasDone = finished;
      const buffer = Buffer.allocUnsafe(chunkSize);
      const { bytesRead } = await handle.read(buffer, 0, chunkSize, position);
      if (bytesRead > 0) {
        position += bytesRead;
        wait = 1;
        yield buffer.subarray(0, bytesRead);
        continue;
      }
      if (writerWasDone) return;
      await sleep(wait);
      wait = Math.min(wait * 2, 20);
    }
  } finally {
    await handle.close();
  }
}
