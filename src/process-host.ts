// Spawns worker processes for ProcessPoolHandler and PoolHandler and adapts them to the
// supervisor's WorkerHandle. Each child talks to the engine over a socket pair: this event loop
// reads the producer's end and feeds what it reads to the engine, which answers on the socket
// itself. The IPC channel carries only the start message.

import { type ChildProcess, spawn } from 'node:child_process'
import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net'
import { join } from 'node:path'
import type { ResourceLimits } from 'node:worker_threads'

import { fromErrorRecord } from './error-record'
import { inheritableExecArgv, inheritableNodeOptions } from './exec-argv'
import { type ChildChannelType, FeedResult, type NativePoolType } from './native'
import { type Spawner, StartFailure, type WorkerExit, type WorkerHandle } from './supervisor'
import type { TargetSpec } from './target'
import type { ProcessInit } from './worker/process-entry'
import type { StartMessage } from './worker/start'

const ENTRY = join(__dirname, 'worker', 'process-entry.js')

/** How much of a child's socket one read takes (what libuv reads at a time for a 'data' event). */
const READ_BUFFER_BYTES = 64 * 1024

/** The descriptor number at which each child finds the engine's socket. */
const CHANNEL_FD = 3

/**
 * How long a child's exit waits for the rest of what it wrote to be read. Its end of the socket
 * closes with it, so this only matters if a process it started inherited the socket anyway.
 */
const DRAIN_AFTER_EXIT_MS = 1000

/** Settings applied to every worker process. */
export interface ProcessSettings {
  execArgv?: string[] | undefined
  resourceLimits?: ResourceLimits | undefined
}

/** Node flags equivalent to the V8 limits a worker thread would get. */
export function limitFlags(limits: ResourceLimits | undefined): string[] {
  if (limits === undefined) return []
  const flags: string[] = []
  if (limits.maxOldGenerationSizeMb !== undefined) flags.push(`--max-old-space-size=${limits.maxOldGenerationSizeMb}`)
  if (limits.stackSizeMb !== undefined) flags.push(`--stack-size=${Math.floor(limits.stackSizeMb * 1024)}`)
  return flags
}

function exitOf(child: ChildProcess): Promise<WorkerExit> {
  return new Promise((resolve) => {
    let done = false
    const finish = (exit: WorkerExit): void => {
      if (done) return
      done = true
      resolve(exit)
    }
    child.once('exit', (code, signal) => finish({ code, signal }))
    // A spawn that fails (no such executable, too many processes) emits 'error' and maybe no 'exit'.
    child.once('error', (error) => {
      if (child.pid === undefined) finish({ code: null, signal: null, error })
    })
  })
}

/**
 * Reads the child's frames into the engine until its end closes; returns the reading socket.
 * Outcomes they report are collected at once, on this turn of the event loop. A child that
 * breaks the protocol is killed.
 */
function readChannel(channel: ChildChannelType, child: ChildProcess, collect: () => void): Socket {
  // Every read lands in this one buffer, handed to the engine (which copies what it keeps) before
  // the next: a 'data' event would allocate 64 KiB and go through the stream machinery for each
  // read, which was a fifth of the producer's time per round trip.
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES)
  // Returns whether to keep reading (`false` would pause the socket).
  const onRead = (length: number): boolean => {
    const fed = channel.feed(length === buffer.length ? buffer : buffer.subarray(0, length))
    if (fed === FeedResult.Broken) {
      child.kill('SIGKILL')
      socket.destroy()
    }
    // Outcomes before the broken frame count too.
    if (fed !== FeedResult.Fed) collect()
    return true
  }
  // Node has taken `onread` in the Socket constructor since 12.10; the @types/node in use types
  // it only on connect().
  const options: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd: channel.readerFd,
    readable: true,
    writable: false,
    onread: { buffer, callback: onRead },
  }
  const socket = new Socket(options)
  // The child process keeps the producer alive (or not: see setRef), never its socket.
  socket.unref()
  // A reset socket means the child is gone; its exit reports that.
  socket.on('error', () => {})
  return socket
}

/**
 * The child's exit, reported once what it wrote before exiting has been read, so that every
 * outcome it sent counts.
 */
async function exitAfterDrain(child: ChildProcess, channel: ChildChannelType, socket: Socket): Promise<WorkerExit> {
  const drained = new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())))
  const exit = await exitOf(child)
  let timer: NodeJS.Timeout | undefined
  // The timer keeps this process alive until the socket is drained: once the child has exited,
  // nothing else may (its handle is closed and the socket is unref'd), and the end of the socket
  // can come after the exit, with outcomes or a stop() still waiting on it. Unref'd, the process
  // could end there, silently, with a stop() or a task never settled.
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, DRAIN_AFTER_EXIT_MS)
  })
  await Promise.race([drained, late])
  clearTimeout(timer)
  socket.destroy()
  channel.close()
  return exit
}

/**
 * The environment of a new child: this process's, with NODE_OPTIONS cut as execArgv is unless
 * the user gave execArgv (then what they set is theirs). Read at each spawn, as spawn() would.
 */
function childEnv(execArgvGiven: boolean): NodeJS.ProcessEnv {
  const nodeOptions = process.env.NODE_OPTIONS
  if (execArgvGiven || nodeOptions === undefined) return process.env
  const kept = inheritableNodeOptions(nodeOptions)
  return kept === nodeOptions ? process.env : { ...process.env, NODE_OPTIONS: kept }
}

/** A spawner of worker processes served by `native`, running `target`. */
export function processSpawner(native: NativePoolType, target: TargetSpec, settings: ProcessSettings, collect: () => void): Spawner {
  const execArgv = [...(settings.execArgv ?? inheritableExecArgv(process.execArgv)), ...limitFlags(settings.resourceLimits)]
  return (slot, workerId): WorkerHandle => {
    const channel = native.openChannel(workerId)
    let child: ChildProcess
    try {
      child = spawn(process.execPath, [...execArgv, ENTRY], {
        stdio: ['ignore', 'inherit', 'inherit', channel.childFd, 'ipc'],
        env: childEnv(settings.execArgv !== undefined),
        windowsHide: true,
      })
    } catch (error) {
      native.closeChannelFd(channel.readerFd)
      channel.close()
      throw error
    } finally {
      native.closeChannelFd(channel.childFd) // the child has its own copy now
    }
    if (child.pid !== undefined) {
      channel.setPid(child.pid)
      // Once Node has reaped it, its pid may be another process's.
      child.once('exit', () => channel.exited())
    }
    const exited = exitAfterDrain(child, channel, readChannel(channel, child, collect))
    const ready = new Promise<void>((resolve, reject) => {
      child.once('message', (message: StartMessage) => {
        if (message.type === 'ready') resolve()
        else reject(new StartFailure(message.stage, fromErrorRecord(message.error)))
      })
      void exited.then((exit) => {
        const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
        const cause = exit.error instanceof Error ? `: ${exit.error.message}` : ''
        reject(new StartFailure('load', new Error(`the worker process ${how} while starting${cause}`, { cause: exit.error })))
      })
    })
    const init: ProcessInit = { type: 'init', slot, fd: CHANNEL_FD, target }
    child.send(init)
    return {
      ready,
      exited,
      kill: () => void child.kill('SIGKILL'),
      setRef: (ref) => (ref ? child.ref() : child.unref()),
    }
  }
}
