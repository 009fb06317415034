// A map from integer keys that mostly arrive in increasing order and leave soon after: task ids,
// positions in a map() run. Recent keys live in a ring of slots allocated once, so a steady
// stream of them allocates nothing; a key still present when the ring needs its slot first makes
// the ring grow (up to a cap), then moves to a Map, which only stragglers (a long task among
// millions of short ones) and keys set once the ring has moved past them ever use.
//
// Why not a Map alone: under a steady churn of sets and deletes a Map rebuilds its table every
// few thousand operations, and each new table outlives a scavenge or two while it is young. On
// an endless map() those survivors made V8 grow the producer's young generation to its largest
// size, some 24 MB more resident memory (bench/README.md, "Endless stream"). For the same
// reason numbers are kept unboxed: a result waiting its turn as a heap number is such a survivor.

const FIRST_CAPACITY = 16

/** What a ring slot holds. */
const EMPTY = 0
const VALUE = 1
const NUMBER = 2

export class IdTable<T> {
  /** The ring covers keys low .. low + capacity - 1; key k sits at slot k % capacity. */
  #low = 0
  #values: (T | undefined)[] = new Array<T | undefined>(FIRST_CAPACITY).fill(undefined)
  /** The numbers among the values, unboxed. */
  #numbers = new Float64Array(FIRST_CAPACITY)
  /** EMPTY, VALUE or NUMBER for each slot. */
  #present = new Uint8Array(FIRST_CAPACITY)
  /** How many ring slots are in use. */
  #inRing = 0
  /** Keys that fell behind the ring while still present. */
  readonly #behind = new Map<number, T>()
  readonly #maxCapacity: number

  /**
   * `maxCapacity`: the largest ring, rounded up to a power of two; present keys further apart
   * than that spill into a Map. The ring never shrinks: at most that many slots per table.
   */
  constructor(maxCapacity = 1 << 16) {
    let capacity = FIRST_CAPACITY
    while (capacity < maxCapacity) capacity *= 2
    this.#maxCapacity = capacity
  }

  get size(): number {
    return this.#inRing + this.#behind.size
  }

  has(key: number): boolean {
    if (this.#inWindow(key)) return this.#present[key % this.#values.length] !== EMPTY
    return this.#behind.has(key)
  }

  get(key: number): T | undefined {
    if (!this.#inWindow(key)) return this.#behind.get(key)
    const slot = key % this.#values.length
    return this.#present[slot] === NUMBER ? (this.#numbers[slot] as T) : this.#values[slot]
  }

  set(key: number, value: T): void {
    if (key < this.#low) {
      this.#behind.set(key, value)
      return
    }
    if (key >= this.#low + this.#values.length) this.#advance(key)
    const slot = key % this.#values.length
    if (this.#present[slot] === EMPTY) this.#inRing++
    this.#put(slot, value)
  }

  #put(slot: number, value: T): void {
    if (typeof value === 'number') {
      this.#numbers[slot] = value
      this.#present[slot] = NUMBER
      this.#values[slot] = undefined
    } else {
      this.#present[slot] = VALUE
      this.#values[slot] = value
    }
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: number): boolean {
    if (!this.#inWindow(key)) return this.#behind.delete(key)
    const slot = key % this.#values.length
    if (this.#present[slot] === EMPTY) return false
    this.#present[slot] = EMPTY
    this.#values[slot] = undefined
    this.#inRing--
    return true
  }

  /** Every key present, in no particular order. */
  keys(): number[] {
    const keys = [...this.#behind.keys()]
    const capacity = this.#values.length
    for (let key = this.#low; key < this.#low + capacity && keys.length < this.size; key++) {
      if (this.#present[key % capacity] !== EMPTY) keys.push(key)
    }
    return keys
  }

  clear(): void {
    this.#values.fill(undefined)
    this.#present.fill(0)
    this.#inRing = 0
    this.#behind.clear()
  }

  #inWindow(key: number): boolean {
    return key >= this.#low && key < this.#low + this.#values.length
  }

  /**
   * Moves the ring forward so that it ends at `key`, growing it first if that would evict keys
   * and a ring of the largest size would keep them (a key that far ahead evicts them anyway).
   */
  #advance(key: number): void {
    const growthHelps = key - this.#low < this.#maxCapacity
    while (growthHelps && this.#inRing > 0 && this.#values.length < this.#maxCapacity && this.#wouldEvict(key)) this.#grow()
    const capacity = this.#values.length
    const newLow = key - capacity + 1
    if (newLow <= this.#low) return
    // Keys below newLow leave the ring; only their slots need looking at, at most the whole ring.
    const end = Math.min(newLow, this.#low + capacity)
    for (let k = this.#low; k < end && this.#inRing > 0; k++) {
      const slot = k % capacity
      if (this.#present[slot] !== EMPTY) {
        this.#behind.set(k, this.#present[slot] === NUMBER ? (this.#numbers[slot] as T) : (this.#values[slot] as T))
        this.#present[slot] = EMPTY
        this.#values[slot] = undefined
        this.#inRing--
      }
    }
    this.#low = newLow
  }

  /** Whether moving the ring to end at `key` would push a present key out of it. */
  #wouldEvict(key: number): boolean {
    const capacity = this.#values.length
    const end = Math.min(key - capacity + 1, this.#low + capacity)
    for (let k = this.#low; k < end; k++) if (this.#present[k % capacity] !== EMPTY) return true
    return false
  }

  #grow(): void {
    const old = this.#values
    const oldNumbers = this.#numbers
    const oldPresent = this.#present
    const capacity = old.length * 2
    this.#values = new Array<T | undefined>(capacity).fill(undefined)
    this.#numbers = new Float64Array(capacity)
    this.#present = new Uint8Array(capacity)
    for (let k = this.#low; k < this.#low + old.length; k++) {
      const from = k % old.length
      if (oldPresent[from] !== EMPTY) this.#put(k % capacity, oldPresent[from] === NUMBER ? (oldNumbers[from] as T) : (old[from] as T))
    }
  }
}
