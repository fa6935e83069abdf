/**
 * Reads a ZIP archive front to back as its bytes arrive, by the local header before each entry: the
 * central directory, which lists the entries, is at the end of the file and a stream cannot seek to it.
 * Entries are handed on one at a time, decompressed as they are read (stored or deflated, with node:zlib).
 *
 * An entry written in one pass (as Excel's streaming writers and exceljs's WorkbookWriter do) has its
 * sizes in a data descriptor after its data rather than in its header. Such an entry ends where its
 * deflate stream ends; zlib reports how many input bytes the stream took, and the bytes it did not take
 * are the descriptor and the next header.
 */
import { createInflateRaw, type InflateRaw } from 'node:zlib';

const LOCAL_FILE_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
/** Where the entries end: the central directory, or the end records of an archive without entries. */
const END_OF_ENTRIES = new Set([0x02014b50, 0x06054b50, 0x06064b50]);
const STORED = 0;
const DEFLATED = 8;
const FLAG_ENCRYPTED = 0x1;
const FLAG_DATA_DESCRIPTOR = 0x8;
const ZIP64_EXTRA_FIELD = 0x0001;
/** The most compressed bytes handed to zlib at once; bounds what one step can inflate to. */
const PIECE = 64 * 1024;

/** The bytes are not a ZIP archive this reader can read; `message` says why. */
export class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
}

export interface ZipEntry {
  /** The name as stored, with `\` (written by some Windows tools) read as `/`. */
  name: string;
  /**
   * The decompressed content, readable once. The entry must be read to its end before the next one is
   * asked for; an entry whose content is never asked for is skipped.
   */
  content(): AsyncIterable<Buffer>;
}

/** The entries of the archive in `source`, in the order they are stored. */
export async function* zipEntries(source: AsyncIterable<Buffer | string>): AsyncGenerator<ZipEntry> {
  const bytes = new ByteQueue(source);
  try {
    for (;;) {
      const signature = (await bytes.read(4))?.readUInt32LE(0);
      if (signature === undefined) throw truncated();
      if (END_OF_ENTRIES.has(signature)) return;
      if (signature !== LOCAL_FILE_HEADER) throw new ZipFormatError('no entry header where one belongs');
      const header = await bytes.readFully(26);
      const flags = header.readUInt16LE(2);
      const method = header.readUInt16LE(4);
      const name = (await bytes.readFully(header.readUInt16LE(22))).toString('utf8').replaceAll('\\', '/');
      const extra = await bytes.readFully(header.readUInt16LE(24));
      if ((flags & FLAG_ENCRYPTED) !== 0) throw new ZipFormatError(`${name} is encrypted`);
      if (method !== STORED && method !== DEFLATED) throw new ZipFormatError(`${name}: compression method ${method}`);
      const zip64 = zip64Sizes(extra, header.readUInt32LE(18), header.readUInt32LE(14));
      const described = (flags & FLAG_DATA_DESCRIPTOR) !== 0;
      const size = described ? undefined : header.readUInt32LE(14) === 0xffffffff ? zip64?.compressed : header.readUInt32LE(14);
      if (size === undefined && (method === STORED || !described)) throw new ZipFormatError(`${name}: no size`);

      const reading = { started: false, finished: false };
      const read = async function* (): AsyncGenerator<Buffer> {
        yield* method === DEFLATED ? inflated(bytes, size) : stored(bytes, size!);
        reading.finished = true;
      };
      yield {
        name,
        content: () => {
          if (reading.started) throw new Error(`${name} read twice`);
          reading.started = true;
          return read();
        },
      };
      if (!reading.started) {
        if (size !== undefined) await bytes.skip(size);
        else for await (const _chunk of inflated(bytes, undefined)); // the end is found only by inflating
      } else if (!reading.finished) {
        throw new Error(`${name} not read to its end`);
      }
      if (described) await skipDataDescriptor(bytes, zip64 !== undefined);
    }
  } finally {
    await bytes.close();
  }
}

/** The 64-bit sizes of a ZIP64 entry, from its extra field; undefined when it has none. */
function zip64Sizes(extra: Buffer, uncompressed32: number, compressed32: number): { compressed?: number } | undefined {
  for (let at = 0; at + 4 <= extra.length; at += 4 + extra.readUInt16LE(at + 2)) {
    if (extra.readUInt16LE(at) !== ZIP64_EXTRA_FIELD) continue;
    // The field holds only the sizes whose 32-bit header fields are 0xFFFFFFFF, uncompressed first.
    let field = at + 4;
    if (uncompressed32 === 0xffffffff) field += 8;
    const compressed = compressed32 === 0xffffffff && field + 8 <= extra.length ? Number(extra.readBigUInt64LE(field)) : undefined;
    return compressed === undefined ? {} : { compressed };
  }
  return undefined;
}

/** CRC and sizes (64-bit in a ZIP64 entry), after an optional signature. */
async function skipDataDescriptor(bytes: ByteQueue, zip64: boolean): Promise<void> {
  const first = await bytes.readFully(4);
  await bytes.skip((first.readUInt32LE(0) === DATA_DESCRIPTOR ? 4 : 0) + (zip64 ? 16 : 8));
}

async function* stored(bytes: ByteQueue, size: number): AsyncGenerator<Buffer> {
  for (let remaining = size; remaining > 0; ) {
    const chunk = await bytes.next(Math.min(remaining, PIECE));
    if (chunk === undefined) throw truncated();
    remaining -= chunk.length;
    yield chunk;
  }
}

/**
 * Inflates an entry's deflate stream. With `size` the entry is that many compressed bytes; without it
 * the stream's own end is the entry's end, and what zlib did not take is put back for the next read.
 */
async function* inflated(bytes: ByteQueue, size: number | undefined): AsyncGenerator<Buffer> {
  const inflater = createInflateRaw();
  let fed = 0;
  let last: Buffer = Buffer.alloc(0);
  let stop = false;
  // Feeding runs beside the reading below, so zlib's backpressure (it pauses while its output is unread) cannot deadlock.
  const feeding = (async () => {
    try {
      while (!stop) {
        const want = size === undefined ? PIECE : Math.min(PIECE, size - fed);
        if (want === 0) break;
        const chunk = await bytes.next(want);
        if (chunk === undefined) {
          if (size !== undefined) throw truncated();
          break; // zlib reports a deflate stream cut short when it is ended
        }
        fed += chunk.length;
        last = chunk;
        await write(inflater, chunk);
        // zlib counts the bytes it consumed; fewer than were fed means the deflate stream ended in this chunk.
        if (inflater.bytesWritten < fed) break;
      }
      inflater.end();
    } catch (error) {
      inflater.destroy(error as Error);
    }
  })();
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
  } finally {
    stop = true;
    await feeding;
  }
  // Read to the end: zlib's count is final once its stream has ended.
  const unused = fed - inflater.bytesWritten;
  if (size === undefined) {
    if (unused > 0) bytes.unshift(last.subarray(last.length - unused));
  } else if (fed < size) {
    await bytes.skip(size - fed); // a deflate stream that ends before its entry does
  }
}

/**
 * Settles when zlib has taken `chunk`, or when the stream is closed: a write zlib holds back (its output is
 * unread) is never called back once the reader has stopped and destroyed the stream.
 */
function write(stream: InflateRaw, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const closed = () => reject(new Error('the inflater was closed'));
    stream.once('close', closed);
    stream.write(chunk, (error) => {
      stream.off('close', closed);
      if (error) reject(error);
      else resolve();
    });
  });
}

function truncated(): ZipFormatError {
  return new ZipFormatError('the archive is incomplete');
}

/** The source's bytes, read in the amounts the format asks for, with room to put back what was read ahead. */
class ByteQueue {
  readonly #source: AsyncIterator<Buffer | string>;
  #buffered: Buffer = Buffer.alloc(0);
  #ended = false;

  constructor(source: AsyncIterable<Buffer | string>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  /** Up to `max` bytes: what is buffered, else the next chunk of the source; undefined at its end. */
  async next(max: number): Promise<Buffer | undefined> {
    if (this.#buffered.length === 0) {
      const chunk = await this.#pull();
      if (chunk === undefined) return undefined;
      this.#buffered = chunk;
    }
    const out = this.#buffered.subarray(0, max);
    this.#buffered = this.#buffered.subarray(out.length);
    return out;
  }

  /** Exactly `length` bytes, or undefined when the source ends first. */
  async read(length: number): Promise<Buffer | undefined> {
    while (this.#buffered.length < length) {
      const chunk = await this.#pull();
      if (chunk === undefined) return undefined;
      this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    }
    const out = this.#buffered.subarray(0, length);
    this.#buffered = this.#buffered.subarray(length);
    return out;
  }

  async readFully(length: number): Promise<Buffer> {
    const out = await this.read(length);
    if (out === undefined) throw truncated();
    return out;
  }

  async skip(length: number): Promise<void> {
    for (let remaining = length; remaining > 0; ) {
      const chunk = await this.next(remaining);
      if (chunk === undefined) throw truncated();
      remaining -= chunk.length;
    }
  }

  unshift(bytes: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? bytes : Buffer.concat([bytes, this.#buffered]);
  }

  async close(): Promise<void> {
    await this.#source.return?.();
  }

  async #pull(): Promise<Buffer | undefined> {
    if (this.#ended) return undefined;
    const result = await this.#source.next();
    if (result.done) {
      this.#ended = true;
      return undefined;
    }
    return typeof result.value === 'string' ? Buffer.from(result.value) : result.value;
  }
}
