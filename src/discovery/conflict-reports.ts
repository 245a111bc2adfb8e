import { MAX_TRACKED_BEACON_SOURCES } from './beacon-filter.js';

/**
 * Which addresses announcing our node id have been reported: each is reported once while it keeps
 * being heard. Only the most recently heard addresses are remembered, so a flood of invented ones
 * cannot fill the table for good and silence the report of a real copy of our identity; an address
 * pushed out by that many others is reported again when next heard.
 */
export class ConflictReports {
  /** Least recently heard first. */
  private readonly heard = new Set<string>();

  /** How many addresses are remembered; default MAX_TRACKED_BEACON_SOURCES, like the beacon filter's tables. */
  constructor(private readonly capacity: number = MAX_TRACKED_BEACON_SOURCES) {}

  /** Records a beacon with our id from `address`; true if that address is to be reported now. */
  heardFrom(address: string): boolean {
    const known = this.heard.delete(address); // re-inserted last, as the most recently heard
    if (!known && this.heard.size >= this.capacity) {
      const oldest = this.heard.values().next().value;
      if (oldest !== undefined) this.heard.delete(oldest);
    }
    this.heard.add(address);
    return !known;
  }
}
