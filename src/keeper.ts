// Where the memory of moved buffers lives while pinned, and how it is freed; why, in pins.ts.
//
// In flight, a buffer sits in a message on a MessageChannel of this thread that nothing reads (a
// lot, shared by up to LOT_BUFFERS buffers or LOT_BYTES): transferring it there detaches it from
// this thread's heap and keeps its bytes where they are. The channel belongs to this thread, so
// the memory outlives every worker even when the process exits mid-task (Node stops the worker
// threads before it lets this thread's handles go).
//
// Once every buffer of a lot is let go, the lot's receiving port goes to the keeper, a small
// thread that takes the messages off it and drops them: its garbage collector frees the memory
// later, in batches, which is what keeps glibc reusing it. Freed at once instead (closing the
// lot here), each new 1 MiB array of the producer became a fresh mapping from the kernel.

import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads'

import type { Logger } from './logger'

const LOT_BUFFERS = 16
const LOT_BYTES = 16 << 20

// Each message is a port whose messages (buffers no one views any more) are to be dropped.
const KEEPER_SOURCE = `
const { parentPort, receiveMessageOnPort } = require('node:worker_threads')
parentPort.on('message', (lot) => {
  while (receiveMessageOnPort(lot) !== undefined);
  lot.close()
})
`

/** A channel holding parked buffers, and how many of them are still pinned. */
export interface Lot {
  readonly sender: MessagePort
  readonly holder: MessagePort
  parked: number
  bytes: number
  live: number
}

export class Keeper {
  readonly #logger: Logger
  #filling: Lot | null = null
  /** Lots still holding pinned buffers. */
  readonly #lots = new Set<Lot>()
  #thread: Worker | null = null

  constructor(logger: Logger) {
    this.#logger = logger
  }

  /** Parks `buffer` (detaching it here; its bytes stay where they are); returns its lot. */
  park(buffer: ArrayBuffer): Lot {
    let lot = this.#filling
    const length = buffer.byteLength
    if (lot === null || lot.parked >= LOT_BUFFERS || lot.bytes + length > LOT_BYTES) {
      const { port1, port2 } = new MessageChannel()
      // Never started, so neither port keeps the event loop alive; unref says so.
      port1.unref()
      port2.unref()
      lot = { sender: port1, holder: port2, parked: 0, bytes: 0, live: 0 }
      this.#lots.add(lot)
      this.#filling = lot
    }
    lot.sender.postMessage(buffer, [buffer])
    lot.parked++
    lot.bytes += length
    lot.live++
    return lot
  }

  /** One buffer of `lot` is let go; once all are, the lot's memory is freed (by the keeper). */
  letGo(lot: Lot): void {
    if (--lot.live > 0) return
    if (this.#filling === lot) this.#filling = null
    this.#lots.delete(lot)
    lot.sender.close()
    try {
      this.#started().postMessage(lot.holder, [lot.holder])
    } catch (error) {
      // No keeper thread (the system refused one): free the memory here, at once.
      this.#logger.warn('could not start the thread that frees moved buffers; freeing them on the main thread', error)
      lot.holder.close()
    }
  }

  /** Frees everything: only once no worker can view any of the memory (all have exited). */
  close(): void {
    for (const lot of this.#lots) {
      lot.sender.close()
      lot.holder.close()
    }
    this.#lots.clear()
    this.#filling = null
    const thread = this.#thread
    this.#thread = null
    void thread?.terminate()
  }

  #started(): Worker {
    if (this.#thread === null) {
      // No flags of the producer's (a loader, a profiler): the keeper runs only the code above.
      const thread = new Worker(KEEPER_SOURCE, { eval: true, execArgv: [] })
      // It never keeps the process alive: what it holds is only waiting to be freed.
      thread.unref()
      thread.on('error', (error) => {
        // Only memory no worker views is lost with it; the next lot starts a new keeper.
        this.#logger.warn('the thread that frees moved buffers failed; a new one takes over', error)
        if (this.#thread === thread) this.#thread = null
      })
      this.#thread = thread
    }
    return this.#thread
  }
}
