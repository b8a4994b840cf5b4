/**
 * A FIFO of byte arrays that hands out exact-length slices. Each input byte is copied at most
 * once, so feeding a stream one byte at a time stays linear; a slice that lies inside one input
 * array is returned as a view without copying.
 */
export class ByteQueue {
  private parts: Uint8Array[] = [];

  private headIndex = 0;

  private headOffset = 0;

  private queuedBytes = 0;

  /** Bytes queued and not yet taken. */
  get length(): number {
    return this.queuedBytes;
  }

  /**
   * Appends bytes. The queue keeps a reference, so the caller must not reuse the array.
   *
   * @param bytes - the bytes to append
   */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) {
      return;
    }
    this.parts.push(bytes);
    this.queuedBytes += bytes.length;
  }

  /**
   * Returns the first bytes without removing them.
   *
   * @param count - how many bytes; at most `length`
   */
  peek(count: number): Uint8Array {
    return this.read(count, false);
  }

  /**
   * Removes and returns the first bytes.
   *
   * @param count - how many bytes; at most `length`
   */
  take(count: number): Uint8Array {
    return this.read(count, true);
  }

  private read(count: number, consume: boolean): Uint8Array {
    if (count > this.queuedBytes) {
      throw new RangeError('count must not exceed the queued length');
    }

    const head = this.parts[this.headIndex];
    if (head !== undefined && head.length - this.headOffset >= count) {
      const view = head.subarray(this.headOffset, this.headOffset + count);
      if (consume) {
        this.advance(count);
      }
      return view;
    }

    const out = new Uint8Array(count);
    let written = 0;
    let partIndex = this.headIndex;
    let offset = this.headOffset;
    while (written < count) {
      const part = this.parts[partIndex];
      const piece = Math.min(part.length - offset, count - written);
      out.set(part.subarray(offset, offset + piece), written);
      written += piece;
      partIndex++;
      offset = 0;
    }
    if (consume) {
      this.advance(count);
    }
    return out;
  }

  private advance(count: number): void {
    let remaining = count;
    while (remaining > 0) {
      const available = this.parts[this.headIndex].length - this.headOffset;
      if (remaining < available) {
        this.headOffset += remaining;
        break;
      }
      remaining -= available;
      this.headIndex++;
      this.headOffset = 0;
    }
    this.queuedBytes -= count;

    // Drop spent parts now and then rather than shifting the array on every read.
    if (this.queuedBytes === 0) {
      this.parts = [];
      this.headIndex = 0;
      this.headOffset = 0;
    } else if (this.headIndex > 1024 && this.headIndex * 2 > this.parts.length) {
      this.parts = this.parts.slice(this.headIndex);
      this.headIndex = 0;
    }
  }
}
