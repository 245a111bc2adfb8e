import { describe, expect, it } from 'vitest';
import { MAX_TRACKED_BEACON_SOURCES } from '../../src/discovery/beacon-filter.js';
import { ConflictReports } from '../../src/discovery/conflict-reports.js';

describe('ConflictReports', () => {
  it('reports an address once while it keeps being heard', () => {
    const reports = new ConflictReports(3);
    expect(reports.heardFrom('10.0.0.2:4000')).toBe(true);
    for (let i = 0; i < 10; i++) {
      expect(reports.heardFrom(`10.0.0.66:${i + 1}`)).toBe(true);
      // Heard between the others, the real copy stays among the most recently heard.
      expect(reports.heardFrom('10.0.0.2:4000')).toBe(false);
    }
  });

  it('still reports a real copy of our identity after a flood of invented addresses', () => {
    const reports = new ConflictReports();
    for (let port = 1; port <= MAX_TRACKED_BEACON_SOURCES + 100; port++)
      reports.heardFrom(`10.0.0.66:${port}`);
    expect(reports.heardFrom('10.0.0.2:4000')).toBe(true);
    expect(reports.heardFrom('10.0.0.2:4000')).toBe(false);
  });

  it('reports again an address pushed out by as many others as it remembers', () => {
    const reports = new ConflictReports(2);
    reports.heardFrom('a:1');
    reports.heardFrom('b:1');
    reports.heardFrom('c:1');
    expect(reports.heardFrom('a:1')).toBe(true);
    expect(reports.heardFrom('c:1')).toBe(false);
  });
});
