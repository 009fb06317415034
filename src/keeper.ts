// The keeper: a small thread that holds the memory of moved buffers while they are pinned, so
// that the memory lies outside the producer's heap, and drops each one when told, leaving the
// freeing to its own garbage collector. Why the producer cannot hold them itself, and why the
// memory must not be freed at once either, is in pins.ts.

import { Worker } from 'node:worker_threads'

import type { Logger } from './logger'

// Messages, in order on one port: `[pin, buffer]` (the buffer transferred) holds `buffer` under
// `pin`; `{ letGo: pins }` drops those. The order matters: a pin is let go only after it was held.
const SOURCE = `
const { parentPort } = require('node:worker_threads')
const held = new Map()
parentPort.on('message', (message) => {
  if (Array.isArray(message)) held.set(message[0], message[1])
  else for (const pin of message.letGo) held.delete(pin)
})
`

export class Keeper {
  readonly #logger: Logger
  #thread: Worker | null = null
  #letGo: number[] = []
  #flushQueued = false

  constructor(logger: Logger) {
    this.#logger = logger
  }

  /** Hands `buffer` to the keeper under `pin`; it is detached here, its bytes stay where they are. */
  hold(pin: number, buffer: ArrayBuffer): void {
    this.#started().postMessage([pin, buffer], [buffer])
  }

  /** No one needs the memory of `pin` any more. Sent once per turn of this thread's event loop. */
  letGo(pin: number): void {
    this.#letGo.push(pin)
    if (!this.#flushQueued) {
      this.#flushQueued = true
      queueMicrotask(this.#flush)
    }
  }

  /** Drops everything at once (the thread ends): only once nothing can view the memory. */
  close(): void {
    this.#letGo = []
    const thread = this.#thread
    this.#thread = null
    void thread?.terminate()
  }

  readonly #flush = (): void => {
    this.#flushQueued = false
    if (this.#letGo.length === 0) return
    this.#thread?.postMessage({ letGo: this.#letGo })
    this.#letGo = []
  }

  #started(): Worker {
    if (this.#thread === null) {
      // No flags of the producer's (a loader, a profiler): the keeper runs only the code above.
      const thread = new Worker(SOURCE, { eval: true, execArgv: [] })
      // It never keeps the process alive: it only holds memory for tasks that do.
      thread.unref()
      thread.on('error', (error) => {
        // Nothing in the keeper throws; if it ever does, its memory goes with it, while workers
        // may still view some. Say so plainly: later moved tasks get a new keeper.
        this.#logger.error('the thread holding moved buffers failed; tasks in flight may read freed memory', error)
        if (this.#thread === thread) this.#thread = null
      })
      this.#thread = thread
    }
    return this.#thread
  }
}
