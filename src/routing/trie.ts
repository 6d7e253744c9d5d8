/**
 * A byte trie keyed by subscription topics, for prefix matching on a
 * message's first frame (RFC 29: the empty topic matches everything).
 */

interface Node<V> {
  value: V | undefined
  children: Map<number, Node<V>> | undefined
}

export class Trie<V> {
  private readonly root: Node<V> = { value: undefined, children: undefined }
  /** Number of topics holding a value. */
  size = 0

  get(topic: Uint8Array): V | undefined {
    return this.find(topic)?.value
  }

  set(topic: Uint8Array, value: V): void {
    let node = this.root
    for (const byte of topic) {
      node.children ??= new Map()
      let next = node.children.get(byte)
      if (next === undefined) {
        next = { value: undefined, children: undefined }
        node.children.set(byte, next)
      }
      node = next
    }
    if (node.value === undefined) this.size++
    node.value = value
  }

  /** Removes a topic's value and prunes the nodes left empty. */
  delete(topic: Uint8Array): void {
    const path: Node<V>[] = [this.root]
    let node: Node<V> | undefined = this.root
    for (const byte of topic) {
      node = node.children?.get(byte)
      if (node === undefined) return
      path.push(node)
    }
    if (node.value === undefined) return
    node.value = undefined
    this.size--
    for (let i = topic.length; i > 0; i--) {
      const child = path[i]!
      if (child.value !== undefined || (child.children !== undefined && child.children.size > 0)) break
      path[i - 1]!.children!.delete(topic[i - 1]!)
    }
  }

  /** Appends to `out` the value of every topic that is a prefix of `data`, shortest first. */
  collectPrefixes(data: Uint8Array, out: V[]): void {
    let node: Node<V> | undefined = this.root
    let i = 0
    for (;;) {
      if (node.value !== undefined) out.push(node.value)
      if (i === data.length || node.children === undefined) return
      node = node.children.get(data[i++]!)
      if (node === undefined) return
    }
  }

  /** True when some topic is a prefix of `data`. */
  matches(data: Uint8Array): boolean {
    let node: Node<V> | undefined = this.root
    let i = 0
    for (;;) {
      if (node.value !== undefined) return true
      if (i === data.length || node.children === undefined) return false
      node = node.children.get(data[i++]!)
      if (node === undefined) return false
    }
  }

  /** Every topic with its value. */
  *entries(): Generator<[Buffer, V]> {
    const stack: Array<[Node<V>, number[]]> = [[this.root, []]]
    while (stack.length > 0) {
      const [node, key] = stack.pop()!
      if (node.value !== undefined) yield [Buffer.from(key), node.value]
      if (node.children !== undefined) for (const [byte, child] of node.children) stack.push([child, [...key, byte]])
    }
  }

  private find(topic: Uint8Array): Node<V> | undefined {
    let node: Node<V> | undefined = this.root
    for (const byte of topic) {
      node = node.children?.get(byte)
      if (node === undefined) return undefined
    }
    return node
  }
}
