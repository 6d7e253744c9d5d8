/**
 * A group's leases in deadline order: every lease of a group has the same
 * ackTimeout, so appending at renewal keeps the list sorted and one timer on
 * its head serves the whole group, with O(1) removal on ack.
 */
import type { Lease } from "./lease.js"

export class LeaseList {
  private head: Lease | undefined
  private tail: Lease | undefined
  size = 0

  get first(): Lease | undefined {
    return this.head
  }

  append(lease: Lease): void {
    lease.prev = this.tail
    lease.next = undefined
    if (this.tail === undefined) this.head = lease
    else this.tail.next = lease
    this.tail = lease
    lease.listed = true
    this.size++
  }

  remove(lease: Lease): void {
    if (!lease.listed) return
    if (lease.prev === undefined) this.head = lease.next
    else lease.prev.next = lease.next
    if (lease.next === undefined) this.tail = lease.prev
    else lease.next.prev = lease.prev
    lease.prev = lease.next = undefined
    lease.listed = false
    this.size--
  }
}
