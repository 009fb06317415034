// `qdmp run`: JSON lines in, a task per line on every core, JSON lines out, in constant memory
// (the map window bounds the lines between input and output). Ctrl-C stops reading and lets
// running tasks finish; a second Ctrl-C ends them at once.

import { once } from 'node:events'
import { createReadStream, createWriteStream, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'

import { ErrorCode, QdmpError } from '../errors'
import type { Handler } from '../handler'
import type { ErrorDecision, HandlerOptions } from '../options'
import { ProcessPoolHandler } from '../process-pool-handler'
import { ThreadPoolHandler } from '../thread-pool-handler'
import type { RunCommand } from './args'
import { type Counters, Progress } from './progress'
import { badLineRecord, failureRecord, jsonLine } from './records'

/** The streams and signals a run uses; the real process's in production, fakes in tests. */
export interface RunIO {
  stdin: Readable
  stdout: Writable
  stderr: Writable & { isTTY?: boolean }
  /** Registers the handler of Ctrl-C (and SIGTERM); returns a function that unregisters it. */
  onInterrupt(handler: () => void): () => void
}

/** A failure before any line ran: printed as `qdmp: <message>`, exit code 2. */
export class FatalError extends Error {
  override name = 'FatalError'
}

export const EXIT = { ok: 0, someFailed: 1, usage: 2, interrupted: 130 } as const

/** Writes, and when the stream's buffer is full waits until it drains (or fails, or closes). */
async function write(stream: Writable, text: string): Promise<void> {
  if (stream.write(text)) return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off('drain', done).off('error', done).off('close', done)
      resolve()
    }
    stream.on('drain', done).on('error', done).on('close', done)
  })
}

function openInput(path: string, io: RunIO): { stream: Readable; size: number | undefined } {
  if (path === '-') return { stream: io.stdin, size: undefined }
  const file = resolve(path)
  let size: number
  try {
    const stat = statSync(file)
    if (!stat.isFile()) throw new FatalError(`--input ${path} is not a file`)
    size = stat.size
  } catch (error) {
    if (error instanceof FatalError) throw error
    throw new FatalError(`cannot read --input ${path}: ${(error as Error).message}`)
  }
  return { stream: createReadStream(file), size }
}

async function openOutput(path: string, name: string, fallback: Writable): Promise<Writable> {
  if (path === '-') return fallback
  const stream = createWriteStream(resolve(path))
  try {
    await once(stream, 'open')
  } catch (error) {
    throw new FatalError(`cannot write --${name} ${path}: ${(error as Error).message}`)
  }
  return stream
}

/** Ends a file stream and waits until it is written; returns its error, if any. */
async function closeOutput(stream: Writable, fallback: Writable): Promise<Error | null> {
  if (stream === fallback) return null
  stream.end()
  try {
    await once(stream, 'finish')
    return null
  } catch (error) {
    return error as Error
  }
}

function makeHandler(command: RunCommand): Handler {
  const filename = resolve(command.module)
  try {
    statSync(filename)
  } catch {
    throw new FatalError(`cannot find the module ${command.module} (looked for ${filename})`)
  }
  const target = command.exportName === undefined ? filename : { filename, name: command.exportName }
  const options: HandlerOptions = {
    ...(command.timeout !== undefined ? { taskTimeout: command.timeout } : {}),
    ...(command.retries > 0
      ? { maxRetries: command.retries, handleError: (_error: Error, args: unknown): ErrorDecision => [true, args, null] }
      : {}),
  }
  return command.pool === 'process' ? new ProcessPoolHandler(target, options) : new ThreadPoolHandler(target, options)
}

/** Runs `qdmp run` and resolves with the exit code. Throws {@link FatalError} for what stops it from starting. */
export async function runCommand(command: RunCommand, io: RunIO): Promise<number> {
  const handler = makeHandler(command)
  const input = openInput(command.input, io)
  // The module loads before any output file is opened (and truncated).
  try {
    await handler.start(command.workers)
  } catch (error) {
    input.stream.destroy()
    throw new FatalError((error as Error).message)
  }
  let output: Writable
  let errors: Writable
  try {
    output = await openOutput(command.output, 'output', io.stdout)
    errors = command.errors === undefined ? io.stderr : await openOutput(command.errors, 'errors', io.stderr)
  } catch (error) {
    input.stream.destroy()
    await handler.stop()
    throw error
  }

  const counters: Counters = { done: 0, failed: 0, bytesRead: 0 }
  const showProgress = command.progress ?? io.stderr.isTTY === true
  const progress = showProgress ? new Progress(io.stderr, counters, input.size) : null
  // A write error on an output stops writing to it and is reported at the end, except a reader
  // that went away (`| head`), which ends the run quietly, as it does for other Unix tools.
  const failures = new Map<Writable, Error>()
  let quietlyClosed = false
  const put = async (stream: Writable, text: string): Promise<void> => {
    if (!failures.has(stream) && !(stream === output && quietlyClosed)) await write(stream, text)
  }
  const report = async (record: string): Promise<void> => {
    counters.failed++
    if (errors === io.stderr) progress?.clear()
    await put(errors, record)
  }

  const lines = createInterface({ input: input.stream, crlfDelay: Number.POSITIVE_INFINITY })
  const reader = lines[Symbol.asyncIterator]()
  let interrupts = 0
  let lastLineRead = 0
  /** The map is waiting for a line: stopping now would fail the batch it is gathering. */
  let reading = false
  let stopping = false
  const stopGracefully = (): void => {
    if (stopping) return
    stopping = true
    void handler.stop()
  }
  // Ctrl-C: stop reading, let running tasks finish and report the queued ones; again: end the
  // running ones too. A graceful stop waits until the source has ended, so that the lines the map
  // was gathering are queued (and reported as cancelled), not lost.
  const interrupt = (): void => {
    interrupts++
    lines.close()
    if (interrupts > 1) void handler.stop({ force: true })
    else if (!reading) stopGracefully()
  }
  const stopListening = io.onInterrupt(interrupt)
  output.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') quietlyClosed = true
    else if (!failures.has(output)) failures.set(output, error)
    lines.close()
    void handler.stop({ force: true })
  })
  if (errors !== output) errors.on('error', (error: Error) => void (failures.has(errors) || failures.set(errors, error)))
  const outputClosed = (): boolean => quietlyClosed || failures.has(output)

  // Lines of the input that became tasks: map index -> line number, while in flight.
  const lineOf = new Map<number, number>()
  let tasks = 0
  async function* argumentsOf(): AsyncGenerator<unknown> {
    try {
      for (;;) {
        if (interrupts > 0 || outputClosed()) return
        reading = true
        const step = await reader.next()
        reading = false
        if (step.done === true || interrupts > 0) return
        const text = step.value
        const line = ++lastLineRead
        counters.bytesRead += Buffer.byteLength(text) + 1
        if (text.trim() === '') continue
        let args: unknown
        try {
          args = JSON.parse(text)
        } catch (error) {
          // Awaited here, so a file of nothing but bad lines is read no faster than it is reported.
          await report(badLineRecord(line, text, error))
          continue
        }
        lineOf.set(tasks++, line)
        yield args
      }
    } finally {
      reading = false
      // After the lines gathered so far are queued (the map queues them when this returns).
      if (interrupts === 1) setImmediate(stopGracefully)
    }
  }

  try {
    const outcomes = handler.mapSettled(argumentsOf(), { ordered: command.ordered, ...(command.window !== undefined ? { window: command.window } : {}) })
    for await (const outcome of outcomes) {
      const line = lineOf.get(outcome.index)!
      lineOf.delete(outcome.index)
      if (quietlyClosed) continue // nobody reads the results any more: nothing to report either
      if (outcome.status === 'fulfilled') {
        counters.done++
        await put(output, jsonLine(outcome.value))
      } else if (outcome.status === 'rejected') {
        await report(failureRecord(line, outcome.reason))
      }
    }
  } catch (error) {
    // Stopping the handler under a running map ends it; anything else is a bug worth showing.
    if (!((interrupts > 0 || outputClosed()) && error instanceof QdmpError && (error.code === ErrorCode.Stopped || error.code === ErrorCode.Cancelled))) throw error
  } finally {
    stopListening()
    lines.close()
    input.stream.destroy()
    await handler.stop()
  }
  progress?.finish(interrupts > 0)
  if (interrupts > 0) io.stderr.write(`qdmp: interrupted; input after line ${lastLineRead} was not read\n`)
  for (const [stream, name] of [[output, 'output'], [errors, 'errors']] as const) {
    const closing = quietlyClosed && stream === output ? null : await closeOutput(stream, stream === output ? io.stdout : io.stderr)
    const failure = failures.get(stream) ?? closing
    if (failure !== undefined && failure !== null) {
      io.stderr.write(`qdmp: writing the ${name} failed: ${failure.message}; what was not written is lost\n`)
      return EXIT.someFailed
    }
  }
  if (interrupts > 0) return EXIT.interrupted
  return counters.failed > 0 || quietlyClosed ? EXIT.someFailed : EXIT.ok
}
