// handler.stream(): an object-mode Duplex. Writes are task arguments, reads are results. A write
// completes only when the map pulls it, and the map pulls only while its window has room, which
// frees only as results are read: a slow reader pauses the writer, and a slow writer the workers.

import { Duplex } from 'node:stream'

import { ErrorCode, QdmpError } from './errors'
import { checkMapOptions, type MapEngine, type MapOptions, MapRun } from './map'

/** Options of `stream()`: those of `map()`. */
export type StreamOptions = MapOptions

/** A source fed by writes: each written item is handed to the map when it pulls one. */
class Feed<A> implements AsyncIterableIterator<A> {
  readonly #items: { value: A; written: (error?: Error | null) => void }[] = []
  #ended = false
  #waiter: ((result: IteratorResult<A>) => void) | null = null

  push(value: A, written: (error?: Error | null) => void): void {
    if (this.#waiter !== null) {
      const waiter = this.#waiter
      this.#waiter = null
      written()
      waiter({ done: false, value })
    } else {
      this.#items.push({ value, written })
    }
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  end(): void {
    this.#ended = true
    this.#waiter?.({ done: true, value: undefined })
    this.#waiter = null
  }

  next(): Promise<IteratorResult<A>> {
    const item = this.#items.shift()
    if (item !== undefined) {
      item.written() // pulled: the write is complete, the writer may send the next one
      return Promise.resolve({ done: false, value: item.value })
    }
    if (this.#ended) return Promise.resolve({ done: true, value: undefined })
    return new Promise((resolve) => {
      this.#waiter = resolve
    })
  }

  /** The map stopped pulling: pending writes fail, later ones too. */
  return(): Promise<IteratorResult<A>> {
    this.#ended = true
    const error = new QdmpError(ErrorCode.Stopped, 'stream(): the stream ended before this argument was taken')
    for (const item of this.#items.splice(0)) item.written(error)
    return Promise.resolve({ done: true, value: undefined })
  }
}

export function handlerStream<A, R>(engine: MapEngine<A, R>, options: StreamOptions): Duplex {
  const checked = checkMapOptions(options, 'stream()')
  const feed = new Feed<A>()
  const run = new MapRun<A, R, R>(engine, feed, checked, false, 'stream()')
  let reading = false

  const duplex: Duplex = new Duplex({
    objectMode: true,
    write(chunk: A, _encoding, callback) {
      feed.push(chunk, callback)
    },
    final(callback) {
      feed.end()
      callback()
    },
    read() {
      if (reading) return
      reading = true
      void pull()
    },
    destroy(error, callback) {
      void run.return()
      void feed.return()
      callback(error)
    },
  })

  async function pull(): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await run.next()
        if (done === true) {
          duplex.push(null)
          return
        }
        if (!duplex.push(value)) {
          reading = false // resume on the next read()
          return
        }
      }
    } catch (error) {
      duplex.destroy(error as Error)
    }
  }

  return duplex
}
