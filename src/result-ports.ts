// The producer's ends of the ports on which worker threads send back the results their tasks
// marked with move(), and the messages they post: the buffers are transferred, and the task's
// outcome (through the engine) only names the message. Outcomes are decoded on this thread after
// the worker posted, so the message is always waiting: it is taken synchronously.

import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads'

import { detach } from './buffer-list'
import { decode } from './codec'
import { encodeTransfer } from './transfer-codec'
import { isExactBuffer } from './view-types'

/**
 * What a worker posts: its sequence number, then either a lone moved buffer or view, itself (and
 * whether it is a Buffer, which a structured clone makes a Uint8Array), or any other value
 * encoded by the codec, with the buffers it moves.
 */
export type PortedMessage =
  | [sequence: number, lone: ArrayBuffer | ArrayBufferView, isBuffer: boolean]
  | [sequence: number, encoded: string | Uint8Array, buffers: ArrayBuffer[]]

/** Encodings up to this size cross as a latin1 string (below); larger ones as bytes of their own. */
const STRING_BYTES = 64 << 10

/** The message that moves `value` back, moving `transfer`, and what to transfer with it (in the worker). */
export function portedMessage(sequence: number, value: unknown, transfer: ArrayBuffer[]): { message: PortedMessage; transferList: ArrayBuffer[] } {
  if (transfer.length === 1 && (value === transfer[0] || (ArrayBuffer.isView(value) && value.buffer === transfer[0]))) {
    if (isExactBuffer(value) && (value as Buffer).byteLength < (value as Buffer).buffer.byteLength) return bufferWindow(sequence, value as Buffer, transfer[0]!)
    // The usual case, move(tensor), as cheap as postMessage makes it.
    return { message: [sequence, value as ArrayBuffer | ArrayBufferView, isExactBuffer(value)], transferList: transfer }
  }
  const encoded = encodeTransfer(value, transfer, transfer.map((_, pin) => pin))
  // A short string crosses in the receiver's heap, where bytes would cost each message a buffer
  // of its own; past that, bytes are cheaper than a string's copies, and strings have a limit
  // (512 MiB) that a value does not.
  if (encoded.length <= STRING_BYTES) return { message: [sequence, encoded.toString('latin1'), transfer], transferList: transfer }
  const own = encoded.byteOffset === 0 && encoded.buffer.byteLength === encoded.length ? encoded : Uint8Array.from(encoded)
  return { message: [sequence, own, transfer], transferList: [...transfer, own.buffer as ArrayBuffer] }
}

/**
 * A Buffer over part of its ArrayBuffer may be a small one from Node's pool, shared with this
 * worker's other small Buffers (other tasks' data among them), which Node cannot detach: posted,
 * it would be cloned whole. Node 20 cannot say which buffers are pooled, but moving one shows it
 * (`detach`), and the move was wanted anyway. A pooled Buffer then crosses as its own bytes alone.
 */
function bufferWindow(sequence: number, value: Buffer, buffer: ArrayBuffer): { message: PortedMessage; transferList: ArrayBuffer[] } {
  const { byteOffset, byteLength } = value
  const moved = detach(buffer)
  if (moved.detached) return { message: [sequence, new Uint8Array(moved.buffer, byteOffset, byteLength), true], transferList: [moved.buffer] }
  const own = new Uint8Array(moved.buffer, byteOffset, byteLength).slice()
  return { message: [sequence, own, true], transferList: [own.buffer] }
}

/** The value a ported message carries (in the producer). */
function valueOf(message: PortedMessage): unknown {
  if (!Array.isArray(message[2])) {
    const [, lone, isBuffer] = message as [number, ArrayBuffer | ArrayBufferView, boolean]
    return isBuffer && ArrayBuffer.isView(lone) ? Buffer.from(lone.buffer, lone.byteOffset, lone.byteLength) : lone
  }
  const [, encoded, buffers] = message as [number, string | Uint8Array, ArrayBuffer[]]
  const bytes = typeof encoded === 'string' ? Buffer.from(encoded, 'latin1') : encoded
  return decode(bytes, 0, bytes.length, (pins) => pins.map((pin) => buffers[pin]!))
}

export class ResultPorts {
  readonly #open = new Map<number, MessagePort>()
  /** Messages left on the ports of exited workers, until their outcomes have surely been decoded. */
  readonly #drained = new Map<number, { messages: Map<number, PortedMessage>; until: number }>()
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
    const left = drained?.messages.get(sequence)
    if (left !== undefined) {
      drained!.messages.delete(sequence)
      return valueOf(left)
    }
    const port = this.#open.get(workerId)
    for (let received = port && receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port!)) {
      const message = received.message as PortedMessage
      // An earlier message is a result whose outcome never came (the worker died in between).
      if (message[0] === sequence) return valueOf(message)
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
    const messages = new Map<number, PortedMessage>()
    for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
      const message = received.message as PortedMessage
      messages.set(message[0], message)
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
