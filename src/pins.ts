// Buffers moved to workers instead of copied. The producer keeps each alive, untouched, under a pin
// number. A pinned buffer is let go once two things hold: no worker views its memory any more (the
// worker gave the pin back), and its task is finished here (the producer may still need to decode
// the task's arguments, for handleError or a report, until then). A task that never reached a
// worker lets its buffers go as soon as it finishes.
//
// Letting go leaves the memory to the garbage collector, which frees backing stores on a
// background thread. Freeing at once (detaching) was tried: the producer then paid for every
// unmap and the fresh page faults of the next allocation, and moved 40% fewer tasks per second.

import { NativePool } from './native'

/** What the engine needs of one pinned buffer: where its bytes are, and its pin. */
export interface PinnedBuffer {
  pin: number
  address: number
  length: number
}

type Transferable = ArrayBuffer & { transfer?: () => ArrayBuffer }

/** A new ArrayBuffer owning `buffer`'s memory, `buffer` detached. `transfer()` (Node 22+) is cheaper. */
function detachInto(buffer: Transferable): ArrayBuffer {
  return typeof buffer.transfer === 'function' ? buffer.transfer() : structuredClone(buffer, { transfer: [buffer] })
}

export class Pins {
  readonly #buffers = new Map<number, ArrayBuffer>()
  /** The pins of each live task, and the task of each of its pins. */
  readonly #byTask = new Map<number, number[]>()
  readonly #taskOf = new Map<number, number>()
  /** Pins of live tasks that their worker already gave back. */
  readonly #givenBack = new Set<number>()
  #next = 1

  /**
   * Moves `buffer` into one that only this registry holds (the caller's is detached, as by
   * `postMessage`; nothing is copied) and pins it.
   */
  moveIn(buffer: ArrayBuffer): PinnedBuffer {
    const moved = detachInto(buffer)
    const pin = this.#next
    this.#next = this.#next === 0xffffffff ? 1 : this.#next + 1
    this.#buffers.set(pin, moved)
    return { pin, address: NativePool.addressOf(moved), length: moved.byteLength }
  }

  /** The next pins `moveIn` will give, so that they can be encoded before anything is moved. */
  peek(count: number): number[] {
    return Array.from({ length: count }, (_, i) => ((this.#next + i - 1) % 0xffffffff) + 1)
  }

  /** Task `task` owns `pins`. */
  own(task: number, pins: number[]): void {
    if (pins.length === 0) return
    this.#byTask.set(task, pins)
    for (const pin of pins) this.#taskOf.set(pin, task)
  }

  /** The pinned buffers, to decode a moved value in this thread (views share their memory). */
  readonly resolve = (pins: number[]): ArrayBuffer[] =>
    pins.map((pin) => {
      const buffer = this.#buffers.get(pin)
      if (buffer === undefined) throw new Error(`internal: pin ${pin} was released`)
      return buffer
    })

  /** A worker gave `pin` back: no view of its memory is left in that worker. */
  givenBack(pin: number): void {
    if (this.#taskOf.has(pin)) this.#givenBack.add(pin)
    else this.#buffers.delete(pin)
  }

  /** Task `task` is finished here; `reachedWorker` says whether a worker was ever handed it. */
  finished(task: number, reachedWorker: boolean): void {
    const pins = this.#byTask.get(task)
    if (pins === undefined) return
    this.#byTask.delete(task)
    for (const pin of pins) {
      this.#taskOf.delete(pin)
      if (!reachedWorker || this.#givenBack.delete(pin)) this.#buffers.delete(pin)
      // else: its worker gives it back later, and givenBack() lets it go then
    }
  }

  /** Lets every buffer go: only once no worker can still view one (all have exited). */
  clear(): void {
    this.#buffers.clear()
    this.#byTask.clear()
    this.#taskOf.clear()
    this.#givenBack.clear()
  }

  get size(): number {
    return this.#buffers.size
  }
}
