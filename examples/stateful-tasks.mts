// State built once per worker, reused by every task it runs: a tokenizer vocabulary here.
// setup() runs in each worker (again in a replacement), tasks get (args, state, workerId).

/** Builds the worker's state: in real use, load a model or a vocabulary file once. */
export function setup(workerId: number): { vocabulary: Map<string, number>; workerId: number } {
  const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog']
  return { vocabulary: new Map(words.map((word, id) => [word, id])), workerId }
}

export class FileExistsError extends Error {
  override name = 'FileExistsError'
}

export class ValueError extends Error {
  override name = 'ValueError'
}

/** Encodes a sentence to token ids; fails on purpose for some inputs. */
export default function encode(sentence: string, state: ReturnType<typeof setup>): number[] {
  if (sentence === '') throw new ValueError('empty sentence')
  if (sentence.startsWith('!')) throw new FileExistsError(`output for "${sentence}" already exists`)
  return sentence.split(' ').map((word) => state.vocabulary.get(word) ?? -1)
}
