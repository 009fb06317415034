// The producer's ends of the ports on which worker threads send back the results their tasks
// marked with move(): the values cross as postMessage does, buffers transferred, and the task's
// outcome (through the engine) only names the message. Outcomes are decoded on this thread
// after the worker posted, so the message is always waiting: it is taken synchronously.

import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads'

/** What a worker posts: its sequence number and the value. */
export type PortedMessage = [sequence: number, value: unknown]

export class ResultPorts {
  readonly #open = new Map<number, MessagePort>()
  /** Messages left on the ports of exited workers, until their outcomes have surely been decoded. */
  readonly #drained = new Map<number, { messages: Map<number, unknown>; until: number }>()
  #collections = 0

  /** A port for worker `workerId` to post on (transfer it to the worker); this end stays here. */
  open(workerId: number): MessagePort {
    const { port1, port2 } = new MessageChannel()
    this.#open.set(workerId, port1)
    return port2
  }

  /** The value worker `workerId` posted as message `sequence`. */
  take(workerId: number, sequence: number): unknown {
    const drained = this.#drained.get(workerId)
    if (drained?.messages.has(sequence)) {
      const value = drained.messages.get(sequence)
      drained.messages.delete(sequence)
      return value
    }
    const port = this.#open.get(workerId)
    for (let received = port && receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port!)) {
      const [posted, value] = received.message as PortedMessage
      // An earlier message is a result whose outcome never came (the worker died in between).
      if (posted === sequence) return value
    }
    throw new Error(`internal: the result worker ${workerId} moved back as message ${sequence} is missing`)
  }

  /**
   * Worker `workerId` exited: keeps what it posted and closes the port. Its outcomes were queued
   * in the engine before the exit was reported, so they are decoded within the next collections.
   */
  closed(workerId: number): void {
    const port = this.#open.get(workerId)
    if (port === undefined) return
    this.#open.delete(workerId)
    const messages = new Map<number, unknown>()
    for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
      const [sequence, value] = received.message as PortedMessage
      messages.set(sequence, value)
    }
    port.close()
    if (messages.size > 0) this.#drained.set(workerId, { messages, until: this.#collections + 2 })
  }

  /** The handler collected outcomes: forgets messages of exited workers that no outcome claimed. */
  collected(): void {
    this.#collections++
    for (const [workerId, drained] of this.#drained) if (drained.until <= this.#collections) this.#drained.delete(workerId)
  }

  /** The handler stopped: every worker has exited and every outcome was decoded. */
  clear(): void {
    for (const port of this.#open.values()) port.close()
    this.#open.clear()
    this.#drained.clear()
  }
}
